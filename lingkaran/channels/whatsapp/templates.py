"""Approved message templates (``channels/data/whatsapp_templates.json``)."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from handlers.i18n import translator
from lingkaran.channels.whatsapp.config import (
    TEMPLATES_FILE,
    _int,
)
from lingkaran.channels.whatsapp.render import (
    envelope,
    smart_truncate,
)

logger = logging.getLogger(__name__)


# ---------------------------------------------------------------------------------------------
# Templates (channels/data/whatsapp_templates.json)


class TemplateParamsMissing(Exception):
    """A template parameter has no value and no default."""


@dataclass(frozen=True, slots=True, kw_only=True)
class TemplateParam:
    """One ``{{n}}`` of a template body, filled from ``msg.params[name]``."""

    name: str
    format: str = "text"
    max_len: int = 200


@dataclass(frozen=True, slots=True, kw_only=True)
class TemplateLanguage:
    """The approved text of a template in one language."""

    code: str
    text: str
    buttons: tuple[str, ...] = ()
    defaults: Mapping[str, str] = field(default_factory=dict)
    labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class Template:
    """An approved message template and the outbox keys it stands for."""

    name: str
    category: str
    msg_keys: tuple[str, ...]
    params: tuple[TemplateParam, ...]
    languages: Mapping[str, TemplateLanguage]

    def language(self, lang: str | None) -> TemplateLanguage:
        """The user's language when approved for it, else Indonesian."""
        return self.languages.get(lang or "id") or self.languages["id"]

    def body_values(self, params: Mapping[str, Any], lang: str | None) -> list[str]:
        """The body parameters in ``{{1}}..{{n}}`` order, formatted for the language."""
        tl = self.language(lang)
        t = translator(tl.code)
        values: list[str] = []
        for p in self.params:
            value = _format_param(p, params.get(p.name), tl, t)
            if not value:
                value = tl.defaults.get(p.name, "")
            if not value:
                raise TemplateParamsMissing(f"{self.name}: {p.name}")
            values.append(value)
        return values

    def payload(self, to: str, params: Mapping[str, Any], lang: str | None) -> dict[str, Any]:
        """The ``POST /messages`` body sending this template to a number or a BSUID."""
        tl = self.language(lang)
        values = self.body_values(params, lang)
        template: dict[str, Any] = {"name": self.name, "language": {"code": tl.code}}
        if values:
            template["components"] = [
                {"type": "body", "parameters": [{"type": "text", "text": v} for v in values]}
            ]
        return envelope(to, {"type": "template", "template": template})


def _clean_param(text: str, limit: int) -> str:
    # Meta rejects template parameters with new lines, tabs or more than 4 spaces in a row.
    return smart_truncate(" ".join(text.split()), limit)


def _as_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def _format_param(p: TemplateParam, value: Any, tl: TemplateLanguage, t: Any) -> str:
    if value is None or value == "" or value == []:
        return ""
    labels = tl.labels.get(p.name, {})
    if p.format == "doc_list":
        from handlers.docs import DOC_LABELS

        items = value if isinstance(value, list | tuple) else [value]
        text = ", ".join(t(DOC_LABELS[k]) if k in DOC_LABELS else str(k) for k in items)
    elif p.format == "list":
        items = value if isinstance(value, list | tuple) else [value]
        text = ", ".join(labels.get(str(k), str(k)) for k in items)
    elif p.format == "when" and "T" in str(value):
        text = _format_param(TemplateParam(name=p.name, format="datetime"), value, tl, t)
    elif p.format in ("date", "month", "when"):
        d = _as_date(value)
        text = str(value) if d is None else (t.month(d) if p.format == "month" else t.date(d))
    elif p.format == "school_year":
        year = _int(value, -1)
        text = f"{year}/{year + 1}" if year > 0 else str(value)
    elif p.format == "number":
        text = t.number(_int(value)) if str(value).lstrip("-").isdigit() else str(value)
    elif p.format == "datetime":
        try:
            when = datetime.fromisoformat(str(value))
        except ValueError:
            text = str(value)
        else:
            text = t.datetime(when if when.tzinfo else when.replace(tzinfo=UTC))
    elif p.format == "money":
        text = t.money(_int(value))
    elif p.format == "label":
        text = labels.get(str(value), str(value))
    else:
        text = str(value)
    return _clean_param(text, p.max_len)


@dataclass(frozen=True, slots=True, kw_only=True)
class TemplateBook:
    """All templates, looked up by outbox message key."""

    templates: Mapping[str, Template]
    by_key: Mapping[str, Template]

    def for_key(self, msg_key: str, params: Mapping[str, Any] | None = None) -> Template | None:
        """The approved template for a message key, if any.

        Rows addressed to a facilitator (``"for": "facilitator"``) say something else than the
        worker's version: they only match a ``<msg_key>@facilitator`` entry. The reporter's
        rows (``"for": "reporter"``, the missing-documents reminder) are the worker's version.
        """
        audience = (params or {}).get("for")
        if audience and audience != "reporter":
            return self.by_key.get(f"{msg_key}@{audience}")
        return self.by_key.get(msg_key)

    @classmethod
    def load(cls, path: Path = TEMPLATES_FILE) -> TemplateBook:
        """Read the templates data file."""
        data = json.loads(path.read_text(encoding="utf-8"))
        templates: dict[str, Template] = {}
        by_key: dict[str, Template] = {}
        for name, spec in data["templates"].items():
            langs = {
                code: TemplateLanguage(
                    code=code,
                    text=lang["text"],
                    buttons=tuple(lang.get("buttons", ())),
                    defaults=dict(lang.get("defaults", {})),
                    labels={k: dict(v) for k, v in lang.get("labels", {}).items()},
                )
                for code, lang in spec["languages"].items()
            }
            tmpl = Template(
                name=name,
                category=spec["category"],
                msg_keys=tuple(spec["msg_keys"]),
                params=tuple(
                    TemplateParam(
                        name=p["name"],
                        format=p.get("format", "text"),
                        max_len=int(p.get("max_len", 200)),
                    )
                    for p in spec["params"]
                ),
                languages=langs,
            )
            templates[name] = tmpl
            for key in tmpl.msg_keys:
                by_key[key] = tmpl
        return cls(templates=templates, by_key=by_key)
