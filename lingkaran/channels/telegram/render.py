"""Replies as Telegram messages: text splitting, callback data, keyboards (pure, unit-tested).

Keyboards are the Bot API's own JSON (``{"inline_keyboard": [[{"text", "callback_data"}]]}``),
built as plain dicts: they go into the request body as they are.

* **Buttons.** ``callback_data`` is ``"{step_token}|{choice_id}"`` when that fits in Telegram's
  64 bytes. Otherwise it is ``"{step_token}#{index}"``: the index into the choices of the rendered
  reply (the channel remembers the ids of index keyboards; after a restart the pressed button's
  label is answered as typed text). The step token travels either way, so a stale keyboard or a
  double press never submits twice.
* **Text.** Sent as plain text (no ``parse_mode``), so names with ``_*[<>&`` arrive verbatim; long
  texts are split on line boundaries at 4,096 UTF-16 units (``split_text``).
* **One message per reply.** A reply that asks for a contact or a location *and* offers choices
  is one message with a reply keyboard: the request button first, the choices below it as text
  buttons (a press sends the label, which the engine matches like a typed answer). A message can
  carry only one keyboard, and a second message would cost a second budgeted send.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from handlers.engine import Reply
from handlers.i18n import N_, translator

MAX_TEXT = 4096  # Bot API sendMessage text limit
MAX_CALLBACK_BYTES = 64  # Bot API callback_data limit, in bytes
SHORT_LABEL = 20  # labels up to this length go two to a row
CHECK = "✓"

CONTACT_BUTTON = N_("Kirim nomor HP saya")
LOCATION_BUTTON = N_("Kirim lokasi saya")

Markup = dict[str, Any]
REMOVE_KEYBOARD: Markup = {"remove_keyboard": True}


def utf16_len(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Split ``text`` into chunks of at most ``limit`` UTF-16 units, on line boundaries.

    A single line longer than the limit is cut at the last space, or hard when it has none.
    Empty or blank text gives no chunks.
    """
    if not text.strip():
        return []
    if len(text) * 2 <= limit or utf16_len(text) <= limit:
        return [text]
    chunks: list[str] = []
    current = ""
    for line in text.split("\n"):
        for piece in _split_line(line, limit):
            candidate = piece if not current else f"{current}\n{piece}"
            if utf16_len(candidate) <= limit:
                current = candidate
                continue
            if current.strip():
                chunks.append(current)
            current = piece
    if current.strip():
        chunks.append(current)
    return chunks


def _split_line(line: str, limit: int) -> list[str]:
    pieces: list[str] = []
    while utf16_len(line) > limit:
        cut = _fit(line, limit)
        space = line.rfind(" ", 0, cut)
        if space > 0:
            cut = space
        pieces.append(line[:cut].rstrip())
        line = line[cut:].lstrip()
    pieces.append(line)
    return pieces


def _fit(text: str, limit: int) -> int:
    """The largest prefix length (in characters) of ``text`` within ``limit`` UTF-16 units."""
    units = 0
    for i, ch in enumerate(text):
        units += 2 if ord(ch) > 0xFFFF else 1
        if units > limit:
            return i
    return len(text)


def encode_callback(step_token: str | None, choice_id: str, index: int) -> str:
    """``token|choice_id`` when it fits in 64 bytes, else ``token#index``."""
    token = step_token or ""
    data = f"{token}|{choice_id}"
    if len(data.encode("utf-8")) <= MAX_CALLBACK_BYTES:
        return data
    return f"{token}#{index}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Press:
    """A decoded button press: the step token and either a choice id or an index."""

    step_token: str | None
    choice_id: str | None = None
    index: int | None = None


