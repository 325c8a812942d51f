"""WhatsApp channel constants, settings and the webhook signature."""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from handlers.i18n import N_
from lingkaran.channels import uploads
from lingkaran.settings import Settings

logger = logging.getLogger(__name__)


CHANNEL = "whatsapp"
WEBHOOK_PATH = "/webhook/whatsapp"
DEFAULT_API_ROOT = "https://graph.facebook.com"
DEFAULT_API_VERSION = "v21.0"
TEMPLATES_FILE = Path(__file__).resolve().parents[1] / "data" / "whatsapp_templates.json"

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

# Outbox params flag set by the status handler after a 131047 failure: resend as a template.
FORCE_TEMPLATE = "_force_template"

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
# An edited message at a step waiting for typed text (the same texts as on Telegram).
MSG_EDIT_OFFER = N_(
    "Bapak/Ibu mengubah pesan menjadi:\n\n{text}\n\nPakai teks yang sudah diubah ini sebagai "
    "jawaban?"
)
MSG_EDIT_USE = N_("Pakai teks ini")
MSG_EDIT_GONE = N_("Tawaran itu sudah tidak berlaku. Silakan ketik ulang jawabannya.")
EDIT_CHOICE = "edit:"  # choice id prefix of the offer's button: "edit:<key>"


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


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _obj(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _int(value: Any, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default
