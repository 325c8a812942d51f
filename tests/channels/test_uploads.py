"""The one content check both channels use for claim documents (lingkaran.channels.uploads)."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest

from handlers.i18n import translator
from lingkaran.channels import uploads
from lingkaran.channels.uploads import UploadRejected, check_upload

FILES = Path(__file__).resolve().parents[1] / "data" / "uploads"


@pytest.mark.parametrize(
    ("name", "mime", "kind"),
    [
        ("kartu.jpg", "image/jpeg", "photo"),
        ("kartu.png", "image/png", "photo"),
        ("kartu.webp", "image/webp", "photo"),
        ("surat.pdf", "application/pdf", "document"),
    ],
)
def test_real_files_pass_with_their_real_type(name: str, mime: str, kind: str) -> None:
    checked = check_upload((FILES / name).read_bytes())
    assert (checked.mime, checked.kind) == (mime, kind)


def _png_with_bad_crc() -> bytes:
    data = bytearray((FILES / "kartu.png").read_bytes())
    data[29] ^= 0xFF  # a byte of the IHDR CRC
    return bytes(data)


def _png(width: int, height: int) -> bytes:
    ihdr = struct.pack(">II5B", width, height, 8, 2, 0, 0, 0)
    chunk = struct.pack(">I", 13) + b"IHDR" + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return b"\x89PNG\r\n\x1a\n" + chunk + b"\x00" * 100 + b"\x00\x00\x00\x00IEND\xaeB`\x82"


JPEG = (FILES / "kartu.jpg").read_bytes()
PDF = (FILES / "surat.pdf").read_bytes()
PNG = (FILES / "kartu.png").read_bytes()


def _png_with_broken_pixels() -> bytes:
    """Every structural check passes (signature, IHDR and its CRC, IEND); the pixels do not
    decode: the first IDAT's compressed stream is zeroed."""
    at = PNG.find(b"IDAT") + 10
    return PNG[:at] + bytes(20) + PNG[at + 20 :]


def _png_bomb() -> bytes:
    """A valid header claiming 20,000 × 20,000 pixels (400 MP): a decompression bomb."""
    return _png(20_000, 20_000)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "too_small"),
        (b"%", "too_small"),
        (JPEG[:60], "too_small"),
        (b"\x7fELF\x02\x01\x01" + bytes(500), "wrong_type"),  # an executable posing as a PDF
        (b"<!DOCTYPE html><html>" + b"x" * 500, "wrong_type"),
        (b"PK\x03\x04" + bytes(500), "wrong_type"),
        (b"GIF89a" + bytes(500), "wrong_type"),  # an image, but not one we take
        (JPEG[: len(JPEG) - 40], "damaged"),  # cut off: no end-of-image marker
        (b"\xff\xd8\xff\x00" + JPEG[4:], "damaged"),  # no real segment after SOI
        (_png_with_bad_crc(), "damaged"),
        (_png(0, 10), "damaged"),
        (_png_with_broken_pixels(), "damaged"),  # caught only by decoding (Pillow)
        (_png_bomb(), "damaged"),
        (PDF[: len(PDF) // 2] + bytes(2000), "damaged"),  # no %%EOF
        (b"%PDF-9.9\n" + PDF[9:], "damaged"),
        (JPEG + bytes(uploads.MAX_BYTES), "too_big"),
    ],
)
def test_bad_files_are_refused_with_a_reason(data: bytes, reason: str) -> None:
    with pytest.raises(UploadRejected) as caught:
        check_upload(data)
    assert caught.value.reason == reason


def test_a_channel_can_narrow_the_types() -> None:
    heic = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(400)
    assert check_upload(heic).mime == "image/heic"
    with pytest.raises(UploadRejected):
        check_upload(heic, allowed={"image/jpeg", "application/pdf"})
    assert check_upload(PNG).mime == "image/png"
    with pytest.raises(UploadRejected):  # a header with no real pixels does not decode
        check_upload(_png(4, 4))


def test_every_refusal_reads_clearly_in_both_languages() -> None:
    for reason in ("too_big", "too_small", "wrong_type", "damaged"):
        msgid = UploadRejected(reason).msgid  # type: ignore[arg-type]
        english = translator("en")(msgid)
        assert english != msgid
        assert "Mohon" in msgid


def test_the_body_limit_of_both_webhooks_comes_from_one_setting() -> None:
    from lingkaran.channels.telegram import TelegramConfig
    from lingkaran.channels.whatsapp import WhatsAppConfig
    from lingkaran.settings import Settings

    env = {
        "LINGKARAN_MAX_BODY_BYTES": "65536",
        "TELEGRAM_BOT_TOKEN": "1:abc",
        "WHATSAPP_ACCESS_TOKEN": "t",
        "WHATSAPP_PHONE_NUMBER_ID": "1",
        "WHATSAPP_APP_SECRET": "s",
        "WHATSAPP_VERIFY_TOKEN": "v",
    }
    settings = Settings.from_mapping(env)
    assert TelegramConfig.from_settings(settings).max_body_bytes == 65536
    assert WhatsAppConfig.from_settings(settings).max_body_bytes == 65536
    assert Settings.from_mapping({}).max_body_bytes == 1024 * 1024
