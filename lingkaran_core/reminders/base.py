"""What every reminder kind shares: the row to queue (``DueReminder``), its targets, the
facilitators' scopes, priorities, and the memoised coverage status of a sweep."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

from lingkaran_core.coverage import (
    CoverageResult,
    coverage_status,
)
from lingkaran_core.outbox import MessageClass
from lingkaran_core.scope import Scope

TZ: Final = ZoneInfo("Asia/Jakarta")


# Priorities: 1 is the most urgent. Claim matters first, notices, then periodic reminders.
PRIORITY_ADMIN: Final = 1
PRIORITY_CLAIM: Final = 3
PRIORITY_NOTICE: Final = 4
PRIORITY_COVERAGE: Final = 5
PRIORITY_DIGEST: Final = 6
PRIORITY_SCHOLARSHIP: Final = 6


class Kind(enum.StrEnum):
    """The sweep kinds (keys of the counts a sweep reports)."""

    MISSING_DOCS = "missing_docs"
    JKK_DEADLINE = "jkk_deadline"
    PROTECTED_NOTICE = "protected_notice"
    SCHOLARSHIP = "scholarship"
    COVERAGE = "coverage"
    DIGEST = "digest"
    BROADCAST = "broadcast"  # queued by the admin (``bot.py admin broadcast``), never by sweeps


@dataclass(frozen=True, slots=True, kw_only=True)
class ChatTarget:
    """Where a message goes: a chat, a WhatsApp number without a chat, or the admin queue."""

    chat_id: int | None
    channel: str
    user_ref: str
    language: str | None = None

    @property
    def key(self) -> str:
        """A stable name for dedupe keys."""
        return f"c{self.chat_id}" if self.chat_id is not None else f"{self.channel}:{self.user_ref}"


ADMIN_TARGET: Final = ChatTarget(chat_id=None, channel="admin", user_ref="opd")


@dataclass(frozen=True, slots=True, kw_only=True)
class DueReminder:
    """One outbox row to write (INSERT OR IGNORE on ``dedupe_key``)."""

    kind: Kind
    target: ChatTarget
    msg_key: str
    params: Mapping[str, Any]
    msg_class: MessageClass
    priority: int
    dedupe_key: str
    not_before: datetime
    worker_id: int | None = None  # protected notice: mark the worker once queued


@dataclass(frozen=True, slots=True, kw_only=True)
class FacilitatorRecord:
    """A bound, unrevoked facilitator and the chat that reaches them."""

    facilitator_id: int
    scope_kind: str  # desa | kecamatan
    scope_code: str
    chat: ChatTarget

    def covers(self, desa_code: str) -> bool:
        """Whether the facilitator's scope includes ``desa_code``."""
        return Scope.of(self.scope_kind, self.scope_code).covers(desa_code)


def facilitators_for_desa(
    facilitators: Sequence[FacilitatorRecord], desa_code: str | None
) -> list[FacilitatorRecord]:
    """The facilitators covering a desa (none when the desa is unknown)."""
    if not desa_code:
        return []
    return [f for f in facilitators if f.covers(desa_code)]


def _local_date(when: datetime) -> date:
    return when.astimezone(TZ).date()


def _require_aware(when: datetime) -> None:
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError("datetimes must be timezone-aware")


def person_params(name: str | None, sex: str | None) -> dict[str, Any]:
    """The params that name the person a message concerns (none when unknown)."""
    return {} if not name else {"name": name, "sex": sex or ""}


def _status(
    cache: dict[tuple[date | None, date | None], CoverageResult],
    start: date | None,
    paid_through: date | None,
    today: date,
) -> CoverageResult:
    # The roster repeats a handful of (start, paid-through) pairs: memoise per sweep.
    key = (start, paid_through)
    found = cache.get(key)
    if found is None:
        found = coverage_status(start=start, paid_through=paid_through, today=today)
        cache[key] = found
    return found
