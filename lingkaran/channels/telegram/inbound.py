"""A Telegram message as the engine's ``Incoming``: text, contact, location, or a file.

Files (photos, documents) are downloaded here (``ExtBot.get_file``, then
``File.download_as_bytearray``) and judged by their bytes (``lingkaran.channels.uploads``); a refused one becomes a reason the engine
translates and follows with the same question.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

from handlers.engine import Incoming, Media
from handlers.i18n import N_
from lingkaran.channels import uploads

from .botapi import BadRequest, BotAPI, BotAPIError, NetworkError
from .config import CHANNEL
from .updates import TgMessage

logger = logging.getLogger(__name__)

MAX_FILE_BYTES = uploads.MAX_BYTES  # our own limit for claim documents
ALLOWED_MIME = uploads.ALLOWED_DOCUMENTS

# Shown through the engine (Incoming.rejected_media is a msgid it translates and follows with
# the step's question again), so the user gets a clear reason and the same question.
FILE_TOO_BIG = uploads.MSG_TOO_BIG
FILE_WRONG_TYPE = uploads.MSG_WRONG_TYPE
FILE_NOT_DOWNLOADED = N_("Berkas itu gagal kami terima. Mohon kirim sekali lagi.")
CONTACT_NOT_OWN = N_(
    'Itu nomor orang lain. Mohon tekan tombol "Kirim nomor HP saya", atau ketik nomor HP '
    "yang bisa dihubungi."
)


async def incoming_from_message(
    api: BotAPI, message: TgMessage, *, text: str | None = None
) -> Incoming:
    """A Telegram message as an ``Incoming`` (downloading a photo or document)."""
    user = message.sender
    base: dict[str, Any] = {
        "channel": CHANNEL,
        "user_ref": str(message.chat_id),
        "message_id": f"{message.chat_id}:{message.message_id}",
        "display_name": user.first_name if user else None,
    }
    if text is not None:
        return Incoming(**base, text=text)
    if message.photo:
        photo = message.photo[-1]  # the largest size comes last
        return await _media_incoming(
            api, base, photo.file_id, photo.file_size, "image/jpeg", "photo", None
        )
    if message.document is not None:
        doc = message.document
        mime = (doc.mime_type or "").lower()
        if mime not in ALLOWED_MIME:
            return Incoming(**base, rejected_media=FILE_WRONG_TYPE)
        kind: Literal["photo", "document"] = "photo" if mime.startswith("image/") else "document"
        return await _media_incoming(
            api, base, doc.file_id, doc.file_size, mime, kind, doc.file_name
        )
    if message.voice is not None:
        # Kept on a ticket for a person to listen to (the engine answers the user).
        return await _voice_incoming(api, base, message.voice.file_id, message.voice.file_size)
    if message.contact is not None:
        contact = message.contact
        # Only the user's own number counts (TECH.md §9): anyone can share anyone's card.
        if user is None or contact.user_id != user.id:
            return Incoming(**base, rejected_media=CONTACT_NOT_OWN)
        phone = contact.phone_number.strip()
        if phone.isdigit():
            phone = "+" + phone  # Telegram sends international numbers without the plus
        return Incoming(**base, contact_phone=phone)
    if message.location is not None:
        return Incoming(**base, location=message.location)
    return Incoming(**base, unsupported=message.kind)


async def _voice_incoming(
    api: BotAPI, base: dict[str, Any], file_id: str, size: int | None
) -> Incoming:
    if size is not None and size > uploads.VOICE_MAX_BYTES:
        return Incoming(**base, rejected_media=FILE_TOO_BIG)
    try:
        info = await api.run(api.bot.get_file(file_id), method="getFile")
        if not info.file_path:
            raise NetworkError("getFile: no file_path")
        data = bytes(await api.run(info.download_as_bytearray(), method="download"))
    except BotAPIError as exc:
        logger.warning("telegram download failed", extra={"error": type(exc).__name__})
        return Incoming(**base, rejected_media=FILE_NOT_DOWNLOADED)
    try:
        mime = uploads.check_voice(data)
    except uploads.UploadRejected as exc:
        logger.info("telegram voice refused", extra={"reason": exc.reason})
        return Incoming(**base, unsupported="voice")
    return Incoming(**base, media=Media(data=data, mime=mime, kind="voice"))


async def _media_incoming(
    api: BotAPI,
    base: dict[str, Any],
    file_id: str,
    size: int | None,
    mime: str,
    kind: Literal["photo", "document"],
    filename: str | None,
) -> Incoming:
    if size is not None and size > MAX_FILE_BYTES:
        return Incoming(**base, rejected_media=FILE_TOO_BIG)
    if size is not None and size < uploads.MIN_BYTES:
        return Incoming(**base, rejected_media=uploads.MSG_TOO_SMALL)
    try:
        info = await api.run(api.bot.get_file(file_id), method="getFile")
        if info.file_size is not None and info.file_size > MAX_FILE_BYTES:
            return Incoming(**base, rejected_media=FILE_TOO_BIG)
        if not info.file_path:
            raise NetworkError("getFile: no file_path")
        data = bytes(await api.run(info.download_as_bytearray(), method="download"))
        if len(data) > MAX_FILE_BYTES:
            return Incoming(**base, rejected_media=FILE_TOO_BIG)
    except BadRequest as exc:
        logger.warning("telegram download failed", extra={"error": type(exc).__name__})
        return Incoming(**base, rejected_media=FILE_NOT_DOWNLOADED)
    except BotAPIError as exc:
        logger.warning("telegram download failed", extra={"error": type(exc).__name__})
        return Incoming(**base, rejected_media=FILE_NOT_DOWNLOADED)
    try:
        # The declared type is the sender's word: the bytes decide (and are not stored
        # when refused).
        checked = uploads.check_upload(data, allowed=ALLOWED_MIME)
    except uploads.UploadRejected as exc:
        logger.info("telegram upload refused", extra={"reason": exc.reason, "declared": mime})
        return Incoming(**base, rejected_media=exc.msgid)
    return Incoming(
        **base, media=Media(data=data, mime=checked.mime, kind=checked.kind, filename=filename)
    )
