"""Telegram updates as the few facts the bot uses (``TgUpdate``), from PTB or from raw JSON.

Two readers give the same ``TgUpdate``:

* ``update_from_ptb`` reads a ``telegram.Update`` - the normal path: the intake's worker turns a
  recorded update into ``Update.de_json(data, application.bot)`` and hands it to
  ``Application.process_update``, whose ``TypeHandler`` calls this (``channel.py``).
* ``parse_update`` reads the raw JSON, defensively (a field of the wrong type counts as absent,
  an unknown field is ignored). The intake uses it to *record* an update (its ledger key, its
  chat, private or not) before anything else may fail, and the channel falls back on it for the
  shapes ``Update.de_json`` raises on (an empty ``thumbnail``, a poll from an older Bot API
  server...). An update without the essentials (an integer id, a chat with an integer id)
  raises ``Unreadable``; the intake records it for staff (``unparsed_updates``).

``intake_key`` names an update in the inbound ledger: a private message by
``"{chat}:{message_id}"`` and a button press by ``"cb:{callback_query_id}"`` (the ids the engine
records in the same transaction as the step, so a redelivery is a no-op), anything else by
``"upd:{update_id}"``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

from telegram import Document as PtbDocument
from telegram import InaccessibleMessage, InlineKeyboardMarkup, Message, Update, User
from telegram import PhotoSize as PtbPhotoSize

from lingkaran_core.logs import mask_text

UpdateKind = Literal["message", "edited_message", "callback_query", "my_chat_member", "other"]

UNSUPPORTED_KINDS = (
    "sticker",
    "voice",
    "video",
    "video_note",
    "audio",
    "animation",
    "poll",
    "dice",
    "venue",
    "game",
    "story",
    "invoice",
    "paid_media",
)
# Service messages (a pin, a timer change...): nothing a user said, never answered.
SERVICE_KINDS = (
    "new_chat_members",
    "left_chat_member",
    "new_chat_title",
    "new_chat_photo",
    "delete_chat_photo",
    "group_chat_created",
    "supergroup_chat_created",
    "channel_chat_created",
    "message_auto_delete_timer_changed",
    "migrate_to_chat_id",
    "migrate_from_chat_id",
    "pinned_message",
    "connected_website",
    "write_access_allowed",
    "proximity_alert_triggered",
    "chat_background_set",
    "boost_added",
    "forum_topic_created",
    "forum_topic_edited",
    "forum_topic_closed",
    "forum_topic_reopened",
    "general_forum_topic_hidden",
    "general_forum_topic_unhidden",
    "video_chat_scheduled",
    "video_chat_started",
    "video_chat_ended",
    "video_chat_participants_invited",
    "successful_payment",
    "refunded_payment",
    "users_shared",
    "chat_shared",
    "giveaway_created",
    "giveaway_completed",
    "giveaway_winners",
)
PAYLOAD_MAX = 8192


class Unreadable(ValueError):
    """An update the bot cannot read: ``kind`` is its type, ``reason`` what is missing."""

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(f"{kind}: {reason}")
        self.kind = kind
        self.reason = reason


@dataclass(frozen=True, slots=True, kw_only=True)
class Sender:
    """Who sent a message or pressed a button."""

    id: int
    first_name: str | None = None
    language_code: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class FileRef:
    """A file on Telegram's servers (a photo size or a document)."""

    file_id: str
    file_size: int | None = None
    mime_type: str | None = None
    file_name: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Contact:
    """A shared contact card."""

    phone_number: str
    user_id: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class TgMessage:
    """A message (or an edited one, or the one a button sat on)."""

    chat_id: int
    chat_type: str
    message_id: int
    sender: Sender | None = None
    text: str | None = None
    photo: tuple[FileRef, ...] = ()
    document: FileRef | None = None
    voice: FileRef | None = None  # a voice note or an audio file (kept for a person)
    contact: Contact | None = None
    location: tuple[float, float] | None = None
    edit_date: int | None = None
    kind: str = "other"  # text, photo, document, contact, location, service, or an unsupported one
    keyboard: dict[str, Any] | None = None  # the inline keyboard it carries (presses)

    @property
    def private(self) -> bool:
        """Whether it is a one-to-one chat with the bot."""
        return self.chat_type == "private"


