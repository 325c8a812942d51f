"""WhatsApp Cloud API channel: webhook (verify, parse, record, process) and the Graph API sender.

Shape of the channel::

    Meta ──POST /webhook/whatsapp──▶ verify X-Hub-Signature-256 on the RAW body (401 if bad)
                                     parse once into frozen WAMessage / WAStatus objects
                                     record each message durably (inbound_messages, 'received')
                                     apply statuses to outbox rows            ──▶ 200 at once
         per-user queue, ordered by the message timestamp (webhooks arrive out of order)
         download media ▶ Incoming ▶ Engine.handle ▶ WhatsAppSender.send_reply ▶ replies_sent
    a restart re-queues recorded-but-unprocessed messages and replays unsent replies

Running it alone: ``python bot.py whatsapp [--host H] [--port P] [--db PATH]`` (``main``).

Running it inside the shared ``bot.py serve`` server (one event loop with Telegram and the
scheduler)::

    from lingkaran.channels.whatsapp import WhatsAppChannel, WhatsAppConfig
    config = WhatsAppConfig.from_env()           # raises ConfigError naming missing variables
    wa = WhatsAppChannel(db, config, engine=engine, clock=utc_now)   # engine: track_replies=True
    routes = [*wa.routes, ...]                   # Route("/webhook/whatsapp", GET + POST)
    # in the Starlette lifespan: await wa.start() ... await wa.stop()
    dispatcher_senders["whatsapp"] = wa.sender   # channels.base.Sender for the outbox

``build_app(wa)`` gives a Starlette app with just this channel and that lifespan.

Outbound contract (``WhatsAppSender.send_outbound``): the 24 h customer-service window is checked
at send time from ``message.last_inbound_at``; inside it the rendered ``message.reply`` goes out
free-form, outside it (or when the row's params carry ``_force_template: true``, set by the status
handler after a 131047 failure) the approved template for ``msg_key`` from
``channels/data/whatsapp_templates.json`` is sent; no template → ``HoldMessage``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import heapq
import hmac
import itertools
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from handlers.engine import Engine, Incoming, Media, Reply, reply_from_dict
from handlers.i18n import N_, translator
from lingkaran.channels import uploads
from lingkaran.channels.base import (
    BodyTooLarge,
    ChannelAuthFailed,
    DeliveryError,
    HoldMessage,
    OutboundMessage,
    RetryLater,
    SendResult,
    Undeliverable,
    coalesce,
    read_body,
)
from lingkaran.channels.uploads import sniff_mime  # noqa: F401  (re-exported)
from lingkaran.settings import Settings
from lingkaran_core import outbox as outbox_policy
from lingkaran_core.clock import Clock
from lingkaran_core.logs import mask_text
from lingkaran_core.storage import Database, Tx, channel_repo
from lingkaran_core.storage import chats as chat_store
from lingkaran_core.storage.db import dumps, loads

logger = logging.getLogger(__name__)

CHANNEL = "whatsapp"
WEBHOOK_PATH = "/webhook/whatsapp"
DEFAULT_API_ROOT = "https://graph.facebook.com"
DEFAULT_API_VERSION = "v21.0"
TEMPLATES_FILE = Path(__file__).resolve().parent / "data" / "whatsapp_templates.json"

# Cloud API limits (TECH.md §3, Meta's interactive-list-messages reference).
TEXT_MAX = 4096
INTERACTIVE_BODY_MAX = 1024
BUTTONS_MAX = 3
BUTTON_TITLE_MAX = 20
BUTTON_ID_MAX = 256
LIST_ROWS_MAX = 10
ROW_TITLE_MAX = 24
ROW_DESCRIPTION_MAX = 72
ROW_ID_MAX = 200
LIST_BUTTON_MAX = 20
TEMPLATE_PARAM_MAX = 500

# What we accept from users: photos and PDFs for claims (ARCHITECTURE.md, claim documents).
MEDIA_MAX_BYTES = uploads.MAX_BYTES
VOICE_MAX_BYTES = 16 * 1024 * 1024  # WhatsApp's own audio cap
WEBHOOK_BODY_MAX = 1024 * 1024
# Meta's timestamps are seconds; some deliveries carry milliseconds (nyaruka/courier handles
# both). Before this, or more than a day after the receive time, a timestamp is absurd and the
# receive time is used instead.
EARLIEST_TIMESTAMP = 1_262_304_000  # 2010-01-01, before the Cloud API existed
MILLISECONDS_FROM = 100_000_000_000  # a seconds value this large would be the year 5138
FUTURE_SLACK = 86_400

# Meta error codes (TECH.md §3; pywa/errors.py names them).
RE_ENGAGEMENT = 131047
RETRY_CODES = frozenset({130429, 131056, 80007, 131048, 131000, 131016, 133004, 2, 4})
UNDELIVERABLE_CODES = frozenset({131026, 131051, 131030, 131021, 131009, 100, 190})
HOLD_CODES = frozenset({132001, 132015, 132016})

# User-facing texts of this adapter (msgids: Indonesian source text).
MSG_MEDIA_TOO_BIG = uploads.MSG_TOO_BIG
MSG_MEDIA_BAD_TYPE = uploads.MSG_WRONG_TYPE
MSG_MEDIA_FAILED = N_("Maaf, berkas Bapak/Ibu belum bisa kami ambil. Mohon kirim ulang.")
MSG_VOICE_RECEIVED = N_(
    "Terima kasih, pesan suara Bapak/Ibu sudah kami terima. Petugas akan mendengarkannya dan "
    "membalas di sini. Jika ingin lebih cepat, Bapak/Ibu juga bisa menulis pesan."
)
MSG_VOICE_FAILED = N_(
    "Maaf, pesan suara Bapak/Ibu belum bisa kami ambil. Mohon kirim ulang, atau tulis pesan."
)
MSG_LIST_BUTTON = N_("Pilih")


def masked_ref(user_ref: str) -> str:
    """A user ref for logs: only its last 4 characters (wa_ids are phone numbers)."""
    return "…" + user_ref[-4:]


# ---------------------------------------------------------------------------------------------
# Configuration


class ConfigError(Exception):
    """A required setting is missing."""


@dataclass(frozen=True, slots=True, kw_only=True)
class WhatsAppConfig:
    """Settings from the environment (ARCHITECTURE.md "Configuration")."""

    app_secret: str
    verify_token: str
    access_token: str
    phone_number_id: str
    api_root: str = DEFAULT_API_ROOT
    api_version: str = DEFAULT_API_VERSION
    max_body_bytes: int = WEBHOOK_BODY_MAX

    @classmethod
    def from_settings(cls, settings: Settings) -> WhatsAppConfig:
        """The WhatsApp part of the settings; ConfigError names every missing variable."""
        values = {
            "WHATSAPP_APP_SECRET": settings.whatsapp_app_secret,
            "WHATSAPP_VERIFY_TOKEN": settings.whatsapp_verify_token,
            "WHATSAPP_ACCESS_TOKEN": settings.whatsapp_access_token,
            "WHATSAPP_PHONE_NUMBER_ID": settings.whatsapp_phone_number_id,
        }
        missing = [k for k, v in values.items() if not v]
        if missing:
            raise ConfigError("missing environment variable(s): " + ", ".join(missing))

        def secret(value: SecretStr | str | None) -> str:
            if isinstance(value, SecretStr):
                return value.get_secret_value().strip()
            return (value or "").strip()

        return cls(
            app_secret=secret(settings.whatsapp_app_secret),
            verify_token=secret(settings.whatsapp_verify_token),
            access_token=secret(settings.whatsapp_access_token),
            phone_number_id=secret(settings.whatsapp_phone_number_id),
            api_root=settings.whatsapp_graph_api_base_url,
            api_version=settings.whatsapp_api_version,
            max_body_bytes=settings.max_body_bytes,
        )

    @property
    def api_base(self) -> str:
        """Root plus version, e.g. ``https://graph.facebook.com/v21.0``."""
        return f"{self.api_root.rstrip('/')}/{self.api_version}"


