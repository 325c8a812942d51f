"""A sweep of every facilitator flow with another desa's NIKs, references and forged ids.

The facilitator of Desa Sukoreno tries, through every flow a facilitator can be in (JKK, JKM,
scholarship, documents, the desk's claims, tickets, leads, registration and lookup), to act on
Desa Pugerkulon: typed NIKs, choice ids that were never offered, and conversation states that
name B's records (what a corrupted or forged state row would hold). Each attempt is refused and
no record, outbox row or document file changes; only the audit log notes the refusal.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from conftest import ChatDriver, FixedClock

from handlers.engine import Engine
from lingkaran_core import services
from lingkaran_core.claims import ClaimType
from lingkaran_core.storage import Database

DESA_A = "35.09.27.2002"  # Sukoreno, Kec. Kalisat
DESA_B = "35.09.08.2004"  # Pugerkulon, Kec. Puger
NIK_A = "3509271505780001"
NIK_B = "3509081203800077"
# Every table a refused attempt must leave alone (the audit log records the refusal itself).
RECORDS = (
    "workers",
    "claims",
    "claim_events",
    "claim_documents",
    "claim_counters",
    "leads",
    "tickets",
    "ticket_messages",
    "outbox",
    "facilitators",
)
STALE = "Tombol itu sudah tidak berlaku"
NOT_IN_SCOPE_NIK = "NIK itu tidak terdaftar di wilayah Bapak/Ibu"


@dataclass
class Desk:
    """The facilitator's chat and the records of desa B it must never reach."""

    chat: ChatDriver
    db: Database
    chat_id: int
    worker_b: int
    claim_b: str
    ticket_b: int
    lead_b: int
    lead_a: int

    async def force(self, flow: str, step: str, data: dict[str, Any]) -> None:
        """What a forged or corrupted conversation row would hold."""
        async with self.db.tx() as tx:
            await tx.execute(
                "UPDATE conversations SET flow = ?, step = ?, data = ? WHERE chat_id = ?",
                (flow, step, json.dumps(data), self.chat_id),
            )


async def _seed(db: Database, clock: FixedClock) -> dict[str, Any]:
    ids: dict[str, Any] = {}
    async with db.tx() as tx:
        for key, nik, name, desa in (
            ("a", NIK_A, "Sutrisno", DESA_A),
            ("b", NIK_B, "Darmaji", DESA_B),
        ):
            wid = await tx.execute(
                "INSERT INTO workers (nik, name, birth_date, sex, desa_code, sector, phone, "
                "coverage_start, paid_through, created_at, updated_at) VALUES (?, ?, "
                "'1978-05-15', 'L', ?, 'nelayan_tangkap', NULL, '2020-01-01', "
                "'2026-12-31', 'x', 'x')",
                (nik, name, desa),
            )
            cid = await tx.execute(
                "INSERT INTO chats (channel, user_ref, worker_id, active_role, created_at) "
                "VALUES ('whatsapp', ?, ?, 'worker', 'x')",
                (f"w{key}", wid),
            )
            ids[f"worker_{key}"] = wid
            ids[f"lead_{key}"] = await services.create_lead(
                tx,
                desa_code=desa,
                chat_id=cid,
                phone=None,
                answers={"age": 40},
                decision="likely",
                now=clock(),
            )
            claim = await services.submit_claim(
                tx,
                services.NewClaim(
                    claim_type=ClaimType.JKK,
                    event_date=date(2026, 11, 24),
                    reporter_chat_id=cid,
                    worker_id=wid,
                    subject_name=name,
                    subject_nik=nik,
                    checklist=("ktp_participant",),
                ),
                now=clock(),
                idempotency_key=key,
                channel="whatsapp",
            )
            ids[f"claim_{key}"] = claim.ref
            ids[f"ticket_{key}"] = await services.open_ticket(
                tx, chat_id=cid, body=f"pertanyaan dari {name}", now=clock()
            )
        await services.facilitators.create_facilitator(
            tx,
            name="Bu Rina",
            phone=None,
            scope_kind="desa",
            scope_code=DESA_A,
            now=clock(),
            code="K7QM4XPT",
        )
    return ids


