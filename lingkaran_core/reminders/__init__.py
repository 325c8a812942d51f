"""Reminder policy, pure: given plain records and ``now``, which outbox rows are due.

Each ``due_*`` function returns ``DueReminder`` items carrying a dedupe key, so a sweep can run
every hour (or twice by accident) and never queue a message twice. The sweep in
``channels/scheduler.py`` loads the records in chunks and writes the rows; nothing here does I/O.

Kinds and their decisions:

* ``missing_docs``: a claim still missing checklist documents, while it is ``submitted``,
  ``in_review`` or ``documents_requested``. The series counts from ``docs_requested_at`` when
  the admin asked for documents, else from the submission (``reported_at``): a report filed
  without its photos needs the nudge just as much. On days 3, 7 and 14
  (``rules.MISSING_DOCS_REMINDER_DAYS``) to the reporter's chat and the desa's facilitators. Only
  the latest step already due is sent (a sweep that missed day 3 because the bot was down sends
  day 7 on day 7, not both). It stops as soon as nothing is missing or the claim is final (or
  forwarded, approved: the OPD has what it needs). Dedupe ``missing-docs:{ref}:{due date}:{target}``,
  the due date standing for the step: a second request round on the same claim (documents
  requested again by BPJS TK) has new dates, so it gets its own reminders.
* ``jkk_deadline``: a JKK claim whose tahap I notice the OPD has not recorded as forwarded
  (``claims notice-sent``), 12 h before ``event_at + 48 h``, goes to the admin queue; when the
  deadline falls on a weekend or holiday, from 08:00 of the last working day before it (the
  2×24 h count runs on, the office does not). The alert on submission exists already; reports
  filed after the alert time are skipped, that alert covers them. Without an accident time the
  start of the accident day is used, the earliest possible deadline.
* ``protected_notice``: once, to verified workers with a phone whose coverage is active: to
  their linked chats, or (WhatsApp enabled, no chat yet) to ``wa_id`` = phone without ``+``,
  which is business-initiated and goes out as a template.
* ``scholarship``: in ``rules.SCHOLARSHIP_REMINDER_MONTH``, to the chats of approved/paid
  BEASISWA claims filed before that month: re-apply for the next school year. One message per
  chat per year, listing its claims.
* ``coverage``: paid-through month ending within ``rules.COVERAGE_ENDING_REMINDER_DAYS`` days, or
  in arrears (unpaid months not yet recorded): to the worker's chats, and one count per desa to
  the facilitators. The text says the Pemkab pays, there is nothing to pay, and to beware of
  anyone asking for money. Dedupe per month.
* ``digest``: facilitators' weekly summary, Monday from 08:00 WIB, dedupe per ISO week; skipped
  when there is nothing to report.

One phone, a whole household (issue 22): a worker's reminders go to every chat linked to them
(their own phone and the household phones), once per chat, and name the person they concern
(params ``name`` and ``sex``); missing-document reminders go to the chats linked to the claim's
worker as well as to the reporter. Each chat's opt-out is applied when the row is sent.

The kinds live in ``claims`` (missing documents, JKK deadline, scholarship), ``coverage``
(protected notice, coverage ending/arrears) and ``digest``; what they share in ``base``.
This package re-exports every name, so callers import from ``lingkaran_core.reminders``.
"""

from __future__ import annotations

from lingkaran_core.reminders.base import (
    ADMIN_TARGET,
    PRIORITY_ADMIN,
    PRIORITY_CLAIM,
    PRIORITY_COVERAGE,
    PRIORITY_DIGEST,
    PRIORITY_NOTICE,
    PRIORITY_SCHOLARSHIP,
    TZ,
    ChatTarget,
    DueReminder,
    FacilitatorRecord,
    Kind,
    facilitators_for_desa,
    person_params,
)
from lingkaran_core.reminders.claims import (
    OPEN_FOR_DOCS,
    SCHOLARSHIP_REMIND_STATUSES,
    JKKClaimRecord,
    MissingDocsClaim,
    ScholarshipClaimRecord,
    due_jkk_deadline,
    due_missing_docs,
    due_scholarship,
    jkk_alert_time,
    jkk_deadline,
)
from lingkaran_core.reminders.coverage import (
    CoverageRow,
    CoverageTally,
    ProtectedCandidate,
    due_coverage,
    due_coverage_facilitators,
    due_protected_notice,
)
from lingkaran_core.reminders.digest import (
    DIGEST_TIME,
    DIGEST_WEEKDAY,
    DigestCounts,
    digest_due_now,
    due_digest,
)

__all__ = [
    "ADMIN_TARGET",
    "DIGEST_TIME",
    "DIGEST_WEEKDAY",
    "OPEN_FOR_DOCS",
    "PRIORITY_ADMIN",
    "PRIORITY_CLAIM",
    "PRIORITY_COVERAGE",
    "PRIORITY_DIGEST",
    "PRIORITY_NOTICE",
    "PRIORITY_SCHOLARSHIP",
    "SCHOLARSHIP_REMIND_STATUSES",
    "TZ",
    "ChatTarget",
    "CoverageRow",
    "CoverageTally",
    "DigestCounts",
    "DueReminder",
    "FacilitatorRecord",
    "JKKClaimRecord",
    "Kind",
    "MissingDocsClaim",
    "ProtectedCandidate",
    "ScholarshipClaimRecord",
    "digest_due_now",
    "due_coverage",
    "due_coverage_facilitators",
    "due_digest",
    "due_jkk_deadline",
    "due_missing_docs",
    "due_protected_notice",
    "due_scholarship",
    "facilitators_for_desa",
    "jkk_alert_time",
    "jkk_deadline",
    "person_params",
]