@dataclass(frozen=True, slots=True, kw_only=True)
class TgPress:
    """A button press (``callback_query``)."""

    id: str
    data: str
    sender: Sender
    message: TgMessage | None = None

    @property
    def chat_id(self) -> int:
        """The chat of the pressed message (the user's own id when it is not given)."""
        return self.message.chat_id if self.message is not None else self.sender.id


@dataclass(frozen=True, slots=True, kw_only=True)
class TgMemberChange:
    """The bot's membership in a chat changed (a private chat: the user blocked/unblocked it)."""

    chat_id: int
    chat_type: str
    status: str


@dataclass(frozen=True, slots=True, kw_only=True)
class TgUpdate:
    """One update: its id, its kind and the part of it that kind carries."""

    update_id: int
    kind: UpdateKind
    message: TgMessage | None = None
    press: TgPress | None = None
    member: TgMemberChange | None = None
    # The JSON it was read from (what the intake recorded; None when read from a PTB Update).
    raw: dict[str, Any] | None = field(default=None, compare=False, repr=False)

    @property
    def chat_id(self) -> int | None:
        """The chat it belongs to (None for kinds without one)."""
        if self.message is not None:
            return self.message.chat_id
        if self.press is not None:
            return self.press.chat_id
        if self.member is not None:
            return self.member.chat_id
        return None

    @property
    def private(self) -> bool:
        """Whether it comes from a private chat (groups are never recorded)."""
        if self.message is not None:
            return self.message.private
        if self.press is not None:
            return self.press.message is None or self.press.message.private
        if self.member is not None:
            return self.member.chat_type == "private"
        return False

    def with_raw(self, raw: dict[str, Any]) -> TgUpdate:
        """The same update, remembering the JSON it came from."""
        return TgUpdate(
            update_id=self.update_id,
            kind=self.kind,
            message=self.message,
            press=self.press,
            member=self.member,
            raw=raw,
        )

    @property
    def key(self) -> str:
        """Its name in the inbound ledger (see the module docstring)."""
        if self.kind == "message" and self.message is not None:
            return f"{self.message.chat_id}:{self.message.message_id}"
        if self.kind == "callback_query" and self.press is not None:
            return f"cb:{self.press.id}"
        return f"upd:{self.update_id}"


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _sender(raw: Any) -> Sender | None:
    data = _dict(raw)
    uid = _int(data.get("id"))
    if uid is None:
        return None
    return Sender(
        id=uid,
        first_name=_str(data.get("first_name")),
        language_code=_str(data.get("language_code")),
    )


def _file(raw: Any) -> FileRef | None:
    data = _dict(raw)
    file_id = _str(data.get("file_id"))
    if not file_id:
        return None
    return FileRef(
        file_id=file_id,
        file_size=_int(data.get("file_size")),
        mime_type=_str(data.get("mime_type")),
        file_name=_str(data.get("file_name")),
    )


