"""The Graph API sender: replies, outbox messages, templates and media downloads."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from handlers.engine import Reply
from handlers.i18n import translator
from lingkaran.channels import uploads
from lingkaran.channels.base import (
    ChannelAuthFailed,
    DeliveryError,
    HoldMessage,
    OutboundMessage,
    RetryLater,
    SendResult,
    Undeliverable,
)
from lingkaran.channels.whatsapp.config import (
    CHANNEL,
    FORCE_TEMPLATE,
    HOLD_CODES,
    MEDIA_MAX_BYTES,
    MSG_LIST_BUTTON,
    MSG_MEDIA_BAD_TYPE,
    MSG_MEDIA_TOO_BIG,
    RE_ENGAGEMENT,
    RETRY_CODES,
    WhatsAppConfig,
    _int,
)
from lingkaran.channels.whatsapp.render import (
    envelope,
    render_reply,
)
from lingkaran.channels.whatsapp.templates import (
    TemplateBook,
    TemplateParamsMissing,
)
from lingkaran_core import outbox as outbox_policy
from lingkaran_core.clock import Clock

logger = logging.getLogger(__name__)


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
        # Set by the channel: a chat's user_ref (a BSUID, or a number) -> its address.
        self.address_book: Callable[[str], Awaitable[str]] | None = None

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

    async def address(self, user_ref: str) -> str:
        """Where an outbox row for ``user_ref`` goes: the chat's number when known, else its
        business-scoped user id (``address_book``, set by the channel; else ``user_ref``)."""
        if self.address_book is None:
            return user_ref
        return await self.address_book(user_ref)

    async def send_reply(
        self, user_ref: str, reply: Reply, *, language: str | None = None
    ) -> SendResult:
        """Send one conversation reply (buttons, list or text as its choices allow).

        ``user_ref`` is the address itself: a number (``to``) or a BSUID (``recipient``).
        """
        button = translator(language or "id")(MSG_LIST_BUTTON)
        ids: list[str] = []
        for message in render_reply(reply, list_button=button):
            try:
                ids.append(await self._post(envelope(user_ref, message)))
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
        address = await self.address(message.user_ref)
        if not force and self.window_open(message.last_inbound_at):
            try:
                return await self.send_reply(address, message.reply, language=message.language)
            except Undeliverable as exc:
                if exc.code != RE_ENGAGEMENT:
                    raise
                logger.info("window closed at send time, using template", extra=self._log(message))
        return await self.send_template(message, address=address)

    async def send_template(
        self, message: OutboundMessage, *, address: str | None = None
    ) -> SendResult:
        """Send the approved template for the message key (HoldMessage when there is none)."""
        tmpl = self.templates.for_key(message.msg_key, message.params)
        if tmpl is None:
            raise HoldMessage(f"no approved template for {message.msg_key}", code="no_template")
        params = {k: v for k, v in message.params.items() if not k.startswith("_")}
        try:
            to = address or await self.address(message.user_ref)
            payload = tmpl.payload(to, params, message.language)
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
