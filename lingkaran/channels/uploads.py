"""Files users send (claim documents): checked by their content, the same way on every channel.

The declared type (Telegram's ``mime_type``, WhatsApp's ``mime_type``, a file name) is the
sender's word; what counts is what the bytes are. ``check_upload`` looks at the magic bytes and
at the structure a real file of that type must have (Pillow is not a dependency, so images are
checked structurally rather than decoded):

- JPEG: SOI ``FF D8 FF`` followed by a real segment marker, a start-of-scan ``FF DA`` and the
  end-of-image ``FF D9`` near the end (a truncated upload has none);
- PNG: the 8-byte signature, a first ``IHDR`` chunk of 13 bytes with a matching CRC and a
  non-zero size, and ``IEND`` at the end;
- WEBP: ``RIFF`` with a size that fits the file, ``WEBP`` and a ``VP8 ``/``VP8L``/``VP8X`` chunk;
- HEIC/HEIF (Telegram documents from iPhones): an ``ftyp`` box with a HEIF brand;
- PDF: ``%PDF-1.x``/``%PDF-2.x`` at the start and ``%%EOF`` in the last kilobyte.

Anything else (HTML, ELF, ZIP... posing as a PDF), files under ``MIN_BYTES`` or over
``MAX_BYTES`` are refused with one of the messages below (msgids: the engine translates them
and asks the step's question again). A refused file is never stored.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Literal

from PIL import Image

from handlers.i18n import N_

__all__ = [
    "ALLOWED_DOCUMENTS",
    "MAX_BYTES",
    "MIN_BYTES",
    "MSG_DAMAGED",
    "MSG_TOO_BIG",
    "MSG_TOO_SMALL",
    "MSG_WRONG_TYPE",
    "Checked",
    "UploadRejected",
    "check_upload",
    "check_voice",
    "sniff_mime",
]

MAX_BYTES = 10 * 1024 * 1024  # our own limit for claim documents
MIN_BYTES = 100  # smaller than any real photo or scan; 0- and 1-byte files are mistakes
ALLOWED_DOCUMENTS = frozenset(
    {"image/jpeg", "image/png", "image/webp", "image/heic", "image/heif", "application/pdf"}
)

MSG_TOO_BIG = N_(
    "Berkas itu terlalu besar (lebih dari 10 MB). Mohon kirim foto biasa, bukan berkas asli, "
    "atau foto ulang dokumennya."
)
MSG_WRONG_TYPE = N_(
    "Jenis berkas itu tidak bisa kami terima. Mohon kirim foto (JPG, PNG, WEBP, HEIC) atau PDF."
)
MSG_TOO_SMALL = N_(
    "Berkas itu kosong atau terlalu kecil untuk dibaca. Mohon foto ulang dokumennya dan kirim "
    "sekali lagi."
)
MSG_DAMAGED = N_(
    "Berkas itu rusak atau tidak lengkap, jadi tidak bisa kami buka. Mohon foto ulang "
    "dokumennya, atau kirim PDF-nya sekali lagi."
)

Reason = Literal["too_big", "too_small", "wrong_type", "damaged"]
_MESSAGES: dict[Reason, str] = {
    "too_big": MSG_TOO_BIG,
    "too_small": MSG_TOO_SMALL,
    "wrong_type": MSG_WRONG_TYPE,
    "damaged": MSG_DAMAGED,
}


class UploadRejected(Exception):
    """A file we will not take: ``reason`` for logs, ``msgid`` for the user."""

    def __init__(self, reason: Reason) -> None:
        super().__init__(reason)
        self.reason: Reason = reason
        self.msgid = _MESSAGES[reason]


@dataclass(frozen=True, slots=True)
class Checked:
    """A file that passed: its real type and whether it is a photo or a document."""

    mime: str
    kind: Literal["photo", "document"]


def sniff_mime(data: bytes) -> str | None:
    """The type the first bytes announce (no structure check); None when unknown."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS:
        return "image/heic" if data[8:12] in (b"heic", b"heix", b"heim", b"heis") else "image/heif"
    return None


_HEIF_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"mif1", b"msf1", b"hevc", b"hevx"})
# Markers that may follow SOI: APPn, DQT, DHT, SOFn, DRI, COM.
_JPEG_FIRST = frozenset({*range(0xE0, 0xF0), 0xDB, 0xC4, *range(0xC0, 0xC4), 0xDD, 0xFE})
_TAIL = 1024