@pytest.fixture
async def desk(db: Database, engine: Engine, clock: FixedClock) -> Desk:
    ids = await _seed(db, clock)
    chat = ChatDriver(engine=engine, clock=clock, user="fac1")
    await chat.send("K7QM4XPT")
    chat.expect("Kode diterima")
    async with db.tx() as tx:
        cid = int(await tx.scalar("SELECT id FROM chats WHERE user_ref = 'fac1'"))
    return Desk(
        chat=chat,
        db=db,
        chat_id=cid,
        worker_b=ids["worker_b"],
        claim_b=ids["claim_b"],
        ticket_b=ids["ticket_b"],
        lead_b=ids["lead_b"],
        lead_a=ids["lead_a"],
    )


async def records(db: Database) -> dict[str, Any]:
    """The rows of every record table, and the document files on disk."""
    out: dict[str, Any] = {}
    async with db.read() as tx:
        for table in RECORDS:
            rows = await tx.all(f"SELECT * FROM {table}")  # table names: the constant above
            out[table] = sorted(tuple(r) for r in rows)
    files = db.files_dir
    out["files"] = sorted(str(p) for p in files.rglob("*")) if files.exists() else []
    return out


def never_b(chat: ChatDriver) -> None:
    """Nothing of desa B's records in the last replies."""
    seen = repr(chat.replies)
    for leak in ("Darmaji", "LC-2026-000002", "T-0002"):
        assert leak not in seen, f"{leak} leaked:\n{chat.dump()}"


JKM_CONFIRM = {
    "date": "2026-11-20",
    "relation": "child",
    "nik": NIK_B,
    "name": "Darmaji",
    "heir": "other",
    "heir_name": "Siti Aminah",
    "children": "no",
    "phone": "+6281234567890",
}
JKK_CONFIRM = {
    "who": "other",
    "nik": NIK_B,
    "name": "Darmaji",
    "date": "2026-11-24",
    "time": "09:00",
    "place": "sawah",
    "what": "jatuh dari pohon",
    "condition": "treated",
    "treated_at": "puskesmas",
    "traffic": "no",
    "phone": "+6281234567890",
}
BEASISWA_CONFIRM = {
    "cause": "jkm_death",
    "nik": NIK_B,
    "name": "Darmaji",
    "event_date": "2026-11-20",
    "child_name": "Ani",
    "child_dob": "2015-01-01",
    "level": "sd",
}
REGISTER_CONFIRM = {
    "nik": "3509085505900012",
    "nik_dob": "1990-05-15",
    "nik_sex": "P",
    "name": "Warga Baru",
    "dob": "1990-05-15",
    "sex": "P",
    "desa_code": DESA_B,
    "sector": "nelayan_tangkap",
    "consent_at": "2026-11-25T03:00:00+00:00",
}


async def jkk_typed(d: Desk) -> str:
    await d.chat.tap("Lapor atas nama pekerja")
    await d.chat.tap("Lapor kecelakaan")
    await d.chat.send(NIK_B)
    return NOT_IN_SCOPE_NIK


async def jkk_forged_nik_step(d: Desk) -> str:
    await d.force("jkk", "nik", {"who": "other"})  # no facilitator flag: the role still counts
    await d.chat.send(NIK_B)
    return NOT_IN_SCOPE_NIK


async def jkk_forged_confirm(d: Desk) -> str:
    await d.force("jkk", "confirm", {**JKK_CONFIRM, "worker_id": d.worker_b})
    await d.chat.send("Kirim")
    return NOT_IN_SCOPE_NIK


async def jkm_typed(d: Desk) -> str:
    await d.chat.tap("Lapor atas nama pekerja")
    await d.chat.tap("Lapor kematian")
    await d.chat.tap("Tidak")
    await d.chat.send("20-11-2026")
    await d.chat.tap("Anak")
    await d.chat.send(NIK_B)
    return NOT_IN_SCOPE_NIK


async def jkm_forged_confirm(d: Desk) -> str:
    await d.force("jkm", "confirm", {**JKM_CONFIRM, "worker_id": d.worker_b})
    await d.chat.send("Kirim")
    return NOT_IN_SCOPE_NIK


async def jkm_forged_confirm_nik_only(d: Desk) -> str:
    await d.force("jkm", "confirm", {**JKM_CONFIRM, "by_facilitator": True})
    await d.chat.send("Kirim")
    return NOT_IN_SCOPE_NIK


async def beasiswa_typed(d: Desk) -> str:
    await d.force("beasiswa", "nik", {"cause": "jkm_death"})
    await d.chat.send(NIK_B)
    return NOT_IN_SCOPE_NIK