def parse_message(raw: Any, *, kind: str = "message") -> TgMessage:
    """A ``Message`` object; ``Unreadable`` without a chat id or a message id."""
    data = _dict(raw)
    chat = _dict(data.get("chat"))
    chat_id = _int(chat.get("id"))
    message_id = _int(data.get("message_id"))
    if chat_id is None or message_id is None:
        raise Unreadable(kind, "no chat id or message id")
    fields: dict[str, Any] = {
        "chat_id": chat_id,
        "chat_type": _str(chat.get("type")) or "private",
        "message_id": message_id,
        "sender": _sender(data.get("from")),
        "edit_date": _int(data.get("edit_date")),
    }
    markup = data.get("reply_markup")
    if isinstance(markup, dict) and isinstance(markup.get("inline_keyboard"), list):
        fields["keyboard"] = markup
    text = _str(data.get("text"))
    if text is not None:
        return TgMessage(**fields, text=text, kind="text")
    photos = data.get("photo")
    if isinstance(photos, list) and photos:
        sizes = tuple(f for f in (_file(p) for p in photos) if f is not None)
        if sizes:
            return TgMessage(**fields, photo=sizes, kind="photo")
    document = _file(data.get("document"))
    if document is not None:
        return TgMessage(**fields, document=document, kind="document")
    voice = _file(data.get("voice")) or _file(data.get("audio"))
    if voice is not None:
        return TgMessage(**fields, voice=voice, kind="voice")
    contact = _dict(data.get("contact"))
    phone = _str(contact.get("phone_number"))
    if phone is not None:
        return TgMessage(
            **fields,
            contact=Contact(phone_number=phone, user_id=_int(contact.get("user_id"))),
            kind="contact",
        )
    location = _dict(data.get("location"))
    lat, lon = location.get("latitude"), location.get("longitude")
    if isinstance(lat, int | float) and isinstance(lon, int | float) and "venue" not in data:
        return TgMessage(**fields, location=(float(lat), float(lon)), kind="location")
    unsupported = next((k for k in UNSUPPORTED_KINDS if data.get(k)), None)
    if unsupported is not None:
        return TgMessage(**fields, kind=unsupported)
    if any(k in data for k in SERVICE_KINDS):
        return TgMessage(**fields, kind="service")
    return TgMessage(**fields, kind="other")


def parse_update(data: Any) -> TgUpdate:
    """An update as ``TgUpdate``; ``Unreadable`` when the essentials are missing."""
    if not isinstance(data, dict):
        raise Unreadable("empty", "not an object")
    update_id = _int(data.get("update_id"))
    kind = kind_of(data)
    if update_id is None:
        raise Unreadable(kind, "no update id")
    return _parse(data, update_id, kind).with_raw(data)


def _parse(data: dict[str, Any], update_id: int, kind: UpdateKind) -> TgUpdate:
    if kind in ("message", "edited_message"):
        return TgUpdate(
            update_id=update_id, kind=kind, message=parse_message(data[kind], kind=kind)
        )
    if kind == "callback_query":
        raw = _dict(data["callback_query"])
        press_id = _str(raw.get("id"))
        sender = _sender(raw.get("from"))
        if not press_id or sender is None:
            raise Unreadable(kind, "no id or sender")
        message: TgMessage | None = None
        if raw.get("message") is not None:
            try:
                message = parse_message(raw["message"], kind=kind)
            except Unreadable:
                message = None  # an inaccessible message: answer by the sender's own chat
        press = TgPress(
            id=press_id, data=_str(raw.get("data")) or "", sender=sender, message=message
        )
        return TgUpdate(update_id=update_id, kind="callback_query", press=press)
    if kind == "my_chat_member":
        raw = _dict(data["my_chat_member"])
        chat = _dict(raw.get("chat"))
        chat_id = _int(chat.get("id"))
        if chat_id is None:
            raise Unreadable(kind, "no chat id")
        member = TgMemberChange(
            chat_id=chat_id,
            chat_type=_str(chat.get("type")) or "private",
            status=_str(_dict(raw.get("new_chat_member")).get("status")) or "",
        )
        return TgUpdate(update_id=update_id, kind="my_chat_member", member=member)
    return TgUpdate(update_id=update_id, kind="other")


# -- from PTB objects ------------------------------------------------------------------------------


def _ptb_sender(user: User | None) -> Sender | None:
    if user is None:
        return None
    return Sender(id=user.id, first_name=user.first_name, language_code=user.language_code)


def _ptb_file(f: PtbPhotoSize | PtbDocument) -> FileRef:
    return FileRef(
        file_id=f.file_id,
        file_size=f.file_size,
        mime_type=getattr(f, "mime_type", None),
        file_name=getattr(f, "file_name", None),
    )


