"""Logging set-up: key=value lines, NIKs and phone numbers masked in every record.

A NIK may only reach a log line masked (``3509********0001``); this filter is the safety net for
any message or ``extra`` field that slips one through.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from typing import Any, TextIO

_NIK_RUN = re.compile(r"(?<!\d)(\d{4})\d{8}(\d{4})(?!\d)")
_PHONE = re.compile(r"(?<![\d+])(\+?62|0)(8\d{2})\d{3,5}(\d{3})(?!\d)")
_STD_ATTRS = frozenset(
    logging.LogRecord("x", 0, "x", 0, "x", None, None).__dict__.keys() | {"message", "asctime"}
)


def mask_text(text: str) -> str:
    """Mask 16-digit runs (NIKs) and Indonesian mobile numbers inside free text."""
    text = _NIK_RUN.sub(r"\1********\2", text)
    return _PHONE.sub(r"\1\2****\3", text)


class MaskingFilter(logging.Filter):
    """Rewrites the message and the extra fields of a record with NIKs/phones masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Mask in place; never drops a record."""
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the record
            message = str(record.msg)
        record.msg = mask_text(message)
        record.args = None
        for key, value in list(record.__dict__.items()):
            if key not in _STD_ATTRS and isinstance(value, str):
                record.__dict__[key] = mask_text(value)
        return True


class KeyValueFormatter(logging.Formatter):
    """``2026-11-25T10:00:00 INFO module message key=value ...``."""

    def format(self, record: logging.LogRecord) -> str:
        """Render the record with its extra fields as key=value pairs."""
        base = super().format(record)
        extras: list[str] = []
        for key, value in record.__dict__.items():
            if key in _STD_ATTRS or key.startswith("_"):
                continue
            extras.append(f"{key}={_kv(value)}")
        return base if not extras else f"{base} {' '.join(extras)}"


def _kv(value: Any) -> str:
    text = mask_text(str(value))
    return f'"{text}"' if " " in text else text


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and the extra fields (masked).

    For log shippers (Loki, journald exporters); the masking filter has already run.
    """

    def format(self, record: logging.LogRecord) -> str:
        """Render the record as a JSON object."""
        out: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key in _STD_ATTRS or key.startswith("_"):
                continue
            out[key] = (
                value
                if isinstance(value, (int, float, bool)) or value is None
                else (mask_text(str(value)))
            )
        if record.exc_info:
            out["exception"] = mask_text(self.formatException(record.exc_info))
        return json.dumps(out, ensure_ascii=False, default=str)


def configure(level: str = "INFO", stream: TextIO | None = None, fmt: str = "kv") -> None:
    """Install the masking handler on the root logger (idempotent); ``fmt`` kv or json."""
    root = logging.getLogger()
    for h in list(root.handlers):
        if getattr(h, "_lingkaran", False):
            root.removeHandler(h)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(
        JsonFormatter()
        if fmt == "json"
        else KeyValueFormatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    )
    handler.addFilter(MaskingFilter())
    handler._lingkaran = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level.upper())
    for noisy in ("httpx", "httpcore", "apscheduler", "telegram.ext.Updater"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