def _jpeg_ok(data: bytes) -> bool:
    if len(data) < 4 or data[3] not in _JPEG_FIRST:
        return False
    if b"\xff\xda" not in data:
        return False
    return data.rfind(b"\xff\xd9") >= max(0, len(data) - _TAIL)


def _png_ok(data: bytes) -> bool:
    head = data[8:33]
    if len(head) < 25:
        return False
    length, ctype = struct.unpack(">I4s", head[:8])
    if length != 13 or ctype != b"IHDR":
        return False
    width, height = struct.unpack(">II", head[8:16])
    (crc,) = struct.unpack(">I", head[21:25])
    if width == 0 or height == 0 or zlib.crc32(head[4:21]) != crc:
        return False
    return data.rfind(b"IEND") >= max(0, len(data) - 12)


def _webp_ok(data: bytes) -> bool:
    (size,) = struct.unpack("<I", data[4:8])
    return size + 8 <= len(data) + 1 and size >= 12 and data[12:16] in (b"VP8 ", b"VP8L", b"VP8X")


def _pdf_ok(data: bytes) -> bool:
    if not (data.startswith(b"%PDF-1.") or data.startswith(b"%PDF-2.")):
        return False
    return b"%%EOF" in data[-_TAIL:]


def _heif_ok(data: bytes) -> bool:
    return True  # the ftyp brand is all we can check without a decoder


_STRUCTURE: dict[str, Callable[[bytes], bool]] = {
    "image/jpeg": _jpeg_ok,
    "image/png": _png_ok,
    "image/webp": _webp_ok,
    "application/pdf": _pdf_ok,
    "image/heic": _heif_ok,
    "image/heif": _heif_ok,
}


# A photo of a KTP or a letter is a few megapixels; 50 MP refuses decompression bombs.
MAX_PIXELS = 50_000_000


def _decodes(data: bytes, mime: str) -> bool:
    """Whether an image really decodes (Pillow): PNG and WebP fully, JPEG at 1/8 scale."""
    if not mime.startswith("image/") or mime in ("image/heic", "image/heif"):
        return True  # PDFs are checked by structure; HEIF has no decoder here
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            if width <= 0 or height <= 0 or width * height > MAX_PIXELS:
                return False
            if image.format == "JPEG":
                image.draft("RGB", (max(1, width // 8), max(1, height // 8)))
            image.load()
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return False
    return True


def check_upload(data: bytes, *, allowed: Collection[str] = ALLOWED_DOCUMENTS) -> Checked:
    """The real type of ``data`` when we take it; ``UploadRejected`` says why not."""
    if len(data) > MAX_BYTES:
        raise UploadRejected("too_big")
    if len(data) < MIN_BYTES:
        raise UploadRejected("too_small")
    mime = sniff_mime(data)
    if mime is None or mime not in allowed:
        raise UploadRejected("wrong_type")
    if not _STRUCTURE[mime](data) or not _decodes(data, mime):
        raise UploadRejected("damaged")
    return Checked(mime=mime, kind="document" if mime == "application/pdf" else "photo")


VOICE_MAX_BYTES = 16 * 1024 * 1024  # WhatsApp's own audio cap


def check_voice(data: bytes) -> str:
    """The real type of a voice note (Ogg/Opus, AMR, MP4/M4A or MPEG audio); raises if not one.

    Voice notes are kept for a person to listen to, so they pass the same gate as documents:
    what the bytes are, not what the sender declared, within a size range.
    """
    if len(data) > VOICE_MAX_BYTES:
        raise UploadRejected("too_big")
    if len(data) < MIN_BYTES:
        raise UploadRejected("too_small")
    if data.startswith(b"OggS"):
        return "audio/ogg"
    if data.startswith(b"#!AMR"):
        return "audio/amr"
    if data[4:8] == b"ftyp" and data[8:11] in (b"M4A", b"mp4", b"iso", b"3gp"):
        return "audio/mp4"
    if data.startswith(b"ID3") or (data[0] == 0xFF and data[1] & 0xE0 == 0xE0):
        return "audio/mpeg"
    raise UploadRejected("wrong_type")