# ---------------------------------------------------------------------------------------------
# Signature (pywa/server.py checks it before anything else; TECH.md §3)


def sign(body: bytes, secret: str) -> str:
    """The ``X-Hub-Signature-256`` header value Meta sends for ``body``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(body: bytes, header: str | None, secret: str) -> bool:
    """True when ``header`` is the HMAC-SHA256 of the raw body keyed by the app secret."""
    if not header or not secret or not header.startswith("sha256="):
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header.removeprefix("sha256=").strip().lower())


# ---------------------------------------------------------------------------------------------
# Parsed webhook objects: built once at the edge, frozen (STYLE.md, pywa/types/message.py)

MessageKind = Literal[
    "text", "choice", "media", "voice", "contact", "location", "number_changed", "unsupported"
]


@dataclass(frozen=True, slots=True, kw_only=True)
class WAMessage:
    """One user message from a webhook, with the raw record kept for durable storage."""

    id: str
    user_ref: str
    timestamp: int
    kind: MessageKind
    text: str | None = None
    choice_id: str | None = None
    step_token: str | None = None
    context_id: str | None = None
    media_id: str | None = None
    media_mime: str | None = None
    media_kind: Literal["photo", "document", "voice"] | None = None
    filename: str | None = None
    contact_phone: str | None = None
    location: tuple[float, float] | None = None
    display_name: str | None = field(default=None, repr=False)
    unsupported: str | None = None
    record: str = field(default="{}", repr=False, compare=False)

    @property
    def received_at(self) -> datetime:
        """When the user sent it (Meta's timestamp, UTC; the receive time when that was absurd)."""
        return datetime.fromtimestamp(max(0, self.timestamp), UTC)


@dataclass(frozen=True, slots=True, kw_only=True)
class WAError:
    """An error object of a failed status or an error response."""

    code: int
    title: str = ""
    details: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class WAStatus:
    """A delivery status of a message we sent."""

    id: str
    status: Literal["sent", "delivered", "read", "failed"]
    timestamp: int
    recipient_id: str | None = field(default=None, repr=False)
    errors: tuple[WAError, ...] = ()
    pricing_category: str | None = None
    conversation_id: str | None = None

    @property
    def error_code(self) -> int | None:
        """The first error code (failed statuses only)."""
        return self.errors[0].code if self.errors else None


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookBatch:
    """Everything one webhook POST carried, in payload order."""

    messages: tuple[WAMessage, ...] = ()
    statuses: tuple[WAStatus, ...] = ()
    ignored: int = 0


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _obj(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _int(value: Any, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def normalize_timestamp(value: Any, *, received: int | None) -> int:
    """Seconds since the epoch from a webhook timestamp in seconds or milliseconds.

    ``received`` is the receive time (seconds) from the channel's clock: it replaces a timestamp
    that is missing, unreadable, before 2010 or more than a day after it. Without it (unit
    parsing) such a timestamp becomes 0.
    """
    try:
        ts = int(value)
    except (TypeError, ValueError):
        try:
            ts = int(float(value))
        except (TypeError, ValueError, OverflowError):
            ts = 0
    if ts >= MILLISECONDS_FROM:
        ts //= 1000
    if ts < EARLIEST_TIMESTAMP or (received is not None and ts > received + FUTURE_SLACK):
        return received if received is not None else 0
    return ts


def encode_choice_id(step_token: str | None, choice_id: str) -> str:
    """Our button/row id: the step token and the choice, ``"7|yes"`` (``"|yes"`` without one)."""
    return f"{step_token or ''}|{choice_id}"


def decode_choice_id(raw: str) -> tuple[str | None, str]:
    """(step token, choice id) from a button/row id; foreign ids have no token."""
    token, sep, choice = raw.partition("|")
    if not sep:
        return None, raw
    return (token or None), choice


def parse_message(
    raw: Mapping[str, Any],
    *,
    display_name: str | None = None,
    wa_id: str | None = None,
    received: int | None = None,
) -> WAMessage | None:
    """One ``messages[]`` element as a WAMessage, or None when it lacks an id or a sender.

    ``received``: the receive time in seconds (kept in the record, used for absurd timestamps).
    """
    mid = _str(raw.get("id"))
    # Meta is adding business-scoped user ids besides wa_id: take ``from``, else what it sent.
    user = _str(raw.get("from")) or _str(raw.get("from_user_id")) or wa_id
    if mid is None or user is None:
        return None
    mtype = _str(raw.get("type")) or "unknown"
    context = _obj(raw.get("context"))
    record = dumps(
        {"message": raw, "display_name": display_name, "wa_id": wa_id, "received": received}
    )
    common: dict[str, Any] = {
        "id": mid,
        "user_ref": user,
        "timestamp": normalize_timestamp(raw.get("timestamp"), received=received),
        "context_id": _str(context.get("id")),
        "display_name": display_name,
        "record": record,
    }
    body = _obj(raw.get(mtype))
    if mtype == "text":
        return WAMessage(kind="text", text=str(body.get("body", "")), **common)
    if mtype == "interactive":
        itype = _str(body.get("type"))
        reply = body.get(itype) if itype in ("button_reply", "list_reply") else None
        if isinstance(reply, Mapping) and _str(reply.get("id")):
            token, choice = decode_choice_id(str(reply["id"]))
            return WAMessage(
                kind="choice",
                choice_id=choice,
                step_token=token,
                text=_str(reply.get("title")),
                **common,
            )
        return WAMessage(kind="unsupported", unsupported=f"interactive:{itype}", **common)
    if mtype == "button":
        # A quick-reply button of a template: its payload when it is one of our ids, else the
        # label as typed text (the engine matches labels and routes free text by intent).
        payload = _str(body.get("payload")) or ""
        label = _str(body.get("text")) or payload
        if "|" in payload or payload.startswith("cmd:"):
            token, choice = decode_choice_id(payload)
            return WAMessage(kind="choice", choice_id=choice, step_token=token, **common)
        return WAMessage(kind="text", text=label, **common)
    if mtype in ("image", "document"):
        media_id = _str(body.get("id"))
        if media_id is None:
            return WAMessage(kind="unsupported", unsupported=mtype, **common)
        return WAMessage(
            kind="media",
            media_id=media_id,
            media_mime=_str(body.get("mime_type")),
            media_kind="photo" if mtype == "image" else "document",
            filename=_str(body.get("filename")),
            text=_str(body.get("caption")),
            **common,
        )
    if mtype == "audio":
        media_id = _str(body.get("id"))
        if media_id is None:
            return WAMessage(kind="unsupported", unsupported=mtype, **common)
        return WAMessage(
            kind="voice",
            media_id=media_id,
            media_mime=_str(body.get("mime_type")),
            media_kind="voice",
            **common,
        )
    if mtype == "location":
        try:
            loc = (float(body["latitude"]), float(body["longitude"]))
        except (KeyError, TypeError, ValueError):
            return WAMessage(kind="unsupported", unsupported=mtype, **common)
        return WAMessage(kind="location", location=loc, **common)
    if mtype == "contacts":
        cards = raw.get("contacts")
        phone = None
        if isinstance(cards, list):
            for card in cards:
                phones = card.get("phones") if isinstance(card, Mapping) else None
                for p in phones if isinstance(phones, list) else []:
                    if isinstance(p, Mapping) and (_str(p.get("phone")) or _str(p.get("wa_id"))):
                        phone = _str(p.get("phone")) or _str(p.get("wa_id"))
                        break
                if phone:
                    break
        if phone is None:
            return WAMessage(kind="unsupported", unsupported=mtype, **common)
        # A shared card may be anyone's number: the engine treats it as typed text, never as
        # proof of identity (linking still needs NIK + date of birth).
        return WAMessage(kind="contact", contact_phone=phone, **common)
    if mtype == "system":
        # Meta's system message when a user changes number ("user_changed_number", older docs
        # "customer_changed_number", and the business-scoped id's change): whoever holds the old
        # number next must verify afresh, so the chat's link is dropped (issue 20, item 4).
        stype = _str(_obj(raw.get("system")).get("type")) or ""
        if "changed" in stype:
            return WAMessage(kind="number_changed", text=stype, **common)
    # sticker, video, reaction, order, other system messages, unsupported, unknown...
    return WAMessage(kind="unsupported", unsupported=mtype, **common)


def message_from_record(record: str) -> WAMessage | None:
    """Rebuild a WAMessage from what ``parse_message`` stored (restart recovery)."""
    data = loads(record)
    if not isinstance(data, Mapping) or not isinstance(data.get("message"), Mapping):
        return None
    received = data.get("received")
    return parse_message(
        data["message"],
        display_name=_str(data.get("display_name")),
        wa_id=_str(data.get("wa_id")),
        received=received if isinstance(received, int) else None,
    )


def reduce_record(record: str) -> str:
    """What the ledger keeps of a processed message: its shape for audit, NIKs masked.

    The raw record holds everything the user typed (NIKs, birth dates) and their profile name;
    once processed, only the type, the timestamp, the reply context and a masked, shortened
    text remain.
    """
    data = loads(record)
    raw = data.get("message") if isinstance(data, Mapping) else None
    if not isinstance(raw, Mapping):
        return dumps({"reduced": True})
    mtype = _str(raw.get("type")) or "unknown"
    body = _obj(raw.get(mtype))
    text = _str(body.get("body")) or _str(body.get("caption")) or _str(body.get("text"))
    if text is None and mtype == "interactive":
        itype = _str(body.get("type")) or ""
        text = _str(_obj(body.get(itype)).get("title"))
    reduced: dict[str, Any] = {
        "reduced": True,
        "type": mtype,
        "timestamp": raw.get("timestamp"),
        "context_id": _str(_obj(raw.get("context")).get("id")),
    }
    if text is not None:
        reduced["text"] = mask_text(text)[:200]
    if _str(body.get("id")):
        reduced["media_id"] = _str(body.get("id"))
    return dumps(reduced)


def parse_status(raw: Mapping[str, Any]) -> WAStatus | None:
    """One ``statuses[]`` element; ``pricing``/``conversation`` are optional (PMP since 2025)."""
    sid = _str(raw.get("id"))
    status = _str(raw.get("status"))
    if sid is None or status not in ("sent", "delivered", "read", "failed"):
        return None
    errors: list[WAError] = []
    for e in raw.get("errors") or []:
        if isinstance(e, Mapping):
            data = _obj(e.get("error_data"))
            errors.append(
                WAError(
                    code=_int(e.get("code"), -1),
                    title=str(e.get("title") or e.get("message") or ""),
                    details=str(data.get("details") or ""),
                )
            )
    pricing = _obj(raw.get("pricing"))
    conv = _obj(raw.get("conversation"))
    return WAStatus(
        id=sid,
        status=status,  # type: ignore[arg-type]
        timestamp=_int(raw.get("timestamp")),
        recipient_id=_str(raw.get("recipient_id")),
        errors=tuple(errors),
        pricing_category=_str(pricing.get("category")),
        conversation_id=_str(conv.get("id")),
    )


def parse_webhook(
    data: Any, *, phone_number_id: str | None = None, received: int | None = None
) -> WebhookBatch:
    """Every message and status of a webhook body, in order; never raises on odd input.

    Changes addressed to another phone number of the same app are skipped. ``received`` is the
    receive time in seconds (see ``normalize_timestamp``).
    """
    messages: list[WAMessage] = []
    statuses: list[WAStatus] = []
    ignored = 0
    if not isinstance(data, Mapping) or data.get("object") != "whatsapp_business_account":
        return WebhookBatch(ignored=1)
    for entry in data.get("entry") or []:
        if not isinstance(entry, Mapping):
            ignored += 1
            continue
        for change in entry.get("changes") or []:
            value = change.get("value") if isinstance(change, Mapping) else None
            if not isinstance(value, Mapping) or change.get("field") != "messages":
                ignored += 1
                continue
            meta = _obj(value.get("metadata"))
            pnid = _str(meta.get("phone_number_id"))
            if phone_number_id and pnid and pnid != phone_number_id:
                ignored += 1
                continue
            names: dict[str, str] = {}
            for c in value.get("contacts") or []:
                if isinstance(c, Mapping) and _str(c.get("wa_id")):
                    profile = _obj(c.get("profile"))
                    names[str(c["wa_id"])] = str(profile.get("name") or "")
            only_wa_id = next(iter(names)) if len(names) == 1 else None
            for raw in value.get("messages") or []:
                msg = (
                    parse_message(
                        raw,
                        display_name=names.get(str(raw.get("from"))) or None,
                        wa_id=only_wa_id,
                        received=received,
                    )
                    if isinstance(raw, Mapping)
                    else None
                )
                if msg is None:
                    ignored += 1
                else:
                    messages.append(msg)
            for raw in value.get("statuses") or []:
                st = parse_status(raw) if isinstance(raw, Mapping) else None
                if st is None:
                    ignored += 1
                else:
                    statuses.append(st)
    return WebhookBatch(messages=tuple(messages), statuses=tuple(statuses), ignored=ignored)


# ---------------------------------------------------------------------------------------------
# Rendering replies as Cloud API message objects (pure; the sender adds ``to``)


def smart_truncate(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters at a word boundary, with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,.;:-/&") + "…"


def split_text(text: str, limit: int = TEXT_MAX) -> list[str]:
    """Split on line breaks into chunks of at most ``limit`` characters (words kept whole)."""
    chunks: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            cut = line.rfind(" ", 0, limit)
            cut = cut if cut > 0 else limit
            piece, line = line[:cut], line[cut:].lstrip(" ")
            if current:
                chunks.append(current)
                current = ""
            chunks.append(piece)
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) <= limit:
            current = candidate
        else:
            chunks.append(current)
            current = line
    if current or not chunks:
        chunks.append(current)
    return [c for c in chunks if c.strip()] or [text[:limit] or "…"]


def _split_body(text: str, limit: int) -> tuple[list[str], str]:
    """(preceding text chunks, body ≤ limit): the overflow goes into plain messages first."""
    if len(text) <= limit:
        return [], text
    parts = split_text(text, limit)
    body = parts[-1]
    head = text[: len(text) - len(body)].rstrip()
    # Re-split the head with the larger text limit so it takes as few messages as possible.
    return (split_text(head, TEXT_MAX) if head.strip() else []), body


def _text_message(body: str) -> dict[str, Any]:
    return {"type": "text", "text": {"body": body, "preview_url": False}}


def _numbered(reply: Reply) -> str:
    lines = [reply.text]
    for i, c in enumerate(reply.choices, 1):
        lines.append(f"{i}. {c.label}" + (f": {c.description}" if c.description else ""))
    return "\n".join(lines)


def render_reply(reply: Reply, *, list_button: str = "Pilih") -> list[dict[str, Any]]:
    """Cloud API message objects for one reply, within every documented limit.

    No choices → text (split at 4096). ≤ 3 choices with short unique labels → reply buttons.
    ≤ 10 → a list (long labels shortened with the full label as the row description). More →
    numbered text (every choice can be answered by its number).
    """
    text = reply.text.strip() or "…"
    choices = reply.choices
    if not choices:
        return [_text_message(c) for c in split_text(text)]
    ids = [encode_choice_id(reply.step_token, c.id) for c in choices]
    labels = [" ".join(c.label.split()) for c in choices]
    if (
        len(choices) <= BUTTONS_MAX
        and all(0 < len(lbl) <= BUTTON_TITLE_MAX for lbl in labels)
        and len(set(labels)) == len(labels)
        and all(len(i) <= BUTTON_ID_MAX for i in ids)
    ):
        head, body = _split_body(text, INTERACTIVE_BODY_MAX)
        buttons = [
            {"type": "reply", "reply": {"id": i, "title": lbl}}
            for i, lbl in zip(ids, labels, strict=True)
        ]
        return [
            *(_text_message(h) for h in head),
            {
                "type": "interactive",
                "interactive": {
                    "type": "button",
                    "body": {"text": body},
                    "action": {"buttons": buttons},
                },
            },
        ]
    if len(choices) <= LIST_ROWS_MAX and all(len(i) <= ROW_ID_MAX for i in ids):
        head, body = _split_body(text, INTERACTIVE_BODY_MAX)
        rows: list[dict[str, Any]] = []
        for i, lbl, c in zip(ids, labels, choices, strict=True):
            title = smart_truncate(lbl, ROW_TITLE_MAX) or "…"
            description = c.description or (lbl if title != lbl else None)
            row: dict[str, Any] = {"id": i, "title": title}
            if description:
                row["description"] = smart_truncate(description, ROW_DESCRIPTION_MAX)
            rows.append(row)
        return [
            *(_text_message(h) for h in head),
            {
                "type": "interactive",
                "interactive": {
                    "type": "list",
                    "body": {"text": body},
                    "action": {
                        "button": smart_truncate(list_button, LIST_BUTTON_MAX),
                        "sections": [{"rows": rows}],
                    },
                },
            },
        ]
    return [_text_message(c) for c in split_text(_numbered(reply))]


# ---------------------------------------------------------------------------------------------
# Templates (channels/data/whatsapp_templates.json)


class TemplateParamsMissing(Exception):
    """A template parameter has no value and no default."""


@dataclass(frozen=True, slots=True, kw_only=True)
class TemplateParam:
    """One ``{{n}}`` of a template body, filled from ``msg.params[name]``."""

    name: str
    format: str = "text"
    max_len: int = 200


@dataclass(frozen=True, slots=True, kw_only=True)
class TemplateLanguage:
    """The approved text of a template in one language."""

    code: str
    text: str
    buttons: tuple[str, ...] = ()
    defaults: Mapping[str, str] = field(default_factory=dict)
    labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class Template:
    """An approved message template and the outbox keys it stands for."""

    name: str
    category: str
    msg_keys: tuple[str, ...]
    params: tuple[TemplateParam, ...]
    languages: Mapping[str, TemplateLanguage]

    def language(self, lang: str | None) -> TemplateLanguage:
        """The user's language when approved for it, else Indonesian."""
        return self.languages.get(lang or "id") or self.languages["id"]

    def body_values(self, params: Mapping[str, Any], lang: str | None) -> list[str]:
        """The body parameters in ``{{1}}..{{n}}`` order, formatted for the language."""
        tl = self.language(lang)
        t = translator(tl.code)
        values: list[str] = []
        for p in self.params:
            value = _format_param(p, params.get(p.name), tl, t)
            if not value:
                value = tl.defaults.get(p.name, "")
            if not value:
                raise TemplateParamsMissing(f"{self.name}: {p.name}")
            values.append(value)
        return values

    def payload(self, to: str, params: Mapping[str, Any], lang: str | None) -> dict[str, Any]:
        """The ``POST /messages`` body sending this template."""
        tl = self.language(lang)
        values = self.body_values(params, lang)
        template: dict[str, Any] = {"name": self.name, "language": {"code": tl.code}}
        if values:
            template["components"] = [
                {"type": "body", "parameters": [{"type": "text", "text": v} for v in values]}
            ]
        return {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": to,
            "type": "template",
            "template": template,
        }


def _clean_param(text: str, limit: int) -> str:
    # Meta rejects template parameters with new lines, tabs or more than 4 spaces in a row.
    return smart_truncate(" ".join(text.split()), limit)


def _as_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def _format_param(p: TemplateParam, value: Any, tl: TemplateLanguage, t: Any) -> str:
    if value is None or value == "" or value == []:
        return ""
    labels = tl.labels.get(p.name, {})
    if p.format == "doc_list":
        from handlers.docs import DOC_LABELS

        items = value if isinstance(value, list | tuple) else [value]
        text = ", ".join(t(DOC_LABELS[k]) if k in DOC_LABELS else str(k) for k in items)
    elif p.format == "list":
        items = value if isinstance(value, list | tuple) else [value]
        text = ", ".join(labels.get(str(k), str(k)) for k in items)
    elif p.format == "when" and "T" in str(value):
        text = _format_param(TemplateParam(name=p.name, format="datetime"), value, tl, t)
    elif p.format in ("date", "month", "when"):
        d = _as_date(value)
        text = str(value) if d is None else (t.month(d) if p.format == "month" else t.date(d))
    elif p.format == "school_year":
        year = _int(value, -1)
        text = f"{year}/{year + 1}" if year > 0 else str(value)
    elif p.format == "number":
        text = t.number(_int(value)) if str(value).lstrip("-").isdigit() else str(value)
    elif p.format == "datetime":
        try:
            when = datetime.fromisoformat(str(value))
        except ValueError:
            text = str(value)
        else:
            text = t.datetime(when if when.tzinfo else when.replace(tzinfo=UTC))
    elif p.format == "money":
        text = t.money(_int(value))
    elif p.format == "label":
        text = labels.get(str(value), str(value))
    else:
        text = str(value)
    return _clean_param(text, p.max_len)


@dataclass(frozen=True, slots=True, kw_only=True)
class TemplateBook:
    """All templates, looked up by outbox message key."""

    templates: Mapping[str, Template]
    by_key: Mapping[str, Template]

    def for_key(self, msg_key: str, params: Mapping[str, Any] | None = None) -> Template | None:
        """The approved template for a message key, if any.

        Rows addressed to a facilitator (``"for": "facilitator"``) say something else than the
        worker's version: they only match a ``<msg_key>@facilitator`` entry.
        """
        audience = (params or {}).get("for")
        if audience:
            return self.by_key.get(f"{msg_key}@{audience}")
        return self.by_key.get(msg_key)

    @classmethod
    def load(cls, path: Path = TEMPLATES_FILE) -> TemplateBook:
        """Read the templates data file."""
        data = json.loads(path.read_text(encoding="utf-8"))
        templates: dict[str, Template] = {}
        by_key: dict[str, Template] = {}
        for name, spec in data["templates"].items():
            langs = {
                code: TemplateLanguage(
                    code=code,
                    text=lang["text"],
                    buttons=tuple(lang.get("buttons", ())),
                    defaults=dict(lang.get("defaults", {})),
                    labels={k: dict(v) for k, v in lang.get("labels", {}).items()},
                )
                for code, lang in spec["languages"].items()
            }
            tmpl = Template(
                name=name,
                category=spec["category"],
                msg_keys=tuple(spec["msg_keys"]),
                params=tuple(
                    TemplateParam(
                        name=p["name"],
                        format=p.get("format", "text"),
                        max_len=int(p.get("max_len", 200)),
                    )
                    for p in spec["params"]
                ),
                languages=langs,
            )
            templates[name] = tmpl
            for key in tmpl.msg_keys:
                by_key[key] = tmpl
        return cls(templates=templates, by_key=by_key)


# ---------------------------------------------------------------------------------------------
# Errors from the Graph API → what the dispatcher should do (channels/base.py)


def classify_error(
    http_status: int, error: Mapping[str, Any] | None, *, retry_after: float | None = None
) -> DeliveryError:
    """Map an error response (HTTP status and Graph ``error`` object) to a DeliveryError."""
    code = _int((error or {}).get("code"), -1)
    reason = f"graph {http_status} code {code}: {(error or {}).get('message', '')}".strip()
    if code == RE_ENGAGEMENT:
        return HoldMessage(reason, code=code)
    if code in RETRY_CODES or http_status == 429 or http_status >= 500:
        return RetryLater(reason, retry_after=retry_after, code=code if code >= 0 else http_status)
    if code in HOLD_CODES:
        return HoldMessage(reason, code=code)
    if code == 190 or http_status == 401:
        # No message is at fault: the dispatcher pauses the channel's outbox, rows stay queued.
        logger.error("whatsapp access token rejected: check WHATSAPP_ACCESS_TOKEN")
        return ChannelAuthFailed(reason, code=code if code >= 0 else http_status)
    return Undeliverable(reason, code=code if code >= 0 else http_status)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    try:
        return float(value) if value else None
    except ValueError:
        return None


class MediaRejected(Exception):
    """A user's file we will not take; ``msgid`` says why (translated by the engine)."""

    def __init__(self, msgid: str) -> None:
        super().__init__(msgid)
        self.msgid = msgid


# ---------------------------------------------------------------------------------------------
# The sender


class WhatsAppSender:
    """``lingkaran.channels.base.Sender`` for the Cloud API, on one pooled ``httpx.AsyncClient``."""

    channel = CHANNEL

    def __init__(
        self,
        config: WhatsAppConfig,
        *,
        clock: Clock,
        client: httpx.AsyncClient | None = None,
        templates: TemplateBook | None = None,
    ) -> None:
        self.config = config
        self.clock = clock
        self.templates = templates or TemplateBook.load()
        self._own_client = client is None
        self.client = client or httpx.AsyncClient(
            timeout=httpx.Timeout(15.0, connect=5.0),
            limits=httpx.Limits(max_connections=50, max_keepalive_connections=20),
        )
        self._auth = {"Authorization": f"Bearer {config.access_token}"}
        self._trusted_hosts = {urlsplit(config.api_root).hostname or ""}

    async def aclose(self) -> None:
        """Close the HTTP pool (only when this sender created it)."""
        if self._own_client:
            await self.client.aclose()

    # -- sending -------------------------------------------------------------------------

    async def _post(self, payload: dict[str, Any]) -> str:
        url = f"{self.config.api_base}/{self.config.phone_number_id}/messages"
        try:
            response = await self.client.post(url, json=payload, headers=self._auth)
        except httpx.HTTPError as exc:
            raise RetryLater(f"network: {type(exc).__name__}") from exc
        try:
            data = response.json()
        except ValueError:
            data = {}
        if response.status_code >= 400 or not isinstance(data, dict) or "error" in data:
            error = data.get("error") if isinstance(data, dict) else None
            raise classify_error(
                response.status_code,
                error if isinstance(error, Mapping) else None,
                retry_after=_retry_after(response),
            )
        try:
            return str(data["messages"][0]["id"])
        except (KeyError, IndexError, TypeError) as exc:
            raise RetryLater("graph answered without a message id") from exc

    def _envelope(self, to: str, message: dict[str, Any]) -> dict[str, Any]:
        return {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": to,
            **message,
        }

    async def send_reply(
        self, user_ref: str, reply: Reply, *, language: str | None = None
    ) -> SendResult:
        """Send one conversation reply (buttons, list or text as its choices allow)."""
        button = translator(language or "id")(MSG_LIST_BUTTON)
        ids: list[str] = []
        for message in render_reply(reply, list_button=button):
            try:
                ids.append(await self._post(self._envelope(user_ref, message)))
            except HoldMessage as exc:
                # 131047 on an answer to the user's own message: the window closed meanwhile.
                raise Undeliverable(exc.reason, code=exc.code) from exc
        return SendResult(message_ids=tuple(ids))

    def window_open(self, last_inbound_at: datetime | None) -> bool:
        """Whether free-form messages may be sent now (24 h after the user's last message)."""
        if last_inbound_at is not None and last_inbound_at.tzinfo is None:
            last_inbound_at = last_inbound_at.replace(tzinfo=UTC)
        return outbox_policy.in_whatsapp_window(last_inbound_at, self.clock())

    async def send_outbound(self, message: OutboundMessage) -> SendResult:
        """Send an outbox message: free-form inside the 24 h window, else its template."""
        force = bool(message.params.get(FORCE_TEMPLATE) or message.extra.get("force_template"))
        if not force and self.window_open(message.last_inbound_at):
            try:
                return await self.send_reply(
                    message.user_ref, message.reply, language=message.language
                )
            except Undeliverable as exc:
                if exc.code != RE_ENGAGEMENT:
                    raise
                logger.info("window closed at send time, using template", extra=self._log(message))
        return await self.send_template(message)

    async def send_template(self, message: OutboundMessage) -> SendResult:
        """Send the approved template for the message key (HoldMessage when there is none)."""
        tmpl = self.templates.for_key(message.msg_key, message.params)
        if tmpl is None:
            raise HoldMessage(f"no approved template for {message.msg_key}", code="no_template")
        params = {k: v for k, v in message.params.items() if not k.startswith("_")}
        try:
            payload = tmpl.payload(message.user_ref, params, message.language)
        except TemplateParamsMissing as exc:
            logger.error(
                "template parameter missing", extra={**self._log(message), "missing": str(exc)}
            )
            raise HoldMessage(f"template parameter missing: {exc}", code="template_params") from exc
        wamid = await self._post(payload)
        return SendResult(message_ids=(wamid,), via_template=tmpl.name)

    def _log(self, message: OutboundMessage) -> dict[str, Any]:
        return {"outbox_id": message.outbox_id, "msg_key": message.msg_key}

    # -- media ---------------------------------------------------------------------------

    def _may_get(self, url: str) -> bool:
        # The bearer token goes only to Meta's CDN or to the configured API host.
        parts = urlsplit(url)
        host = parts.hostname or ""
        if host in self._trusted_hosts:
            return True
        return parts.scheme == "https" and (
            host.endswith(".fbsbx.com")
            or host.endswith(".facebook.com")
            or host.endswith(".whatsapp.net")
        )

    async def download_media(
        self, media_id: str, *, max_bytes: int = MEDIA_MAX_BYTES, allowed: frozenset[str] | None
    ) -> tuple[bytes, str]:
        """(bytes, real mime) of a user's file: ``GET /{media_id}`` then its URL, same bearer.

        MediaRejected when it is too large or (with ``allowed``) of a type we do not take;
        httpx/DeliveryError when the download fails.
        """
        meta_resp = await self.client.get(f"{self.config.api_base}/{media_id}", headers=self._auth)
        if meta_resp.status_code >= 400:
            raise classify_error(meta_resp.status_code, _error_of(meta_resp))
        meta = meta_resp.json()
        url = meta.get("url") if isinstance(meta, dict) else None
        if not isinstance(url, str) or not self._may_get(url):
            raise Undeliverable("media url missing or untrusted")
        if _int(meta.get("file_size"), 0) > max_bytes:
            raise MediaRejected(MSG_MEDIA_TOO_BIG)
        declared = str(meta.get("mime_type") or "").split(";")[0].strip().lower()
        if allowed is not None and declared and declared not in allowed:
            raise MediaRejected(MSG_MEDIA_BAD_TYPE)
        chunks: list[bytes] = []
        size = 0
        async with self.client.stream("GET", url, headers=self._auth) as resp:
            if resp.status_code >= 400:
                raise classify_error(resp.status_code, None)
            async for chunk in resp.aiter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise MediaRejected(MSG_MEDIA_TOO_BIG)
                chunks.append(chunk)
        data = b"".join(chunks)
        if allowed is None:
            return data, declared or "application/octet-stream"
        try:
            checked = uploads.check_upload(data, allowed=allowed)
        except uploads.UploadRejected as exc:
            logger.info("whatsapp upload refused", extra={"reason": exc.reason})
            raise MediaRejected(exc.msgid) from exc
        return data, checked.mime


def _error_of(response: httpx.Response) -> Mapping[str, Any] | None:
    try:
        data = response.json()
    except ValueError:
        return None
    error = data.get("error") if isinstance(data, dict) else None
    return error if isinstance(error, Mapping) else None


ALLOWED_MEDIA = frozenset({"image/jpeg", "image/png", "image/webp", "application/pdf"})

# ---------------------------------------------------------------------------------------------
# Outbox rows and the inbound ledger (SQL this adapter needs beyond lingkaran_core.storage)

FORCE_TEMPLATE = "_force_template"
_STATUS_RANK = {"sent": 1, "delivered": 2, "read": 3}


async def apply_status(tx: Tx, status: WAStatus, *, now: datetime) -> str | None:
    """Record a delivery status on the outbox row that sent ``status.id``; what changed.

    Never moves a row backwards (read → delivered). A failed status is final for its message id:
    the row either fails for good, or is re-queued (with its ``channel_message_id`` cleared, so
    late statuses of the old id no longer match) — as a template after 131047, or later after a
    throughput error.
    """
    row = await channel_repo.find_outbox_by_message_id(tx, CHANNEL, status.id)
    if row is None or row.status in ("failed", "dead", "dropped"):
        return None
    current = row.delivery_status
    current_rank = (
        0 if not current or current.startswith("failed") else _STATUS_RANK.get(current, 0)
    )
    if status.status != "failed":
        if _STATUS_RANK[status.status] <= current_rank:
            return None
        await channel_repo.set_delivery_status(tx, row.id, status.status)
        return status.status
    if current_rank >= _STATUS_RANK["delivered"]:
        return None  # it reached the phone; a stray failure cannot undo that
    code = status.error_code
    mark = f"failed:{code}"
    params = dict(row.params)
    if code == RE_ENGAGEMENT and not params.get(FORCE_TEMPLATE):
        params[FORCE_TEMPLATE] = True
        await channel_repo.requeue_outbox(
            tx,
            row.id,
            not_before=now,
            delivery_status=mark,
            params=params,
            error=f"131047 window closed; resend as template ({FORCE_TEMPLATE})",
        )
        return "requeued_template"
    if code in RETRY_CODES:
        delay = timedelta(seconds=min(60 * 2 ** min(row.attempts, 6), 3600))
        await channel_repo.requeue_outbox(
            tx,
            row.id,
            not_before=now + delay,
            delivery_status=mark,
            error=f"{code} throttled; retry",
        )
        return "requeued"
    detail = status.errors[0].title if status.errors else ""
    await channel_repo.fail_outbox(
        tx, row.id, delivery_status=mark, error=f"{code} {detail}".strip()
    )
    return "failed"


# ---------------------------------------------------------------------------------------------
# The channel: webhook routes + background processing


@dataclass(order=True)
class _Queued:
    timestamp: int
    seq: int
    message: WAMessage = field(compare=False)


class WhatsAppChannel:
    """The webhook routes, the per-user processing queues and the sender, for one number."""

    def __init__(
        self,
        db: Database,
        config: WhatsAppConfig,
        *,
        engine: Engine,
        clock: Clock,
        sender: WhatsAppSender | None = None,
        concurrency: int = 16,
        settle: float = 0.25,
        retry_delays: Sequence[float] = (1.0, 3.0, 10.0),
    ) -> None:
        self.db = db
        self.config = config
        self.engine = engine
        self.clock = clock
        self.sender = sender or WhatsAppSender(config, clock=clock)
        # Webhooks of one user can arrive out of order: wait ``settle`` seconds before working
        # through a user's queue so a late-arriving earlier message still goes first.
        self.settle = settle
        self.retry_delays = tuple(retry_delays)
        self._sem = asyncio.Semaphore(concurrency)
        self._queues: dict[str, list[_Queued]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._seq = itertools.count()
        self._running = False
        # Set by ``serve`` to the dispatcher's ``on_inbound``: a user writing re-opens the
        # window, so messages held for want of a template can go out free-form now.
        self.on_inbound: Callable[[str, str], Awaitable[Any]] | None = None

    @property
    def routes(self) -> list[Route]:
        """The webhook route (GET handshake, POST updates) to mount on a shared server."""
        return [Route(WEBHOOK_PATH, self.webhook, methods=["GET", "POST"])]

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        """Replay replies a crash left unsent, then re-queue recorded unprocessed messages."""
        if self._running:
            return
        self._running = True
        async with self.db.read() as r:
            unsent = await channel_repo.unsent_replies(r, CHANNEL)
            pending = await channel_repo.pending_inbound(r, CHANNEL)
        for u in unsent:
            replies = [reply_from_dict(d) for d in u.replies]
            if await self._deliver(u.user_ref, replies, u.language):
                async with self.db.tx() as tx:
                    await chat_store.mark_replies_sent(tx, CHANNEL, u.user_ref, u.message_id)
        await self._reduce_payload()  # processed before a crash, never reduced
        recovered = 0
        for record in pending:
            msg = message_from_record(record)
            if msg is not None:
                self._enqueue(msg)
                recovered += 1
        logger.info(
            "whatsapp channel started",
            extra={"recovered": recovered, "replayed": len(unsent)},
        )

    async def stop(self, grace: float = 10.0) -> None:
        """Stop taking work; let queued messages finish for up to ``grace`` seconds."""
        self._running = False
        workers = list(self._workers.values())
        if workers:
            _done, still = await asyncio.wait(workers, timeout=grace)
            for task in still:
                task.cancel()
            if still:
                await asyncio.gather(*still, return_exceptions=True)
        await self.sender.aclose()

    async def idle(self) -> None:
        """Wait until every queued message has been processed (tests, graceful shutdown)."""
        while self._workers:
            await asyncio.gather(*list(self._workers.values()), return_exceptions=True)

    # -- webhook -------------------------------------------------------------------------

    async def webhook(self, request: Request) -> Response:
        """GET: Meta's verification handshake. POST: signed updates."""
        if request.method == "GET":
            return self.verify(request)
        return await self.receive(request)

    def verify(self, request: Request) -> Response:
        """Answer ``hub.challenge`` when the mode and the verify token match, else 403."""
        q = request.query_params
        token = q.get("hub.verify_token") or ""
        if q.get("hub.mode") == "subscribe" and hmac.compare_digest(
            token.encode(), self.config.verify_token.encode()
        ):
            return PlainTextResponse(q.get("hub.challenge") or "")
        logger.warning("whatsapp webhook verification refused")
        return PlainTextResponse("forbidden", status_code=403)

    async def receive(self, request: Request) -> Response:
        """Verify, record durably, apply statuses, ACK; processing happens in the background."""
        try:
            raw = await read_body(request, self.config.max_body_bytes)
        except (BodyTooLarge, ClientDisconnect):  # the server cut it off (or the client left)
            logger.warning("whatsapp webhook body too large")
            return Response(status_code=413)
        if not verify_signature(
            raw, request.headers.get("x-hub-signature-256"), self.config.app_secret
        ):
            logger.warning("whatsapp webhook signature rejected")
            return Response(status_code=401)
        try:
            data = json.loads(raw)
        except ValueError:
            return Response(status_code=400)
        now = self.clock()
        batch = parse_webhook(
            data, phone_number_id=self.config.phone_number_id, received=int(now.timestamp())
        )
        fresh: list[WAMessage] = []
        try:
            async with self.db.tx() as tx:
                for msg in batch.messages:
                    if await chat_store.record_inbound_payload(
                        tx, CHANNEL, msg.id, msg.user_ref, msg.record, now=now
                    ):
                        fresh.append(msg)
                for st in batch.statuses:
                    await apply_status(tx, st, now=now)
        except Exception:
            # Not ACKed: Meta retries, and the records are idempotent on the wamid.
            logger.exception("whatsapp webhook could not be recorded")
            return Response(status_code=500)
        if self._running:
            for msg in fresh:
                self._enqueue(msg)
        logger.info(
            "whatsapp webhook",
            extra={
                "messages": len(batch.messages),
                "new": len(fresh),
                "statuses": len(batch.statuses),
                "ignored": batch.ignored,
            },
        )
        return Response(status_code=200)

    # -- processing ----------------------------------------------------------------------

    def _enqueue(self, msg: WAMessage) -> None:
        heapq.heappush(
            self._queues.setdefault(msg.user_ref, []),
            _Queued(timestamp=msg.timestamp, seq=next(self._seq), message=msg),
        )
        if msg.user_ref not in self._workers:
            self._workers[msg.user_ref] = asyncio.create_task(self._drain(msg.user_ref))

    async def _drain(self, user_ref: str) -> None:
        try:
            if self.settle > 0:
                await asyncio.sleep(self.settle)
            queue = self._queues[user_ref]
            while queue:
                item = heapq.heappop(queue)
                async with self._sem:
                    await self._process(item.message)
        finally:
            # No await between the empty check and these lines: nothing can slip in unseen.
            self._queues.pop(user_ref, None)
            self._workers.pop(user_ref, None)

    async def _process(self, msg: WAMessage) -> None:
        try:
            if msg.kind == "voice":
                await self._voice(msg)
                await self._reduce_payload(msg.id)
                return
            if msg.kind == "number_changed":
                await self._number_changed(msg)
                await self._reduce_payload(msg.id)
                return
            inc = await self._incoming(msg)
            replies = await self.engine.handle(inc)
            await self._reduce_payload(msg.id)
            language = await self._language(msg.user_ref)
            if await self._deliver(msg.user_ref, replies, language):
                await self.engine.replies_sent(inc)
            if self.on_inbound is not None:
                await self.on_inbound(CHANNEL, msg.user_ref)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            # A bug, not the user's fault: keep the payload and retry at the next start.
            error = type(exc).__name__
            logger.exception(
                "whatsapp message failed",
                extra={"user": masked_ref(msg.user_ref), "kind": msg.kind, "error": error},
            )
            with contextlib.suppress(Exception):
                async with self.db.tx() as tx:
                    await channel_repo.mark_inbound_failed(tx, CHANNEL, msg.id, error=error)

    async def _reduce_payload(self, message_id: str | None = None) -> None:
        """Processed: keep only the audit shape of the raw payload (``reduce_record``)."""
        try:
            async with self.db.tx() as tx:
                await channel_repo.reduce_processed_payloads(
                    tx, CHANNEL, reduce_record, message_id=message_id
                )
        except Exception:  # the sweep at the next start catches up
            logger.warning("whatsapp payload not reduced", exc_info=True)

    async def _incoming(self, msg: WAMessage) -> Incoming:
        base: dict[str, Any] = {
            "channel": CHANNEL,
            "user_ref": msg.user_ref,
            "message_id": msg.id,
            "display_name": msg.display_name,
        }
        if msg.kind == "choice":
            return Incoming(**base, choice_id=msg.choice_id, step_token=msg.step_token)
        if msg.kind == "media" and msg.media_id:
            try:
                data, mime = await self.sender.download_media(msg.media_id, allowed=ALLOWED_MEDIA)
            except MediaRejected as exc:
                return Incoming(**base, rejected_media=exc.msgid)
            except (httpx.HTTPError, DeliveryError, ValueError):
                logger.warning("whatsapp media download failed", exc_info=True)
                return Incoming(**base, rejected_media=MSG_MEDIA_FAILED)
            kind: Literal["photo", "document"] = (
                "document" if msg.media_kind == "document" else "photo"
            )
            return Incoming(
                **base,
                text=msg.text,
                media=Media(data=data, mime=mime, kind=kind, filename=msg.filename),
            )
        if msg.kind == "contact":
            return Incoming(**base, contact_phone=msg.contact_phone)
        if msg.kind == "location":
            return Incoming(**base, location=msg.location)
        if msg.kind == "text":
            return Incoming(**base, text=msg.text)
        return Incoming(**base, unsupported=msg.unsupported or "unknown")

    async def _number_changed(self, msg: WAMessage) -> None:
        """The user changed number: drop the chat's link (a fresh verification comes next)."""
        from lingkaran_core import services

        now = self.clock()
        async with self.db.tx() as tx:
            if not await chat_store.claim_inbound(tx, CHANNEL, msg.id, msg.user_ref, now=now):
                return
            chat = await chat_store.get_chat(tx, CHANNEL, msg.user_ref)
            if chat is not None:
                await services.forget_link(
                    tx, chat_id=chat.id, now=now, reason=f"whatsapp {msg.text or 'changed'}"
                )
        logger.info(
            "whatsapp number change: link dropped", extra={"user": masked_ref(msg.user_ref)}
        )

    async def _voice(self, msg: WAMessage) -> None:
        """A voice note becomes a ticket for a person, who listens and answers."""
        from lingkaran_core import services

        path: Path | None = None
        try:
            if msg.media_id:
                data, _declared = await self.sender.download_media(
                    msg.media_id, max_bytes=VOICE_MAX_BYTES, allowed=None
                )
                try:
                    mime = uploads.check_voice(data)
                except uploads.UploadRejected as exc:
                    logger.info("whatsapp voice note refused", extra={"reason": exc.reason})
                    raise MediaRejected(exc.msgid) from exc
                digest = hashlib.sha256(data).hexdigest()
                ext = ".ogg" if "ogg" in mime or "opus" in mime else ".audio"
                folder = self.db.files_dir / "voice"
                folder.mkdir(parents=True, exist_ok=True)
                path = folder / f"{digest}{ext}"
                if not path.exists():
                    tmp = path.with_suffix(".part")
                    tmp.write_bytes(data)
                    tmp.replace(path)
        except (MediaRejected, httpx.HTTPError, DeliveryError, ValueError, OSError):
            logger.warning("whatsapp voice download failed", exc_info=True)
            path = None
        now = self.clock()
        async with self.db.tx() as tx:
            if not await chat_store.claim_inbound(tx, CHANNEL, msg.id, msg.user_ref, now=now):
                return
            chat = await chat_store.get_or_create_chat(tx, CHANNEL, msg.user_ref, now=now)
            await chat_store.touch_inbound(tx, chat.id, now=now, display_name=msg.display_name)
            if path is not None:
                await services.open_ticket(
                    tx,
                    chat_id=chat.id,
                    body=None,
                    media=str(path),
                    topic="voice",
                    now=now,
                    channel=CHANNEL,
                )
            language = chat.language
        text = translator(language)(MSG_VOICE_RECEIVED if path else MSG_VOICE_FAILED)
        await self._deliver(msg.user_ref, [Reply(text=text)], language)

    async def _language(self, user_ref: str) -> str:
        async with self.db.read() as r:
            chat = await chat_store.get_chat(r, CHANNEL, user_ref)
        return chat.language if chat else "id"

    async def _deliver(self, user_ref: str, replies: Sequence[Reply], language: str) -> bool:
        """Send replies in order, retrying throttling; False when they could not all go out."""
        # One WhatsApp message per turn where it fits an interactive body (1,024 characters):
        # fewer notifications, and far from the ~1 message per 6 s pair rate.
        for reply in coalesce(replies, max_len=1024):
            for attempt in range(len(self.retry_delays) + 1):
                try:
                    await self.sender.send_reply(user_ref, reply, language=language)
                    break
                except RetryLater as exc:
                    if attempt == len(self.retry_delays):
                        logger.warning(
                            "whatsapp reply not sent", extra={"user": masked_ref(user_ref)}
                        )
                        return False
                    delay = self.retry_delays[attempt]
                    if exc.retry_after:
                        delay = max(delay, min(exc.retry_after, 60.0))
                    await asyncio.sleep(delay)
                except DeliveryError as exc:
                    logger.warning(
                        "whatsapp reply undeliverable",
                        extra={"user": masked_ref(user_ref), "code": str(exc.code)},
                    )
                    return False
        return True


# ---------------------------------------------------------------------------------------------
# A stand-alone ASGI app (tests; production mounts ``routes`` on the one server)


def build_app(channel: WhatsAppChannel) -> Starlette:
    """A Starlette app serving only this channel, starting and stopping it with the server."""

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        await channel.start()
        try:
            yield
        finally:
            await channel.stop()

    return Starlette(routes=channel.routes, lifespan=lifespan)
