"""Reminder and outbox policies (ARCHITECTURE.md "Reminders and outbound messages"), and the
sweep that writes them: every kind fires on its day and not before, and never twice."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from lingkaran.channels.scheduler import run_sweep
from lingkaran_core import outbox as ob
from lingkaran_core import reminders as rm
from lingkaran_core.reminders import ChatTarget, FacilitatorRecord, Kind
from lingkaran_core.storage import Database

WIB = ZoneInfo("Asia/Jakarta")
# Wednesday 25 November 2026, 10:00 WIB
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=WIB)
DESA = "35.09.01.2001"
REPORTER = ChatTarget(chat_id=1, channel="telegram", user_ref="1001")
FAC = FacilitatorRecord(
    facilitator_id=7,
    scope_kind="kecamatan",
    scope_code="35.09.01",
    chat=ChatTarget(chat_id=2, channel="telegram", user_ref="2002"),
)


def _claim(**kw: object) -> rm.MissingDocsClaim:
    base: dict[str, object] = {
        "ref": "LC-2026-000001",
        "status": "documents_requested",
        "reporter": REPORTER,
        "desa_code": DESA,
        "missing": ("akta_kematian",),
        "reported_at": NOW - timedelta(days=20),
        "docs_requested_at": NOW,
    }
    base.update(kw)
    return rm.MissingDocsClaim(**base)  # type: ignore[arg-type]


# -- (a) missing documents --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("elapsed", "fires"),
    [
        (timedelta(days=2, hours=23), False),
        (timedelta(days=3), True),
        (timedelta(days=6), True),  # still the day-3 step (dedupe makes it once)
        (timedelta(days=7), True),
        (timedelta(days=14), True),
    ],
)
def test_missing_docs_fires_from_day_three_not_before(elapsed: timedelta, fires: bool) -> None:
    due = rm.due_missing_docs([_claim()], [FAC], NOW + elapsed)
    assert bool(due) is fires
    if fires:
        assert {d.target for d in due} == {REPORTER, FAC.chat}
        assert all(d.msg_key == "reminder.missing_docs" for d in due)
        assert {d.params["for"] for d in due} == {"reporter", "facilitator"}


def test_missing_docs_steps_have_distinct_dedupe_keys_and_repeat_within_a_step() -> None:
    day3 = rm.due_missing_docs([_claim()], [], NOW + timedelta(days=3))
    day3_later = rm.due_missing_docs([_claim()], [], NOW + timedelta(days=5))
    day7 = rm.due_missing_docs([_claim()], [], NOW + timedelta(days=7))
    assert [d.dedupe_key for d in day3] == [d.dedupe_key for d in day3_later]
    assert day3[0].dedupe_key == "missing-docs:LC-2026-000001:2026-11-28:c1"
    assert day7[0].dedupe_key != day3[0].dedupe_key


def test_missing_docs_stops_when_documents_arrive_or_claim_is_final() -> None:
    later = NOW + timedelta(days=7)
    assert rm.due_missing_docs([_claim(missing=())], [FAC], later) == []
    for status in ("paid", "rejected", "withdrawn", "forwarded_to_bpjs", "approved"):
        assert rm.due_missing_docs([_claim(status=status)], [FAC], later) == []


def test_missing_docs_of_a_submitted_claim_count_from_submission() -> None:
    claim = _claim(status="submitted", docs_requested_at=None, reported_at=NOW)
    assert rm.due_missing_docs([claim], [], NOW + timedelta(days=2)) == []
    assert rm.due_missing_docs([claim], [], NOW + timedelta(days=3))


def test_missing_docs_reminder_waits_out_the_quiet_hours() -> None:
    claim = _claim(docs_requested_at=datetime(2026, 11, 25, 22, 30, tzinfo=WIB))
    due = rm.due_missing_docs([claim], [], datetime(2026, 11, 28, 22, 45, tzinfo=WIB))
    assert due[0].not_before == datetime(2026, 11, 29, 7, 0, tzinfo=WIB)


def test_facilitator_who_filed_the_claim_gets_one_reminder_not_two() -> None:
    claim = _claim(reporter=FAC.chat)
    due = rm.due_missing_docs([claim], [FAC], NOW + timedelta(days=3))
    assert len(due) == 1


# -- (b) JKK deadline -------------------------------------------------------------------------


def _jkk(**kw: object) -> rm.JKKClaimRecord:
    accident = NOW - timedelta(hours=40)
    base: dict[str, object] = {
        "ref": "LC-2026-000002",
        "status": "submitted",
        "event_date": accident.date(),
        "event_at": accident,
        "reported_at": accident + timedelta(hours=2),
    }
    base.update(kw)
    return rm.JKKClaimRecord(**base)  # type: ignore[arg-type]


def test_jkk_deadline_alert_goes_to_the_admin_queue_twelve_hours_before() -> None:
    accident = NOW - timedelta(hours=40)
    assert rm.due_jkk_deadline([_jkk()], accident + timedelta(hours=35, minutes=59)) == []
    due = rm.due_jkk_deadline([_jkk()], accident + timedelta(hours=36))
    assert [(d.target.channel, d.msg_key, d.dedupe_key) for d in due] == [
        ("admin", "admin.jkk_deadline", "jkk-deadline:LC-2026-000002")
    ]
    assert rm.due_jkk_deadline([_jkk()], accident + timedelta(hours=48)) == []


def test_jkk_deadline_follows_the_tahap_one_notice_not_the_claim_status() -> None:
    # DOMAIN.md §9: the alert tracks whether the notice was forwarded, not whether the claim
    # was opened: a claim staff picked up still alerts until the notice is recorded as sent.
    at = NOW - timedelta(hours=40) + timedelta(hours=37)
    assert len(rm.due_jkk_deadline([_jkk(status="in_review")], at)) == 1
    assert rm.due_jkk_deadline([_jkk(status="in_review", notice_sent=True)], at) == []
    assert rm.due_jkk_deadline([_jkk(status="withdrawn")], at) == []
    assert rm.due_jkk_deadline([_jkk(reported_at=at - timedelta(minutes=30))], at) == []


def test_a_deadline_on_a_weekend_is_alerted_on_the_last_working_day() -> None:
    # Friday 4 December 2026, 06:00 WIB: the 2×24 h end on Sunday 06:00; the OPD works weekdays
    # (rules.OPD_WORKDAYS_RULE), so the alert is due from Friday 08:00, not Saturday 18:00.
    accident = datetime(2026, 12, 4, 6, 0, tzinfo=WIB)
    claim = _jkk(
        event_date=accident.date(), event_at=accident, reported_at=accident + timedelta(hours=1)
    )
    saturday = datetime(2026, 12, 5, 9, 0, tzinfo=WIB)
    [due] = rm.due_jkk_deadline([claim], saturday)
    assert due.params["day_off"] is True
    assert rm.jkk_alert_time(accident + timedelta(hours=48)) == (
        datetime(2026, 12, 4, 8, 0, tzinfo=WIB),
        True,
    )
    # A weekday deadline keeps the 12 hours before it.
    tuesday = datetime(2026, 12, 8, 10, 0, tzinfo=WIB)
    assert rm.jkk_alert_time(tuesday) == (tuesday - timedelta(hours=12), False)


# -- (c) protected notice ---------------------------------------------------------------------


def _cand(**kw: object) -> rm.ProtectedCandidate:
    base: dict[str, object] = {
        "worker_id": 5,
        "phone": "+6281234567890",
        "coverage_start": date(2026, 1, 1),
        "paid_through": date(2026, 12, 1),
        "chats": (),
    }
    base.update(kw)
    return rm.ProtectedCandidate(**base)  # type: ignore[arg-type]


def test_protected_notice_goes_to_linked_chats() -> None:
    due = rm.due_protected_notice([_cand(chats=(REPORTER,))], NOW, whatsapp_enabled=True)
    assert [(d.target, d.params["until"]) for d in due] == [(REPORTER, "2026-12-31")]
    assert due[0].worker_id == 5


def test_protected_notice_without_chat_goes_to_the_whatsapp_number() -> None:
    due = rm.due_protected_notice([_cand()], NOW, whatsapp_enabled=True)
    assert due[0].target == ChatTarget(chat_id=None, channel="whatsapp", user_ref="6281234567890")
    assert rm.due_protected_notice([_cand()], NOW, whatsapp_enabled=False) == []


def test_protected_notice_is_not_sent_to_a_worker_in_arrears() -> None:
    cand = _cand(paid_through=date(2026, 9, 1), chats=(REPORTER,))
    assert rm.due_protected_notice([cand], NOW, whatsapp_enabled=True) == []


# -- (d) scholarship --------------------------------------------------------------------------


def _beasiswa(ref: str = "LC-2026-000003", **kw: object) -> rm.ScholarshipClaimRecord:
    base: dict[str, object] = {
        "ref": ref,
        "status": "paid",
        "reporter": REPORTER,
        "reported_at": datetime(2026, 2, 1, tzinfo=WIB),
    }
    base.update(kw)
    return rm.ScholarshipClaimRecord(**base)  # type: ignore[arg-type]


def test_scholarship_reminder_only_in_the_reminder_month_once_per_chat() -> None:
    claims = [_beasiswa(), _beasiswa("LC-2026-000004")]
    assert rm.due_scholarship(claims, datetime(2027, 5, 31, 10, 0, tzinfo=WIB)) == []
    due = rm.due_scholarship(claims, datetime(2027, 6, 1, 10, 0, tzinfo=WIB))
    assert len(due) == 1
    assert due[0].params == {"refs": ["LC-2026-000003", "LC-2026-000004"], "school_year": 2027}
    assert due[0].dedupe_key == "scholarship:2027:c1"


def test_scholarship_reminder_skips_pending_claims_and_this_months_applications() -> None:
    june = datetime(2027, 6, 10, 10, 0, tzinfo=WIB)
    assert rm.due_scholarship([_beasiswa(status="in_review")], june) == []
    assert rm.due_scholarship([_beasiswa(reported_at=june - timedelta(days=2))], june) == []


# -- (e) coverage -----------------------------------------------------------------------------


def _cov(paid: date | None, **kw: object) -> rm.CoverageRow:
    base: dict[str, object] = {
        "worker_id": 9,
        "desa_code": DESA,
        "coverage_start": date(2026, 1, 1),
        "paid_through": paid,
        "chats": (REPORTER,),
    }
    base.update(kw)
    return rm.CoverageRow(**base)  # type: ignore[arg-type]


def test_coverage_ending_fires_in_the_last_days_of_the_paid_month() -> None:
    row = _cov(date(2026, 11, 1))
    # Protected through 30 November; N = 7: the last 7 protected days are 24-30 November.
    assert rm.due_coverage([row], datetime(2026, 11, 23, 10, 0, tzinfo=WIB)) == []
    due = rm.due_coverage([row], datetime(2026, 11, 24, 10, 0, tzinfo=WIB))
    assert [(d.msg_key, d.params) for d in due] == [
        (
            "reminder.coverage_ending",
            {"until": "2026-11-30", "funding": "unknown", "payment_due": "2026-12-15"},
        )
    ]
    assert rm.due_coverage([_cov(date(2026, 12, 1))], NOW) == []


def test_coverage_in_arrears_names_the_first_unrecorded_month_once_a_month() -> None:
    row = _cov(date(2026, 9, 1))
    due = rm.due_coverage([row], NOW)
    assert [(d.msg_key, d.params) for d in due] == [("reminder.arrears", {"month": "2026-10-01"})]
    assert due[0].dedupe_key == "coverage-arrears:9:2026-11:c1"
    december = rm.due_coverage([row], datetime(2026, 12, 2, 10, 0, tzinfo=WIB))
    assert december[0].dedupe_key != due[0].dedupe_key


def test_coverage_facilitators_get_one_count_per_kind() -> None:
    tally = rm.CoverageTally(today=NOW.date())
    rows = [_cov(date(2026, 9, 1), worker_id=i, chats=()) for i in range(3)]
    assert rm.due_coverage(rows, NOW, tally=tally) == []  # no chats: nothing to the workers
    due = rm.due_coverage_facilitators(tally, [FAC], NOW)
    assert [(d.target, d.params) for d in due] == [(FAC.chat, {"for": "facilitator", "count": 3})]


# -- (f) digest -------------------------------------------------------------------------------


def test_digest_goes_out_on_monday_from_eight_once_per_week() -> None:
    per_desa = {DESA: rm.DigestCounts(new_leads=2, open_claims=1)}
    sunday = datetime(2026, 11, 29, 9, 0, tzinfo=WIB)
    monday_early = datetime(2026, 11, 30, 7, 59, tzinfo=WIB)
    monday = datetime(2026, 11, 30, 8, 0, tzinfo=WIB)
    assert rm.due_digest([FAC], per_desa, sunday) == []
    assert rm.due_digest([FAC], per_desa, monday_early) == []
    due = rm.due_digest([FAC], per_desa, monday)
    assert due[0].dedupe_key == "digest:7:2026-W49"
    assert due[0].params["new_leads"] == 2
    assert rm.due_digest([FAC], per_desa, monday + timedelta(hours=5))[0].dedupe_key == (
        due[0].dedupe_key
    )


def test_digest_skips_a_facilitator_with_nothing_in_scope() -> None:
    monday = datetime(2026, 11, 30, 8, 0, tzinfo=WIB)
    assert rm.due_digest([FAC], {"35.09.02.2001": rm.DigestCounts(new_leads=4)}, monday) == []


# -- outbox policy ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("msg_class", "opted_out", "expected"),
    [
        ("reply", True, ob.Send()),
        ("transactional", True, ob.Send()),
        ("reminder", True, ob.Drop("opted_out")),
        ("broadcast", True, ob.Drop("opted_out")),
        ("reminder", False, ob.Send()),
    ],
)
def test_opt_out_drops_reminders_and_broadcasts_only(
    msg_class: str, opted_out: bool, expected: ob.Decision
) -> None:
    assert ob.decide(msg_class, opted_out, NOW) == expected


@pytest.mark.parametrize(
    ("local", "until"),
    [
        (datetime(2026, 11, 25, 21, 0), datetime(2026, 11, 26, 7, 0)),
        (datetime(2026, 11, 25, 23, 30), datetime(2026, 11, 26, 7, 0)),
        (datetime(2026, 11, 26, 3, 0), datetime(2026, 11, 26, 7, 0)),
    ],
)
def test_quiet_hours_defer_to_seven_wib(local: datetime, until: datetime) -> None:
    now = local.replace(tzinfo=WIB).astimezone(UTC)
    assert ob.decide("transactional", False, now) == ob.Defer(until.replace(tzinfo=WIB))
    assert ob.decide("reply", False, now) == ob.Send()


def test_no_quiet_hours_at_seven_and_before_nine_pm() -> None:
    assert ob.decide("reminder", False, datetime(2026, 11, 25, 7, 0, tzinfo=WIB)) == ob.Send()
    assert ob.decide("reminder", False, datetime(2026, 11, 25, 20, 59, tzinfo=WIB)) == ob.Send()


def test_backoff_grows_with_attempts_and_is_capped() -> None:
    rng = random.Random(1)
    cfg = ob.OutboxConfig(backoff_base=5, backoff_cap=600)
    waits = [ob.backoff(a, None, rng, cfg) for a in range(1, 12)]
    assert 2.5 <= waits[0] <= 5
    assert 20 <= waits[3] <= 40
    assert all(w <= 600 for w in waits)
    assert waits[-1] >= 300


def test_backoff_honours_retry_after() -> None:
    rng = random.Random(2)
    for _ in range(50):
        w = ob.backoff(1, 7, rng)
        assert 7 <= w <= 7.7


def test_dead_letter_after_max_attempts() -> None:
    cfg = ob.OutboxConfig(max_attempts=3)
    assert not ob.should_dead_letter(2, cfg)
    assert ob.should_dead_letter(3, cfg)


def _pending(n: int, prio: int = 5, start: int = 1) -> list[ob.PendingBusinessMessage]:
    return [
        ob.PendingBusinessMessage(outbox_id=start + i, user_ref=f"u{start + i}", priority=prio)
        for i in range(n)
    ]


def test_tier_planner_keeps_under_the_share_and_sends_urgent_first() -> None:
    cfg = ob.OutboxConfig(wa_tier=250, wa_tier_share=0.9)  # budget 225
    reminders = _pending(300, prio=5, start=1000)
    claims = _pending(10, prio=2, start=1)
    plan = ob.plan_business_initiated(reminders + claims, used_users=["x", "y"], config=cfg)
    assert plan.budget == 225
    assert len(plan.send_now) == 223
    assert set(range(1, 11)) <= set(plan.send_now)
    assert len(plan.wait) == 310 - 223


def test_tier_planner_counts_users_not_messages() -> None:
    cfg = ob.OutboxConfig(wa_tier=250, wa_tier_share=0.9)
    used = [f"u{i}" for i in range(225)]
    again = [ob.PendingBusinessMessage(outbox_id=1, user_ref="u3", priority=5)]
    plan = ob.plan_business_initiated(again + _pending(2, start=500), used_users=used, config=cfg)
    assert plan.send_now == (1,)
    assert plan.wait == (500, 501)


def test_tier_planner_unlimited_tier_sends_everything() -> None:
    plan = ob.plan_business_initiated(
        _pending(5000), used_users=[], config=ob.OutboxConfig(wa_tier=None)
    )
    assert len(plan.send_now) == 5000
    assert plan.wait == ()


def test_broadcast_cost_counts_whatsapp_recipients_outside_the_window() -> None:
    cfg = ob.OutboxConfig(wa_tier=2000, wa_tier_share=0.9, wa_template_price=500)
    recipients = (
        [ob.BroadcastRecipient(channel="telegram", last_inbound_at=None)] * 10
        + [ob.BroadcastRecipient(channel="whatsapp", last_inbound_at=NOW - timedelta(hours=2))] * 5
        + [ob.BroadcastRecipient(channel="whatsapp", last_inbound_at=None)] * 4000
    )
    est = ob.broadcast_estimate(recipients, NOW, config=cfg)
    assert (est.recipients, est.whatsapp, est.outside_window) == (4015, 4005, 4000)
    assert est.cost_rupiah == 2_000_000
    assert est.days_needed == 3  # 1800 a day


# -- the sweep against a real database --------------------------------------------------------


async def _seed(db: Database) -> None:
    t = NOW.isoformat()
    async with db.tx() as tx:
        await tx.execute(
            "INSERT INTO chats (id, channel, user_ref, language, created_at) VALUES "
            "(1, 'telegram', '1001', 'id', ?), (2, 'telegram', '2002', 'id', ?)",
            (t, t),
        )
        await tx.execute(
            "INSERT INTO facilitators (id, name, scope_kind, scope_code, bound_chat_id, "
            "created_at) VALUES (7, 'Bu Sri', 'desa', ?, 2, ?)",
            (DESA, t),
        )
        await tx.execute(
            "INSERT INTO workers (id, nik, name, birth_date, sex, desa_code, sector, phone, "
            "coverage_start, paid_through, created_at, updated_at) VALUES "
            "(1, '3509010101900001', 'A', '1990-01-01', 'L', ?, 'nelayan_tangkap', "
            "'+6281234567890', '2026-01-01', '2026-12-01', ?, ?), "
            "(2, '3509010101900002', 'B', '1990-01-01', 'P', ?, 'nelayan_tangkap', NULL, "
            "'2026-01-01', '2026-09-01', ?, ?)",
            (DESA, t, t, DESA, t, t),
        )
        await tx.execute("UPDATE chats SET worker_id = 2 WHERE id = 1")
        await tx.execute(
            "INSERT INTO claims (ref, type, status, event_date, reported_at, reporter_chat_id, "
            "desa_code, checklist, docs_requested_at, created_at, updated_at) VALUES "
            "('LC-2026-000001', 'JKM', 'documents_requested', '2026-11-01', ?, 1, ?, "
            '\'["akta_kematian","kartu_keluarga"]\', ?, ?, ?)',
            (t, DESA, t, t, t),
        )


async def test_sweep_queues_each_reminder_once(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "s.db")
    try:
        await _seed(db)
        later = NOW + timedelta(days=3)
        dry = await run_sweep(db, later, dry_run=True, whatsapp_enabled=True)
        first = await run_sweep(db, later, whatsapp_enabled=True)
        assert dry == first
        assert first[Kind.MISSING_DOCS] == 2  # reporter + facilitator
        assert first[Kind.PROTECTED_NOTICE] == 1  # worker 1 by WhatsApp number
        assert first[Kind.COVERAGE] == 2  # worker 2 in arrears + facilitator's count
        second = await run_sweep(db, later + timedelta(hours=1), whatsapp_enabled=True)
        assert sum(second.values()) == 0
        async with db.read() as r:
            notice = await r.scalar("SELECT protected_notice_at FROM workers WHERE id = 1")
            wa = await r.one("SELECT user_ref FROM outbox WHERE msg_key = 'notice.protected'")
        assert notice is not None
        assert wa is not None
        assert wa["user_ref"] == "6281234567890"
    finally:
        await db.close()


async def test_documents_arriving_stop_the_series(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "s.db")
    try:
        await _seed(db)
        await run_sweep(
            db, NOW + timedelta(days=3), kinds=[Kind.MISSING_DOCS], whatsapp_enabled=False
        )
        async with db.tx() as tx:
            for kind in ("akta_kematian", "kartu_keluarga"):
                await tx.execute(
                    "INSERT INTO claim_documents (claim_id, kind, path, sha256, mime, size, "
                    "received_at) VALUES (1, ?, 'x', ?, 'image/jpeg', 1, ?)",
                    (kind, kind, NOW.isoformat()),
                )
        day7 = await run_sweep(
            db, NOW + timedelta(days=7), kinds=[Kind.MISSING_DOCS], whatsapp_enabled=False
        )
        assert day7 == {Kind.MISSING_DOCS: 0}
    finally:
        await db.close()