def decode_callback(data: str) -> Press | None:
    """The inverse of ``encode_callback``; None for data we never produced."""
    bar, hash_ = data.find("|"), data.find("#")
    seps = [p for p in (bar, hash_) if p >= 0]
    if not seps:
        return None
    at = min(seps)
    token = data[:at] or None
    if token is not None and not token.isdigit():
        return None
    rest = data[at + 1 :]
    if data[at] == "|":
        return Press(step_token=token, choice_id=rest) if rest else None
    if not rest.isdigit():
        return None
    return Press(step_token=token, index=int(rest))


def build_keyboard(reply: Reply) -> Markup | None:
    """Inline buttons for the reply's choices: long labels alone on a row, short ones in pairs."""
    if not reply.choices:
        return None
    rows: list[list[dict[str, str]]] = []
    pending: dict[str, str] | None = None
    for i, choice in enumerate(reply.choices):
        button = {
            "text": choice.label,
            "callback_data": encode_callback(reply.step_token, choice.id, i),
        }
        if len(choice.label) > SHORT_LABEL:
            if pending is not None:
                rows.append([pending])
                pending = None
            rows.append([button])
        elif pending is None:
            pending = button
        else:
            rows.append([pending, button])
            pending = None
    if pending is not None:
        rows.append([pending])
    return {"inline_keyboard": rows}


def request_keyboard(reply: Reply, *, lang: str) -> Markup | None:
    """The reply keyboard of a contact/location request: the request button, then the choices."""
    t = translator(lang)
    if reply.request == "contact":
        first: dict[str, Any] = {"text": t(CONTACT_BUTTON), "request_contact": True}
    elif reply.request == "location":
        first = {"text": t(LOCATION_BUTTON), "request_location": True}
    else:
        return None
    rows: list[list[dict[str, Any]]] = [[first]]
    rows.extend([{"text": c.label}] for c in reply.choices)
    return {"keyboard": rows, "one_time_keyboard": True, "resize_keyboard": True}


@dataclass(frozen=True, slots=True, kw_only=True)
class Outgoing:
    """One Telegram message to send for a reply."""

    text: str
    markup: Markup | None = None
    choice_ids: tuple[str, ...] = ()

    @property
    def uses_index(self) -> bool:
        """Whether its inline buttons carry indexes (the choice ids must be remembered)."""
        rows = (self.markup or {}).get("inline_keyboard") or ()
        return any(
            "#" in b["callback_data"] and "|" not in b["callback_data"] for row in rows for b in row
        )


def render_reply(reply: Reply, *, lang: str = "id") -> list[Outgoing]:
    """A reply as Telegram messages: split text, the keyboard under the last part."""
    chunks = split_text(reply.text) or ["…"]
    out = [Outgoing(text=c) for c in chunks[:-1]]
    request_kb = request_keyboard(reply, lang=lang)
    if request_kb is not None:
        out.append(Outgoing(text=chunks[-1], markup=request_kb))
        return out
    inline = build_keyboard(reply)
    ids = tuple(c.id for c in reply.choices) if inline is not None else ()
    out.append(Outgoing(text=chunks[-1], markup=inline, choice_ids=ids))
    return out


def pressed_label(keyboard: Any, data: str) -> str | None:
    """The label of the button with this callback data on an inline keyboard (JSON)."""
    if not isinstance(keyboard, dict):
        return None
    for row in keyboard.get("inline_keyboard") or ():
        if not isinstance(row, list):
            continue
        for button in row:
            if isinstance(button, dict) and button.get("callback_data") == data:
                text = button.get("text")
                return text if isinstance(text, str) else None
    return None


def with_check(reply: Reply, label: str) -> Reply:
    """The reply with the pressed choice shown on its first line (``✓ label``)."""
    return replace(reply, text=f"{CHECK} {label}\n\n{reply.text}")


__all__ = [
    "CHECK",
    "MAX_TEXT",
    "REMOVE_KEYBOARD",
    "Markup",
    "Outgoing",
    "Press",
    "build_keyboard",
    "decode_callback",
    "encode_callback",
    "pressed_label",
    "render_reply",
    "request_keyboard",
    "split_text",
    "utf16_len",
    "with_check",
]
