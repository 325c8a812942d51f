"""Every step of every flow, rendered as a user meets it: short bubbles, a button or a number to
answer with, and a way out of every step answered in words.

Each step is placed directly (with the answers earlier steps would have stored) and rendered for
the roles that reach it: a worker linked to the roster on the terminal and on WhatsApp, and a
village facilitator. The outbound texts a facilitator receives (digests, alerts) are checked
with long parameters too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from conftest import T0

from handlers.engine import Ctx, Engine, Incoming, Reply
from handlers.i18n import translator
from handlers.registry import all_flows, build_engine
from lingkaran_core import services
from lingkaran_core.claims import ClaimType
from lingkaran_core.facilitators import create_facilitator
from lingkaran_core.storage import Database
from lingkaran_core.storage import chats as chat_store
from lingkaran_core.storage.chats import ConversationState

SUKORENO = "35.09.27.2002"
NIK = "3509271505780001"
MAX_BUBBLE = 600
WAY_OUT_WORDS = ('"batal"', '"menu"')

# What earlier steps would have stored: enough for every prompt to render.
DATA: dict[str, Any] = {
    "nik": NIK,
    "name": "Sutrisno Hadi Wijaya",
    "who": "other",
    "date": "2026-11-23",
    "event_date": "2026-11-03",
    "time": "08:00",
    "place": "gudang pengeringan tembakau milik Pak Haji di Dusun Krajan, Desa Sukoreno",
    "traffic": "no",
    "what": "jatuh dari tangga waktu menggantung daun tembakau, kaki kanan patah " * 3,
    "condition": "inpatient",
    "treated_at": "RSD dr. Soebandi Jember",
    "phone": "+6281234567890",
    "relation": "spouse",
    "heir": "spouse",
    "heir_name": "Sumiati Rahayu",
    "heir_nik": "3509274407850003",
    "children": "yes",
    "cause": "jkm_death",
    "child_name": "Dewi Lestari",
    "child_dob": "2012-03-12",
    "level": "smp",
    "age": 47,
    "desa_guess": [SUKORENO],
    "desa_code": SUKORENO,
    "sector": "buruh_tani_tembakau",
    "other_bpjs": "no",
    "in_dtsen": "unknown",
    "result_text": "Kemungkinan besar Bapak/Ibu memenuhi syarat.",
    "nik_dob": "1978-05-15",
    "nik_sex": "L",
    "dob": "1978-05-15",
    "sex": "L",
    "consent_at": T0.isoformat(),
    "typed_nik": NIK,
    "typed_date": "2026-11-23",
    "suggest": ["coverage", "jkk", "human"],
    "ticket": "T-0001",
    "code": "123456",
    "who_name": "Bapak Sutrisno",
    "born": "1978-05-15",
}


@dataclass
class World:
    engine: Engine
    db: Database
    ids: dict[str, Any]


async def world(db: Database) -> World:
    """A worker, their claim, a facilitator of the desa, a lead and a ticket."""
    async with db.tx() as tx:
        worker = await tx.execute(
            "INSERT INTO workers (nik, name, birth_date, sex, desa_code, sector, coverage_start, "
            "paid_through, registration_status, phone, created_at, updated_at) VALUES (?, "
            "'Sutrisno Hadi Wijaya', '1978-05-15', 'L', ?, 'buruh_tani_tembakau', '2025-12-01', "
            "'2026-12-31', 'verified', '+6281234567890', 'x', 'x')",
            (NIK, SUKORENO),
        )
        for channel, user in (("terminal", "w"), ("whatsapp", "6281234567890")):
            chat = await chat_store.get_or_create_chat(tx, channel, user, now=T0)
            await chat_store.update_chat(tx, chat.id, worker_id=worker, active_role="worker")
        chat_w = await chat_store.get_or_create_chat(tx, "terminal", "w", now=T0)
        claim = await services.submit_claim(
            tx,
            services.NewClaim(
                claim_type=ClaimType.JKK,
                event_date=date(2026, 11, 23),
                reporter_chat_id=chat_w.id,
                worker_id=worker,
                subject_nik=NIK,
                subject_name="Sutrisno Hadi Wijaya",
                checklist=("ktp", "kartu_peserta", "surat_dokter", "kronologi", "buku_tabungan"),
            ),
            now=T0,
            idempotency_key="sweep",
            channel="terminal",
        )
        fid, _ = await create_facilitator(
            tx,
            name="Bu Rina Puspitasari",
            phone=None,
            scope_kind="desa",
            scope_code=SUKORENO,
            now=T0,
            code="K7QM4XPT",
        )
        fchat = await chat_store.get_or_create_chat(tx, "terminal", "f", now=T0)
        await tx.execute(
            "UPDATE facilitators SET bound_chat_id = ?, bound_at = ? WHERE id = ?",
            (fchat.id, T0.isoformat(), fid),
        )
        await chat_store.update_chat(tx, fchat.id, facilitator_id=fid, active_role="facilitator")
        lead = await services.create_lead(
            tx,
            desa_code=SUKORENO,
            chat_id=chat_w.id,
            phone="+6281299990001",
            answers={"age": 47, "sector": "nelayan_tangkap", "other_bpjs": "no"},
            decision="likely",
            now=T0,
        )
        ticket = await services.open_ticket(
            tx, chat_id=chat_w.id, body="kartu saya hilang, bagaimana? " * 10, now=T0
        )
    engine = build_engine(db, clock=lambda: T0)
    engine.outbound_channels = frozenset({"whatsapp", "telegram"})
    return World(
        engine=engine,
        db=db,
        ids={"worker": worker, "ref": claim.ref, "lead": lead, "ticket": ticket},
    )


async def render(w: World, flow: str, step: str, *, user: tuple[str, str]) -> list[Reply]:
    """The replies a user gets when ``flow``/``step`` asks its question."""
    data = dict(DATA)
    data.update(
        ref=w.ids["ref"],
        worker_id=w.ids["worker"],
        lead_id=w.ids["lead"],
        ticket_id=w.ids["ticket"],
        results=[w.ids["worker"]],
        list="all",
    )
    async with w.db.tx() as tx:
        chat = await chat_store.get_chat(tx, *user)
        assert chat is not None
        ctx = Ctx(
            tx=tx,
            db=w.db,
            chat=chat,
            state=ConversationState(flow=flow, step=step, data=data),
            incoming=Incoming(channel=user[0], user_ref=user[1], message_id="sweep"),
            now=T0,
            t=translator("id"),
            engine=w.engine,
        )
        return await w.engine.prompt(ctx)


FLOWS = all_flows()
STEPS = [(f.name, s.name) for f in FLOWS.values() for s in f.steps]
WORKER_TERMINAL = ("terminal", "w")
WORKER_WHATSAPP = ("whatsapp", "6281234567890")
FACILITATOR = ("terminal", "f")


def users_of(flow: str) -> list[tuple[str, str]]:
    roles = FLOWS[flow].roles
    users = []
    if roles & {"worker", "public"}:
        users += [WORKER_TERMINAL, WORKER_WHATSAPP]
    if "facilitator" in roles:
        users.append(FACILITATOR)
    return users


def test_the_sweep_covers_every_flow() -> None:
    assert len(STEPS) >= 80
    assert {f for f, _ in STEPS} == set(FLOWS)


@pytest.mark.parametrize(("flow", "step"), STEPS, ids=[f"{f}.{s}" for f, s in STEPS])
async def test_every_step_is_short_answerable_and_has_a_way_out(
    db: Database, flow: str, step: str
) -> None:
    w = await world(db)
    declared = FLOWS[flow].step(step)
    for user in users_of(flow):
        replies = await render(w, flow, step, user=user)
        where = f"{flow}.{step} for {user}"
        assert replies, where
        for r in replies:
            assert len(r.text) <= MAX_BUBBLE, f"{where}: {len(r.text)} chars\n{r.text}"
        last = replies[-1]
        # Answerable by a button or its number (every channel numbers or shows the choices).
        assert last.choices, f"{where}: no button to answer with\n{last.text}"
        assert len(last.choices) <= 10, f"{where}: {len(last.choices)} choices"
        words_only = declared.free_text or (not callable(declared.choices) and not declared.choices)
        if words_only and flow != "menu":
            way_out = any(c.id.startswith("cmd:") or c.id == "menu" for c in last.choices) or any(
                word in last.text for word in WAY_OUT_WORDS
            )
            assert way_out, f"{where}: a words-only step without a way out\n{last.text}"


class _Params(dict[str, Any]):
    """Parameters of an outbox row, long where they can be (names, lists of documents)."""

    def __missing__(self, key: str) -> Any:
        if any(k in key for k in ("date", "deadline", "until", "at", "month", "due")):
            return "2026-12-31"
        if key in ("documents", "missing", "kinds", "checklist"):
            return ["ktp", "kartu_peserta", "surat_dokter", "kronologi", "buku_tabungan"]
        if key in ("status", "old", "new"):
            return "documents_requested"
        if any(k in key for k in ("count", "leads", "claims", "regs", "months", "n", "minutes")):
            return 12345
        return "Sutrisno Hadi Wijaya Kusumo"


# Carry a person's own words (a staff reply, an admin broadcast): the channel splits those.
OWN_WORDS = {"ticket.reply", "broadcast.message"}


def test_every_outbound_text_for_users_and_facilitators_fits_a_bubble() -> None:
    from handlers.outbound import RENDERERS

    rendered = 0
    for key, fn in RENDERERS.items():
        if key in OWN_WORDS:
            continue
        for lang in ("id", "en"):
            try:
                text = fn(translator(lang), _Params(ref="LC-2026-000123", ticket="T-0042"))
            except (KeyError, TypeError, ValueError, AttributeError):
                continue  # a parameter shape this fake cannot guess; covered elsewhere
            rendered += 1
            assert len(text) <= MAX_BUBBLE, f"{key} [{lang}]: {len(text)} chars\n{text}"
    assert rendered >= 30