async def beasiswa_from_the_menu(d: Desk) -> str:
    await d.chat.tap("Lapor atas nama pekerja")
    await d.chat.tap("Beasiswa anak")
    await d.chat.tap("Meninggal biasa")
    await d.chat.send(NIK_B)
    return NOT_IN_SCOPE_NIK


async def beasiswa_forged_worker_button(d: Desk) -> str:
    # A household's "Untuk siapa?" button naming B's worker, never offered to a facilitator.
    await d.chat.tap("Lapor atas nama pekerja")
    await d.chat.tap("Beasiswa anak")
    await d.chat.tap("Meninggal biasa")
    await d.chat.press(f"w:{d.worker_b}", d.chat.token())
    d.chat.expect(STALE)
    await d.force("beasiswa", "nik", {"cause": "jkm_death", "by_facilitator": True})
    await d.chat.send(f"w:{d.worker_b}")  # the same id typed: refused, nothing of B read
    return "Mohon ketik 16 angka"


async def beasiswa_forged_confirm_with_contact(d: Desk) -> str:
    await d.force(
        "beasiswa",
        "confirm",
        {
            **BEASISWA_CONFIRM,
            "worker_id": d.worker_b,
            "contact_name": "Siti",
            "contact_phone": "+6281234567890",
        },
    )
    await d.chat.send("Kirim")
    return NOT_IN_SCOPE_NIK


async def beasiswa_forged_confirm(d: Desk) -> str:
    await d.force("beasiswa", "confirm", {**BEASISWA_CONFIRM, "worker_id": d.worker_b})
    await d.chat.send("Kirim")
    return NOT_IN_SCOPE_NIK


async def documents_forged_upload(d: Desk) -> str:
    await d.force("docs", "upload", {"ref": d.claim_b, "kind": "ktp_participant"})
    await d.chat.photo(data=b"\xff\xd8\xff forged")
    return "Laporan itu tidak ditemukan"


async def documents_forged_pick(d: Desk) -> str:
    await d.force("docs", "pick", {"ref": d.claim_b})
    # No document of a claim out of scope is offered ("1" would be Batal): name one instead.
    await d.chat.send("ktp")
    return "Laporan itu tidak ditemukan"


async def claims_forged_id(d: Desk) -> str:
    await d.chat.tap("Klaim desa")
    await d.chat.press("c:" + d.claim_b, d.chat.token())
    return STALE


async def claims_forged_detail(d: Desk) -> str:
    await d.force("fac_claims", "claim", {"ref": d.claim_b})
    await d.chat.send("bantuan")
    return "Laporan itu tidak ada di wilayah"


async def tickets_forged_id(d: Desk) -> str:
    await d.chat.tap("Tiket terbuka")
    await d.chat.press(f"t:{d.ticket_b}", d.chat.token())
    return STALE


async def tickets_forged_reply(d: Desk) -> str:
    await d.force("fac_tickets", "reply", {"ticket_id": d.ticket_b})
    await d.chat.send("Balasan yang tidak boleh sampai")
    return "Tiket itu tidak ada di wilayah"


async def tickets_forged_close(d: Desk) -> str:
    await d.force("fac_tickets", "ticket", {"ticket_id": d.ticket_b})
    await d.chat.send("tutup")
    return "Tiket itu tidak ada di wilayah"


async def tickets_forged_close_after_reply(d: Desk) -> str:
    await d.force("fac_tickets", "replied", {"ticket_id": d.ticket_b})
    await d.chat.send("tutup")
    return "Tiket itu tidak ada di wilayah"


async def leads_forged_id(d: Desk) -> str:
    await d.chat.tap("Calon peserta")
    await d.chat.press(f"l:{d.lead_b}", d.chat.token())
    return STALE


async def leads_forged_contacted(d: Desk) -> str:
    await d.force("fac_leads", "lead", {"lead_id": d.lead_b})
    await d.chat.send("dihubungi")
    return "Calon peserta itu tidak ada di wilayah"


async def leads_forged_register(d: Desk) -> str:
    await d.force("fac_leads", "lead", {"lead_id": d.lead_b})
    await d.chat.send("daftar")
    return "Calon peserta itu tidak ada di wilayah"


async def leads_forged_close(d: Desk) -> str:
    await d.force("fac_leads", "close_reason", {"lead_id": d.lead_b})
    await d.chat.send("Tidak berminat")
    return "Calon peserta itu tidak ada di wilayah"


