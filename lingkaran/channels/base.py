"""What every channel adapter offers the rest of the bot.

A channel turns its updates into ``Incoming`` for the engine and sends ``Reply`` objects back.
For the outbox dispatcher it also implements ``Sender.send_outbound``: the dispatcher decides
*when* (rate limits, quiet hours, opt-out, retries); the sender decides *how* (free text,
buttons, a WhatsApp template outside the 24 h window) and classifies failures with the errors
below, so the dispatcher never needs channel-specific error codes.

Errors a sender raises::

    DeliveryError
    ├── RetryLater      throttled or transient (429, 5xx, network, WhatsApp 130429/131056);
    │                   ``retry_after`` seconds when the server said so
    ├── Undeliverable   the recipient can never get it (blocked bot, invalid number, 131026)
    └── HoldMessage     cannot be sent now and must wait (WhatsApp window closed and no
                        approved template for this message key)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

from starlette.requests import Request

from handlers.engine import Reply

# Every HTTP route reads at most this much of a request body (LINGKARAN_MAX_BODY_BYTES).
MAX_BODY_BYTES = 1024 * 1024


class BodyTooLarge(Exception):
    """The request body is over the route's limit (answer 413 without reading the rest)."""


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The request body, streamed and cut off at ``limit`` bytes (``BodyTooLarge`` beyond).

    A ``Content-Length`` over the limit is refused before a byte is read; without one (chunked
    transfer) the stream is counted as it arrives and abandoned as soon as it passes the limit,
    so a route never holds more than ``limit`` bytes of one request, whatever the sender claims.
    """
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > limit:
                raise BodyTooLarge(declared)
        except ValueError:
            raise BodyTooLarge(declared) from None
    parts: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(str(size))
        parts.append(chunk)
    return b"".join(parts)


class DeliveryError(Exception):
    """A send failed; the subclass says what the dispatcher should do."""

    def __init__(self, reason: str, *, code: str | int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


class RetryLater(DeliveryError):
    """Try again later (after ``retry_after`` seconds when known)."""

    def __init__(
        self, reason: str, *, retry_after: float | None = None, code: str | int | None = None
    ) -> None:
        super().__init__(reason, code=code)
        self.retry_after = retry_after


class Undeliverable(DeliveryError):
    """Stop trying: record the error on the outbox row."""


class HoldMessage(DeliveryError):
    """Keep the row queued (not failed) until the situation changes."""


class ChannelAuthFailed(DeliveryError):
    """The channel refused our credentials (an expired or revoked token: HTTP 401, Graph 190).

    No row is at fault: the dispatcher pauses the whole channel's outbox (rows stay queued),
    alerts the OPD and tries one row again now and then; a new token and a restart resume it.
    """


@dataclass(frozen=True, slots=True, kw_only=True)
class SendResult:
    """Channel message ids of what was sent (several when a long text was split)."""

    message_ids: tuple[str, ...] = ()
    via_template: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class OutboundMessage:
    """An outbox row ready to send: the message key and params plus its rendering."""

    outbox_id: int
    channel: str
    user_ref: str
    msg_key: str
    params: dict[str, Any]
    language: str
    msg_class: str
    reply: Reply
    last_inbound_at: datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def coalesce(replies: Sequence[Reply], *, max_len: int) -> list[Reply]:
    """Join consecutive plain replies into the next one (blank line between), up to ``max_len``.

    The engine speaks in short messages (a note, then the question); on a phone each message is
    a separate notification and, on Telegram and WhatsApp, a separate send under a per-chat rate
    limit (about 1 per second on Telegram, one per ~6 s per user on WhatsApp). Joining them keeps
    the conversation readable and the replies fast. A reply with buttons or a request stays the
    last part of its message; stale-press notes are never joined.
    """
    out: list[Reply] = []
    for reply in replies:
        prev = out[-1] if out else None
        if (
            prev is not None
            and not prev.choices
            and prev.request is None
            and not prev.stale_press
            and not reply.stale_press
            and len(prev.text) + 2 + len(reply.text) <= max_len
        ):
            out[-1] = replace(reply, text=f"{prev.text}\n\n{reply.text}")
        else:
            out.append(reply)
    return out


class Sender(Protocol):
    """A channel's outgoing side."""

    channel: str

    async def send_reply(self, user_ref: str, reply: Reply) -> SendResult:
        """Send one conversation reply (inside the user's own conversation)."""
        ...

    async def send_outbound(self, message: OutboundMessage) -> SendResult:
        """Send an outbox message (status change, reminder, broadcast, ticket reply)."""
        ...
