"""The channel: webhook routes, per-user processing queues, and a stand-alone app."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import heapq
import hmac
import itertools
import json
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import httpx
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from handlers.engine import Choice, Engine, Incoming, Media, Reply, reply_from_dict
from handlers.i18n import translator
from lingkaran.channels import uploads
from lingkaran.channels.base import (
    BodyTooLarge,
    DeliveryError,
    RetryLater,
    coalesce,
    read_body,
)
from lingkaran.channels.whatsapp.config import (
    CHANNEL,
    EDIT_CHOICE,
    MSG_EDIT_GONE,
    MSG_EDIT_OFFER,
    MSG_EDIT_USE,
    MSG_MEDIA_FAILED,
    MSG_VOICE_FAILED,
    MSG_VOICE_RECEIVED,
    VOICE_MAX_BYTES,
    WEBHOOK_PATH,
    WhatsAppConfig,
    masked_ref,
    verify_signature,
)
from lingkaran.channels.whatsapp.inbound import (
    WAMessage,
    message_from_record,
    reduce_record,
)
from lingkaran.channels.whatsapp.sender import (
    ALLOWED_MEDIA,
    MediaRejected,
    WhatsAppSender,
)
from lingkaran.channels.whatsapp.statuses import apply_status, learn_recipient
from lingkaran.channels.whatsapp.webhook import (
    parse_webhook,
)
from lingkaran_core.clock import Clock
from lingkaran_core.logs import mask_text
from lingkaran_core.services import whatsapp_identity
from lingkaran_core.storage import Database, channel_repo
from lingkaran_core.storage import chats as chat_store
from lingkaran_core.storage.chats import ConversationState

logger = logging.getLogger(__name__)


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
        # Outbox rows name a chat by its user_ref (a BSUID, or a number): the sender asks here
        # whether its number is known (``to``) or only its BSUID (``recipient``).
        self.sender.address_book = self._address_of
        # Webhooks of one user can arrive out of order: wait ``settle`` seconds before working
        # through a user's queue so a late-arriving earlier message still goes first.
        self.settle = settle
        self.retry_delays = tuple(retry_delays)
        self._sem = asyncio.Semaphore(concurrency)
        self._queues: dict[str, list[_Queued]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._seq = itertools.count()
        self._running = False
        # Corrected texts offered back to the user (edits at a text step), by offer key.
        self._edits: OrderedDict[str, tuple[str, str]] = OrderedDict()
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
            if await self._deliver(await self._address_of(u.user_ref), replies, u.language):
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
                    await learn_recipient(tx, st, now=now)
                for upd in batch.user_id_updates:
                    await whatsapp_identity.change_user_id(
                        tx,
                        previous_user_id=upd.previous_user_id,
                        previous_phone=None,
                        user_id=upd.user_id,
                        phone=upd.phone,
                        parent_user_id=upd.parent_user_id,
                        reason="user_id_update",
                        now=now,
                    )
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
                "user_id_updates": len(batch.user_id_updates),
                "ignored": batch.ignored,
            },
        )
        if batch.other_fields:
            # Subscribed fields with nothing for the bot to do (template reviews, account and
            # quality updates, user preferences...): acknowledged so Meta does not retry.
            logger.info(
                "whatsapp webhook field acknowledged",
                extra={"fields": ",".join(sorted(set(batch.other_fields)))},
            )
        for err in batch.errors:
            logger.warning(
                "whatsapp webhook error", extra={"code": str(err.code), "title": err.title[:120]}
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
            if msg.error_code is not None:
                logger.info(
                    "whatsapp message with an error",
                    extra={"kind": msg.kind, "code": str(msg.error_code)},
                )
            if msg.kind in ("reaction", "revoke", "ignored"):
                await self._silent(msg)
            elif msg.kind == "identity":
                await self._identity_change(msg)
            elif msg.kind == "edit":
                await self._edited(msg)
            elif msg.kind == "voice":
                await self._voice(msg)
            else:
                await self._converse(msg)
            await self._reduce_payload(msg.id)
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

    async def _converse(self, msg: WAMessage) -> None:
        """The message goes to the engine as its chat's (BSUID-keyed, or number-keyed) turn."""
        found = await self._resolve(msg)
        if msg.kind == "choice" and (msg.choice_id or "").startswith(EDIT_CHOICE):
            offer = self._edits.pop((msg.choice_id or "")[len(EDIT_CHOICE) :], None)
            if offer is None or offer[0] != found.chat.user_ref:
                # Offered before a restart (offers live in memory), or to another chat.
                gone = translator(found.chat.language)(MSG_EDIT_GONE)
                await self._deliver(found.address, [Reply(text=gone)], found.chat.language)
                async with self.db.tx() as tx:
                    await chat_store.claim_inbound(
                        tx, CHANNEL, msg.id, msg.user_ref, now=self.clock()
                    )
                return
            msg = replace(msg, kind="text", text=offer[1], choice_id=None)
        inc = await self._incoming(msg, found.chat.user_ref)
        replies = await self.engine.handle(inc)
        async with self.db.read() as r:
            chat = await chat_store.get_chat(r, CHANNEL, inc.user_ref)
        chat = chat or found.chat
        if await self._deliver(whatsapp_identity.address_of(chat), replies, chat.language):
            await self.engine.replies_sent(inc)
        if self.on_inbound is not None:
            await self.on_inbound(CHANNEL, inc.user_ref)

    async def _resolve(self, msg: WAMessage) -> whatsapp_identity.Resolved:
        """The sender's chat (re-keyed, merged or created: ``services.whatsapp_identity``)."""
        async with self.db.tx() as tx:
            found = await whatsapp_identity.resolve_sender(tx, msg.sender, now=self.clock())
        if found is None:  # parse_message never builds a message without a sender
            raise LookupError("whatsapp message without a sender")
        if found.event not in (None, whatsapp_identity.CREATED):
            logger.info(
                "whatsapp identity", extra={"event": found.event, "user": masked_ref(msg.user_ref)}
            )
        return found

    async def _silent(self, msg: WAMessage) -> None:
        """Reactions, deleted messages, system notices, groups: recorded, never answered.

        They reach no flow (so a reaction never restarts a stale one) and open no window.
        """
        now = self.clock()
        async with self.db.tx() as tx:
            fresh = await chat_store.claim_inbound(tx, CHANNEL, msg.id, msg.user_ref, now=now)
            if fresh and msg.kind != "ignored":
                await whatsapp_identity.resolve_sender(tx, msg.sender, now=now, create=False)
        logger.info(
            "whatsapp message not answered",
            extra={"kind": msg.kind, "what": msg.unsupported or msg.kind, "new": fresh},
        )

    async def _edited(self, msg: WAMessage) -> None:
        """An edited message never reaches the flow by itself. At a step waiting for typed text
        the corrected text is offered back with a button (as on Telegram); else silence."""
        now = self.clock()
        async with self.db.tx() as tx:
            if not await chat_store.claim_inbound(tx, CHANNEL, msg.id, msg.user_ref, now=now):
                return
            found = await whatsapp_identity.resolve_sender(tx, msg.sender, now=now, create=False)
            state = None
            if found is not None:
                state = await chat_store.get_state(tx, CHANNEL, found.chat.user_ref)
        if found is None or not msg.text or not self._waits_for_text(state):
            logger.info("whatsapp edit not offered", extra={"user": masked_ref(msg.user_ref)})
            return
        key = hashlib.sha256(msg.id.encode()).hexdigest()[:16]
        self._edits[key] = (found.chat.user_ref, msg.text)
        while len(self._edits) > 5_000:
            self._edits.popitem(last=False)
        t = translator(found.chat.language)
        offer = Reply(
            text=t(MSG_EDIT_OFFER).format(text=mask_text(msg.text)),
            choices=(Choice(id=EDIT_CHOICE + key, label=t(MSG_EDIT_USE)),),
        )
        await self._deliver(found.address, [offer], found.chat.language)

    def _waits_for_text(self, state: ConversationState | None) -> bool:
        """Whether the conversation waits for a typed answer (no buttons, no file, no request)."""
        flows = getattr(self.engine, "flows", {})
        flow = flows.get(state.flow) if state is not None else None
        step = flow.by_name.get(state.step) if flow is not None and state is not None else None
        if step is None or step.accepts_media or step.request is not None:
            return False
        return isinstance(step.choices, Sequence) and not step.choices

    async def _reduce_payload(self, message_id: str | None = None) -> None:
        """Processed: keep only the audit shape of the raw payload (``reduce_record``)."""
        try:
            async with self.db.tx() as tx:
                await channel_repo.reduce_processed_payloads(
                    tx, CHANNEL, reduce_record, message_id=message_id
                )
        except Exception:  # the sweep at the next start catches up
            logger.warning("whatsapp payload not reduced", exc_info=True)

    async def _incoming(self, msg: WAMessage, user_ref: str) -> Incoming:
        base: dict[str, Any] = {
            "channel": CHANNEL,
            "user_ref": user_ref,
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
        if msg.kind == "welcome":
            # The user opened the chat (request_welcome): the welcome and the menu.
            return Incoming(**base, text="menu")
        return Incoming(**base, unsupported=msg.unsupported or "unknown")

    async def _identity_change(self, msg: WAMessage) -> None:
        """The user's number or BSUID changed: the chat follows the new ids, its link is dropped
        (NIK + date of birth again) and no reply goes out (a system message)."""
        now = self.clock()
        async with self.db.tx() as tx:
            if not await chat_store.claim_inbound(tx, CHANNEL, msg.id, msg.user_ref, now=now):
                return
            chat_id = await whatsapp_identity.change_user_id(
                tx,
                previous_user_id=msg.previous_user_id,
                previous_phone=msg.phone,
                user_id=msg.new_user_id,
                phone=msg.new_phone,
                parent_user_id=msg.new_parent_user_id,
                reason=msg.text or "changed",
                now=now,
            )
        logger.info(
            "whatsapp number or user id change",
            extra={
                "user": masked_ref(msg.user_ref),
                "type": msg.text,
                "known": chat_id is not None,
            },
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
            found = await whatsapp_identity.resolve_sender(tx, msg.sender, now=now)
            if found is None:  # pragma: no cover - parse_message requires a sender
                return
            chat = found.chat
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
        await self._deliver(found.address, [Reply(text=text)], language)

    async def _address_of(self, user_ref: str) -> str:
        """A chat's address: its number when known (``to``), else its BSUID (``recipient``)."""
        async with self.db.read() as r:
            chat = await chat_store.get_chat(r, CHANNEL, user_ref)
        return user_ref if chat is None else whatsapp_identity.address_of(chat)

    async def _deliver(self, user_ref: str, replies: Sequence[Reply], language: str) -> bool:
        """Send replies in order, retrying throttling; False when they could not all go out.

        ``user_ref`` is the address: a number or a BSUID (``whatsapp_identity.address_of``).
        """
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
