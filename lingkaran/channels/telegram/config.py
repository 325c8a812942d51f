"""The Telegram settings (``TelegramConfig``) and keeping the token out of log lines."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from lingkaran.channels.base import MAX_BODY_BYTES
from lingkaran.settings import Settings

CHANNEL = "telegram"
DEFAULT_API_ROOT = "https://api.telegram.org"
DEFAULT_WEBHOOK_PATH = "/telegram/webhook"
ALLOWED_UPDATES = ("message", "edited_message", "callback_query", "my_chat_member")


class ConfigError(ValueError):
    """The Telegram settings are missing or inconsistent (a one-line message for the operator)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class TelegramConfig:
    """Settings from the environment (ARCHITECTURE.md "Configuration")."""

    token: str
    api_root: str = DEFAULT_API_ROOT
    webhook_url: str | None = None
    secret_token: str | None = None
    poll_timeout: float = 10.0
    drop_pending_updates: bool = False
    network_retries: int = 2
    max_body_bytes: int = MAX_BODY_BYTES
    # Budgeted calls per second when the channel makes its own budget (alone, in tests); under
    # ``serve`` the composition root hands it the identity's budget.
    rate: float = 30.0
    # Updates processed at once (different users; one user's updates go strictly in order).
    concurrency: int = 64

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> TelegramConfig:
        """The Telegram part of the settings; ``overrides`` (command-line flags) win if set."""
        token = settings.telegram_bot_token
        secret = settings.telegram_webhook_secret
        values: dict[str, Any] = {
            "token": token.get_secret_value().strip() if token else "",
            "api_root": settings.telegram_api_base_url.rstrip("/"),
            "webhook_url": settings.telegram_webhook_url,
            "secret_token": secret.get_secret_value() if secret else None,
            "max_body_bytes": settings.max_body_bytes,
            "rate": settings.telegram_rate,
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        if not values["token"]:
            raise ConfigError(
                "TELEGRAM_BOT_TOKEN is not set. Create a bot with @BotFather and export its "
                "token (see docs/telegram.md)."
            )
        if values["webhook_url"] and not values["secret_token"]:
            raise ConfigError(
                "webhook mode needs a secret: set TELEGRAM_WEBHOOK_SECRET or --secret-token."
            )
        return cls(**values)

    @property
    def webhook_path(self) -> str:
        """The path part of the webhook URL (where the route listens)."""
        return (urlsplit(self.webhook_url).path if self.webhook_url else "") or (
            DEFAULT_WEBHOOK_PATH
        )


class _Redact(logging.Filter):
    """Replaces the given secrets in a record's message by ``<redacted>``."""

    def __init__(self, secrets: Sequence[str]) -> None:
        super().__init__()
        self.secrets = [x for x in secrets if x]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if any(x in message for x in self.secrets):
            for x in self.secrets:
                message = message.replace(x, "<redacted>")
            record.msg, record.args = message, None
        return True


def redact_in_logs(*secrets: str | None) -> None:
    """Keep the token and the webhook secret out of httpx's and httpcore's log lines.

    The token is part of every request URL, and httpx logs each request at INFO: that logger is
    also set to WARNING.
    """
    redact = _Redact([x for x in secrets if x])
    logging.getLogger("httpx").setLevel(logging.WARNING)
    names = {"httpx", "httpcore"} | {
        name
        for name in list(logging.root.manager.loggerDict)
        if name.split(".")[0] in ("telegram", "httpx", "httpcore")
    }
    for name in names:
        target = logging.getLogger(name)
        target.filters = [f for f in target.filters if not isinstance(f, _Redact)]
        target.addFilter(redact)


__all__ = [
    "ALLOWED_UPDATES",
    "CHANNEL",
    "DEFAULT_API_ROOT",
    "DEFAULT_WEBHOOK_PATH",
    "ConfigError",
    "TelegramConfig",
    "redact_in_logs",
]
