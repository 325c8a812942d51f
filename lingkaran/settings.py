"""Every setting of the bot, declared once, typed and validated at start-up.

The only module that reads the process environment (and a ``.env`` file in the working
directory; the real environment wins). ``load_settings()`` raises ``SettingsError`` with one line
per bad variable, naming it; the command line prints that line and exits 2, never a traceback.
``Settings.from_mapping`` validates a plain mapping and ignores the environment (tests, tools).

The README's configuration table is generated from ``SETTINGS_TABLE`` (``lingkaran settings
--markdown``) and a test keeps the two equal.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from lingkaran_core import outbox as outbox_policy
from lingkaran_core import rules
from lingkaran_core.retention import RetentionPolicy

__all__ = [
    "SETTINGS_TABLE",
    "Settings",
    "SettingsError",
    "documents_dir_for",
    "is_postgres_target",
    "load_settings",
    "markdown_table",
]

_D = outbox_policy.DEFAULT_CONFIG
_SECRET_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")  # Bot API setWebhook secret_token
_API_VERSION = re.compile(r"^v\d+\.\d+$")


def is_postgres_target(db: str | Path) -> bool:
    """Whether a ``--db``/``LINGKARAN_DB`` value names PostgreSQL (else a SQLite file)."""
    return isinstance(db, str) and db.startswith(("postgresql://", "postgres://"))


def documents_dir_for(db: str | Path, files_dir: Path | None = None) -> Path:
    """The documents folder of database ``db``: ``files_dir``, else beside the SQLite file."""
    if files_dir is not None:
        return files_dir
    return Path("data/files") if is_postgres_target(db) else Path(db).parent / "files"


class SettingsError(ValueError):
    """One or more settings are invalid; ``str()`` is one line per variable."""


def _env(name: str, *extra: str) -> Any:
    """The alias of a field: its environment variable (plus older spellings)."""
    return AliasChoices(name, *extra) if extra else name


class Settings(BaseSettings):
    """The bot's configuration. Field aliases are the environment variable names."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        env_ignore_empty=True,
        extra="ignore",
        case_sensitive=True,
        populate_by_name=True,
        frozen=True,
    )

    # -- storage and process --------------------------------------------------------------
    db: str = Field(
        "data/lingkaran.db",
        validation_alias=_env("LINGKARAN_DB"),
        description=(
            "SQLite database file, or a PostgreSQL URL (postgresql://user@host/name; "
            "the password from PGPASSWORD or ~/.pgpass)"
        ),
    )
    db_pool: int = Field(
        4,
        ge=1,
        le=64,
        validation_alias=_env("LINGKARAN_DB_POOL"),
        description="PostgreSQL connections per process (units of work of different users at once)",
    )
    files_dir: Path | None = Field(
        None,
        validation_alias=_env("LINGKARAN_FILES_DIR"),
        description=(
            "claim documents and photos (private); default: `files` beside the SQLite file, "
            "`data/files` with PostgreSQL (give a shared folder to several instances)"
        ),
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] | None = Field(
        None,
        validation_alias=_env("LINGKARAN_LOG_LEVEL"),
        description="log level (default: INFO for servers, WARNING for chat and admin)",
    )
    host: str = Field(
        "127.0.0.1",
        validation_alias=_env("LINGKARAN_HOST"),
        description="address of the one web server (webhooks, health); --host overrides",
    )
    port: Annotated[int, Field(ge=0, le=65535)] = Field(
        8080,
        validation_alias=_env("LINGKARAN_PORT"),
        description="port of the one web server; --port overrides",
    )
    max_body_bytes: Annotated[int, Field(ge=1024, le=64 * 1024 * 1024)] = Field(
        1024 * 1024,
        validation_alias=_env("LINGKARAN_MAX_BODY_BYTES"),
        description="largest request body any web route reads (webhooks); larger ones get 413",
    )
    admin_actor: str = Field(
        "admin",
        validation_alias=_env("LINGKARAN_ADMIN_ACTOR", "USER"),
        description="who the admin CLI records as actor in the audit log (default: $USER)",
    )

    retention_conversation_days: Annotated[int, Field(ge=1, le=3650)] = Field(
        30,
        validation_alias=_env("LINGKARAN_RETENTION_CONVERSATION_DAYS"),
        description="days a quiet chat's typed answers, drafts and replies are kept",
    )
    retention_document_days: Annotated[int, Field(ge=30, le=3650)] = Field(
        365,
        validation_alias=_env("LINGKARAN_RETENTION_DOCUMENT_DAYS"),
        description="days the files of a paid, rejected or withdrawn claim are kept",
    )
    max_links_per_chat: Annotated[int, Field(ge=1, le=20)] = Field(
        rules.MAX_LINKS_PER_CHAT,
        validation_alias=_env("LINGKARAN_MAX_LINKS_PER_CHAT"),
        description="workers one chat (a household's phone) may be linked to",
    )
    log_format: Literal["kv", "json"] = Field(
        "kv",
        validation_alias=_env("LINGKARAN_LOG_FORMAT"),
        description="log lines as key=value text or as JSON objects (NIKs masked either way)",
    )

    console_idle_minutes: Annotated[int, Field(ge=1, le=24 * 60)] = Field(
        30,
        validation_alias=_env("LINGKARAN_CONSOLE_IDLE_MINUTES"),
        description="minutes of inactivity after which a console session ends",
    )
    console_secure_cookies: bool | None = Field(
        None,
        validation_alias=_env("LINGKARAN_CONSOLE_SECURE_COOKIES"),
        description="Secure session cookies (default: when the request is https; set true behind a TLS proxy)",
    )

    # -- Telegram ----------------------------------------------------------------------------
    telegram_bot_token: SecretStr | None = Field(
        None,
        validation_alias=_env("TELEGRAM_BOT_TOKEN"),
        description="token from @BotFather; enables Telegram",
    )
    telegram_api_base_url: str = Field(
        "https://api.telegram.org",
        validation_alias=_env("TELEGRAM_API_BASE_URL"),
        description="Bot API root (a local Bot API server or a test fake)",
    )
    telegram_webhook_url: str | None = Field(
        None,
        validation_alias=_env("TELEGRAM_WEBHOOK_URL"),
        description="public HTTPS URL for webhook mode (default: long polling)",
    )
    telegram_webhook_secret: SecretStr | None = Field(
        None,
        validation_alias=_env("TELEGRAM_WEBHOOK_SECRET"),
        description="X-Telegram-Bot-Api-Secret-Token, 1-256 of A-Z a-z 0-9 _ - (webhook mode)",
    )
    telegram_rate: Annotated[float, Field(gt=0, le=1000)] = Field(
        30.0,
        validation_alias=_env("LINGKARAN_TELEGRAM_RATE"),
        description="messages per second to Telegram (replies and outbox share it), overall",
    )
    telegram_per_chat_seconds: Annotated[float, Field(ge=0, le=3600)] = Field(
        1.0,
        validation_alias=_env("LINGKARAN_TELEGRAM_PER_CHAT_SECONDS"),
        description="seconds between outbox (bulk) messages to one Telegram chat",
    )

    # -- WhatsApp ----------------------------------------------------------------------------
    whatsapp_access_token: SecretStr | None = Field(
        None,
        validation_alias=_env("WHATSAPP_ACCESS_TOKEN"),
        description="Cloud API access token (system user); enables WhatsApp with the next three",
    )
    whatsapp_phone_number_id: str | None = Field(
        None,
        validation_alias=_env("WHATSAPP_PHONE_NUMBER_ID"),
        description="the business phone number id",
    )
    whatsapp_app_secret: SecretStr | None = Field(
        None,
        validation_alias=_env("WHATSAPP_APP_SECRET"),
        description="the Meta app secret (webhook signatures)",
    )
    whatsapp_verify_token: SecretStr | None = Field(
        None,
        validation_alias=_env("WHATSAPP_VERIFY_TOKEN"),
        description="the webhook verify token you chose in the Meta app",
    )
    whatsapp_graph_api_base_url: str = Field(
        "https://graph.facebook.com",
        validation_alias=_env("WHATSAPP_GRAPH_API_BASE_URL"),
        description="Graph API root without version (a test fake)",
    )
    whatsapp_api_version: str = Field(
        "v21.0",
        validation_alias=_env("WHATSAPP_API_VERSION"),
        description="Graph API version, e.g. v21.0",
    )
    whatsapp_rate: Annotated[float, Field(gt=0, le=1000)] = Field(
        80.0,
        validation_alias=_env("LINGKARAN_WHATSAPP_RATE"),
        description="messages per second to WhatsApp, replies and outbox (Cloud API default 80)",
    )
    whatsapp_per_user_seconds: Annotated[float, Field(ge=0, le=3600)] = Field(
        6.0,
        validation_alias=_env("LINGKARAN_WHATSAPP_PER_USER_SECONDS"),
        description="seconds between outbox (bulk) messages to one WhatsApp user (pair rate)",
    )
    wa_tier: int | None = Field(
        _D.wa_tier,
        validation_alias=_env("LINGKARAN_WA_TIER"),
        description="business-initiated users per 24 h (250, 2000, 10000, 100000 or unlimited)",
    )
    wa_tier_share: Annotated[float, Field(gt=0, le=1)] = Field(
        _D.wa_tier_share,
        validation_alias=_env("LINGKARAN_WA_TIER_SHARE"),
        description="share of the tier the bot may use",
    )
    wa_template_price_idr: Annotated[int, Field(ge=0)] = Field(
        _D.wa_template_price,
        validation_alias=_env("LINGKARAN_WA_TEMPLATE_PRICE_IDR"),
        description="rupiah per template message, for broadcast estimates",
    )
    outbox_max_attempts: Annotated[int, Field(ge=1, le=100)] = Field(
        _D.max_attempts,
        validation_alias=_env("LINGKARAN_OUTBOX_MAX_ATTEMPTS"),
        description="send attempts before a message is dead-lettered",
    )

    # -- validators --------------------------------------------------------------------------

    @field_validator("telegram_api_base_url", "whatsapp_graph_api_base_url", "telegram_webhook_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip().rstrip("/")
        if not re.match(r"^https?://[^\s/]+", value):
            raise ValueError(f"not an http(s) URL: {value!r}")
        return value

    @field_validator("telegram_webhook_secret")
    @classmethod
    def _secret_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _SECRET_TOKEN.match(value.get_secret_value()):
            raise ValueError("1-256 characters from A-Z a-z 0-9 _ - (Bot API secret_token)")
        return value

    @field_validator("whatsapp_api_version")
    @classmethod
    def _version(cls, value: str) -> str:
        value = value.strip().strip("/")
        if not _API_VERSION.match(value):
            raise ValueError(f"not a Graph API version like v21.0: {value!r}")
        return value

    @field_validator("wa_tier", mode="before")
    @classmethod
    def _tier(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip().lower() in ("unlimited", "none"):
            return None
        return value

    @field_validator("wa_tier")
    @classmethod
    def _tier_positive(cls, value: int | None) -> int | None:
        if value is not None and value <= 0:
            raise ValueError("a positive number of users, or 'unlimited'")
        return value

    # -- derived -------------------------------------------------------------------------------

    @property
    def db_is_postgres(self) -> bool:
        """Whether ``db`` names a PostgreSQL database rather than a SQLite file."""
        return is_postgres_target(self.db)

    @property
    def db_file(self) -> Path | None:
        """The SQLite file, None on PostgreSQL."""
        return None if self.db_is_postgres else Path(self.db)

    @property
    def documents_dir(self) -> Path:
        """Where claim documents and registration photos are kept."""
        return documents_dir_for(self.db, self.files_dir)

    @property
    def telegram_enabled(self) -> bool:
        """Whether a Telegram token is configured."""
        return self.telegram_bot_token is not None

    @property
    def whatsapp_enabled(self) -> bool:
        """Whether WhatsApp sending is configured (token and phone number id)."""
        return self.whatsapp_access_token is not None and bool(self.whatsapp_phone_number_id)

    def retention(self) -> RetentionPolicy:
        """The retention periods."""
        return RetentionPolicy(
            conversation_days=self.retention_conversation_days,
            document_days=self.retention_document_days,
        )

    def outbox_config(self) -> outbox_policy.OutboxConfig:
        """The outbox policy numbers with these settings applied."""
        from dataclasses import replace

        return replace(
            _D,
            max_attempts=self.outbox_max_attempts,
            wa_tier=self.wa_tier,
            wa_tier_share=self.wa_tier_share,
            wa_template_price=self.wa_template_price_idr,
        )

    @classmethod
    def from_mapping(cls, env: Mapping[str, str], **overrides: Any) -> Settings:
        """Validate ``env`` alone (no process environment, no ``.env``); then ``overrides``."""
        clean = {k: v for k, v in env.items() if isinstance(v, str) and v.strip() != ""}
        try:
            base = cls.model_validate(clean)
            return base.model_copy(update=overrides) if overrides else base
        except ValidationError as exc:
            raise SettingsError(_one_line_per_error(exc)) from None


def _alias_of(field_name: str) -> str:
    alias = Settings.model_fields[field_name].validation_alias
    if isinstance(alias, AliasChoices):
        return str(alias.choices[0])
    return str(alias) if alias else field_name


def _one_line_per_error(exc: ValidationError) -> str:
    lines = []
    for error in exc.errors():
        loc = error.get("loc") or ("?",)
        name = str(loc[0])
        if name in Settings.model_fields:
            name = _alias_of(name)
        message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
        got = error.get("input")
        shown = "" if got is None or "SECRET" in name or "TOKEN" in name else f" (got {got!r})"
        lines.append(f"{name}: {message}{shown}")
    return "\n".join(lines)


def load_settings(*, env_file: str | Path | None = ".env") -> Settings:
    """The settings from the process environment and ``env_file``; ``SettingsError`` if bad."""
    try:
        return Settings(_env_file=env_file)  # type: ignore[call-arg]
    except ValidationError as exc:
        raise SettingsError(_one_line_per_error(exc)) from None


def _default_text(name: str) -> str:
    field = Settings.model_fields[name]
    default = field.default
    if default is None:
        return ""
    return f"`{default}`"


SETTINGS_TABLE: tuple[tuple[str, str, str], ...] = tuple(
    (_alias_of(name), _default_text(name), str(field.description or ""))
    for name, field in Settings.model_fields.items()
)


def markdown_table() -> str:
    """The README's configuration table."""
    rows = ["| Variable | Default | Meaning |", "|---|---|---|"]
    rows += [f"| `{var}` | {default} | {meaning} |" for var, default, meaning in SETTINGS_TABLE]
    return "\n".join(rows)