async def register_nik_of_another_desa(d: Desk) -> str:
    await d.chat.tap("Daftarkan pekerja")
    await d.chat.send(NIK_B)
    return "sudah terdaftar di wilayah lain"


async def register_forged_confirm(d: Desk) -> str:
    await d.force("fac_register", "confirm", REGISTER_CONFIRM)
    await d.chat.send("Simpan")
    return "Desa itu di luar wilayah Bapak/Ibu"


async def register_forged_desa_id(d: Desk) -> str:
    await d.force("fac_register", "desa", {k: REGISTER_CONFIRM[k] for k in ("nik", "name")})
    await d.chat.press("d:" + DESA_B, d.chat.token())
    return STALE


async def find_typed_nik(d: Desk) -> str:
    await d.chat.tap("Cari pekerja")
    await d.chat.send(NIK_B)
    return "Tidak ada pekerja dengan NIK"


async def find_forged_detail(d: Desk) -> str:
    await d.force("fac_find", "detail", {"worker_id": d.worker_b})
    await d.chat.send("bantuan")
    return "Pekerja itu tidak ada di wilayah"


ATTEMPTS: dict[str, Callable[[Desk], Awaitable[str]]] = {
    f.__name__: f
    for f in (
        jkk_typed,
        jkk_forged_nik_step,
        jkk_forged_confirm,
        jkm_typed,
        jkm_forged_confirm,
        jkm_forged_confirm_nik_only,
        beasiswa_typed,
        beasiswa_from_the_menu,
        beasiswa_forged_worker_button,
        beasiswa_forged_confirm,
        beasiswa_forged_confirm_with_contact,
        documents_forged_upload,
        documents_forged_pick,
        claims_forged_id,
        claims_forged_detail,
        tickets_forged_id,
        tickets_forged_reply,
        tickets_forged_close,
        tickets_forged_close_after_reply,
        leads_forged_id,
        leads_forged_contacted,
        leads_forged_register,
        leads_forged_close,
        register_nik_of_another_desa,
        register_forged_confirm,
        register_forged_desa_id,
        find_typed_nik,
        find_forged_detail,
    )
}


@pytest.mark.parametrize("attempt", list(ATTEMPTS))
async def test_another_desas_record_is_refused_and_nothing_changes(
    desk: Desk, attempt: str
) -> None:
    before = await records(desk.db)
    refusal = await ATTEMPTS[attempt](desk)
    desk.chat.expect(refusal)
    never_b(desk.chat)
    assert await records(desk.db) == before


async def test_a_forged_lead_of_another_desa_is_not_marked_by_a_registration(
    desk: Desk,
) -> None:
    await desk.force(
        "fac_register",
        "confirm",
        {**REGISTER_CONFIRM, "desa_code": DESA_A, "lead_id": desk.lead_b},
    )
    await desk.chat.send("Simpan")
    desk.chat.expect("Tersimpan")  # the worker of desa A is registered...
    async with desk.db.read() as tx:
        statuses = dict(await tx.all("SELECT id, status FROM leads"))
    assert statuses == {desk.lead_a: "open", desk.lead_b: "open"}  # ...desa B's lead untouched


async def test_the_same_reports_inside_the_scope_are_filed_for_the_facilitator(
    desk: Desk,
) -> None:
    await desk.chat.tap("Lapor atas nama pekerja")
    await desk.chat.tap("Lapor kematian")
    await desk.chat.tap("Tidak")
    await desk.chat.send("20-11-2026")
    await desk.chat.tap("Anak")
    await desk.chat.send(NIK_A)
    desk.chat.expect_not(NOT_IN_SCOPE_NIK)
    async with desk.db.read() as tx:
        fid = await tx.scalar("SELECT id FROM facilitators")
    await desk.force("jkm", "confirm", {**JKM_CONFIRM, "nik": NIK_A, "name": "Sutrisno"})
    await desk.chat.send("Kirim")
    desk.chat.expect("Terkirim. Nomor laporan: LC-2026-000003")
    async with desk.db.read() as tx:
        row = await tx.one(
            "SELECT facilitator_id, desa_code, worker_id FROM claims WHERE ref = 'LC-2026-000003'"
        )
    assert row is not None
    assert (row["facilitator_id"], row["desa_code"]) == (fid, DESA_A)