def message_from_ptb(message: Message) -> TgMessage:
    """A ``telegram.Message`` as ``TgMessage`` (the same facts ``parse_message`` reads)."""
    fields: dict[str, Any] = {
        "chat_id": message.chat.id,
        "chat_type": message.chat.type or "private",
        "message_id": message.message_id,
        "sender": _ptb_sender(message.from_user),
        "edit_date": int(message.edit_date.timestamp()) if message.edit_date else None,
    }
    if isinstance(message.reply_markup, InlineKeyboardMarkup):
        fields["keyboard"] = message.reply_markup.to_dict()
    if message.text is not None:
        return TgMessage(**fields, text=message.text, kind="text")
    if message.photo:
        return TgMessage(**fields, photo=tuple(_ptb_file(p) for p in message.photo), kind="photo")
    if message.document is not None:
        return TgMessage(**fields, document=_ptb_file(message.document), kind="document")
    sound = message.voice or message.audio
    if sound is not None:
        return TgMessage(**fields, voice=_ptb_file(sound), kind="voice")  # type: ignore[arg-type]
    if message.contact is not None:
        contact = Contact(
            phone_number=message.contact.phone_number, user_id=message.contact.user_id
        )
        return TgMessage(**fields, contact=contact, kind="contact")
    if message.location is not None and message.venue is None:
        where = (float(message.location.latitude), float(message.location.longitude))
        return TgMessage(**fields, location=where, kind="location")
    unsupported = next((k for k in UNSUPPORTED_KINDS if getattr(message, k, None)), None)
    if unsupported is not None:
        return TgMessage(**fields, kind=unsupported)
    if any(getattr(message, k, None) for k in SERVICE_KINDS):
        return TgMessage(**fields, kind="service")
    return TgMessage(**fields, kind="other")


def update_from_ptb(update: Update) -> TgUpdate:
    """A ``telegram.Update`` as ``TgUpdate`` (the same result as ``parse_update`` on its JSON)."""
    uid = update.update_id
    if update.message is not None:
        return TgUpdate(update_id=uid, kind="message", message=message_from_ptb(update.message))
    if update.callback_query is not None:
        query = update.callback_query
        on: TgMessage | None = None
        if isinstance(query.message, Message):
            on = message_from_ptb(query.message)
        elif isinstance(query.message, InaccessibleMessage):
            chat = query.message.chat
            on = TgMessage(
                chat_id=chat.id,
                chat_type=chat.type or "private",
                message_id=query.message.message_id,
            )
        sender = _ptb_sender(query.from_user)
        assert sender is not None  # a press always has a sender
        press = TgPress(id=query.id, data=query.data or "", sender=sender, message=on)
        return TgUpdate(update_id=uid, kind="callback_query", press=press)
    if update.edited_message is not None:
        return TgUpdate(
            update_id=uid, kind="edited_message", message=message_from_ptb(update.edited_message)
        )
    if update.my_chat_member is not None:
        change = update.my_chat_member
        member = TgMemberChange(
            chat_id=change.chat.id,
            chat_type=change.chat.type or "private",
            status=change.new_chat_member.status,
        )
        return TgUpdate(update_id=uid, kind="my_chat_member", member=member)
    return TgUpdate(update_id=uid, kind="other")


def kind_of(data: dict[str, Any]) -> UpdateKind:
    """Which of the update types we take it is (``other`` for the rest)."""
    for kind in ("message", "callback_query", "edited_message", "my_chat_member"):
        if kind in data:
            return kind
    return "other"


def masked_payload(data: Any) -> str:
    """An update as compact JSON with NIKs and phone numbers masked (for staff), bounded."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return mask_text(text)[:PAYLOAD_MAX]


def raw_kind(data: Any) -> str:
    """The type of an update for a log line, whatever its shape."""
    if not isinstance(data, dict):
        return "empty"
    kinds = [k for k in data if k != "update_id"]
    return str(kinds[0]) if kinds else "empty"


__all__ = [
    "Contact",
    "FileRef",
    "Sender",
    "TgMemberChange",
    "TgMessage",
    "TgPress",
    "TgUpdate",
    "Unreadable",
    "masked_payload",
    "message_from_ptb",
    "parse_message",
    "parse_update",
    "raw_kind",
    "update_from_ptb",
]
