"""The facilitators' weekly digest (Monday from 08:00 WIB, one per ISO week)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time
from typing import Final

from lingkaran_core.outbox import MessageClass
from lingkaran_core.reminders.base import (
    PRIORITY_DIGEST,
    TZ,
    DueReminder,
    FacilitatorRecord,
    Kind,
    _require_aware,
)

DIGEST_WEEKDAY: Final = 0  # Monday
DIGEST_TIME: Final = time(8, 0)


# ---------------------------------------------------------------------------------------------
# (f) facilitator weekly digest


@dataclass(frozen=True, slots=True, kw_only=True)
class DigestCounts:
    """What waits in one desa."""

    new_leads: int = 0
    registrations_waiting: int = 0
    open_claims: int = 0
    missing_documents: int = 0

    def __add__(self, other: DigestCounts) -> DigestCounts:
        return DigestCounts(
            new_leads=self.new_leads + other.new_leads,
            registrations_waiting=self.registrations_waiting + other.registrations_waiting,
            open_claims=self.open_claims + other.open_claims,
            missing_documents=self.missing_documents + other.missing_documents,
        )

    def empty(self) -> bool:
        """Nothing to report."""
        return not (
            self.new_leads
            or self.registrations_waiting
            or self.open_claims
            or self.missing_documents
        )


def digest_due_now(now: datetime) -> bool:
    """Monday from 08:00 WIB (the hourly sweep catches up a missed cron run the same day)."""
    local = now.astimezone(TZ)
    return local.weekday() == DIGEST_WEEKDAY and local.time() >= DIGEST_TIME


def due_digest(
    facilitators: Sequence[FacilitatorRecord],
    per_desa: Mapping[str, DigestCounts],
    now: datetime,
    *,
    force: bool = False,
) -> list[DueReminder]:
    """The weekly digest for each facilitator with something in scope; dedupe per ISO week."""
    _require_aware(now)
    if not force and not digest_due_now(now):
        return []
    iso = now.astimezone(TZ).isocalendar()
    week = f"{iso.year}-W{iso.week:02d}"
    out: list[DueReminder] = []
    for f in facilitators:
        total = DigestCounts()
        for desa, counts in per_desa.items():
            if f.covers(desa):
                total = total + counts
        if total.empty():
            continue
        out.append(
            DueReminder(
                kind=Kind.DIGEST,
                target=f.chat,
                msg_key="digest.facilitator",
                params={
                    "new_leads": total.new_leads,
                    "registrations_waiting": total.registrations_waiting,
                    "open_claims": total.open_claims,
                    "missing_documents": total.missing_documents,
                    "week": week,
                },
                msg_class=MessageClass.REMINDER,
                priority=PRIORITY_DIGEST,
                dedupe_key=f"digest:{f.facilitator_id}:{week}",
                not_before=now,
            )
        )
    return out
