"""A facilitator files a scholarship application for a worker's child, on behalf of the heir or
the worker, from "Lapor atas nama pekerja" (issue 14): the NIK is asked, the service checks the
facilitator's scope itself, the filing is audited, and the confirmation says who staff contact.
The facilitator menu stays within one WhatsApp list (10 rows) and its numbers stay put."""

from __future__ import annotations

import json

from conftest import ChatDriver, FixedClock
from test_facilitator import PUGERKULON, SUKORENO, add_worker, bound_facilitator, scalar

from handlers.engine import Engine
from lingkaran.channels.whatsapp.render import render_reply
from lingkaran_core.storage import Database

SUTRISNO = "3509271505780001"  # Sukoreno: the facilitator's desa
DARMAJI = "3509081203800002"  # Pugerkulon: another kecamatan
MENU = [
    "Daftarkan pekerja",
    "Cari pekerja",
    "Tiket terbuka",
    "Klaim desa",
    "Calon peserta",
    "Ringkasan desa",
    "Verifikasi pekerja",
    "Lapor atas nama pekerja",
    "Menu pekerja",
]


async def _to_scholarship(fac: ChatDriver) -> None:
    await fac.send("menu")
    await fac.send("8")  # by number, as on a phone that shows the numbered list
    fac.expect("Laporan apa?")
    await fac.send("3")
    fac.expect("Apa yang terjadi pada peserta?")
    await fac.tap("Meninggal biasa")
    fac.expect("Berapa NIK peserta (orang tua anak)?")


async def test_the_facilitator_menu_is_one_whatsapp_list_and_the_reports_three_buttons(
    engine: Engine, clock: FixedClock, db: Database
) -> None:
    fac = await bound_facilitator(engine, clock, db)
    await fac.send("menu")
    menu = next(r for r in reversed(fac.replies) if r.choices)
    assert [c.label for c in menu.choices] == MENU
    [message] = render_reply(menu)
    assert message["interactive"]["type"] == "list"
    rows = message["interactive"]["action"]["sections"][0]["rows"]
    assert [r["title"] for r in rows] == MENU
    assert all(len(r["title"]) <= 24 for r in rows)
    await fac.tap("Lapor atas nama pekerja")
    kinds = next(r for r in reversed(fac.replies) if r.choices)
    assert [c.label for c in kinds.choices] == [
        "Lapor kecelakaan",
        "Lapor kematian",
        "Beasiswa anak",
    ]
    *_, step = render_reply(kinds)
    assert step["interactive"]["type"] == "button"  # three WhatsApp reply buttons: one tap
    assert len(step["interactive"]["action"]["buttons"]) == 3
    # Words typed at the menu still start a report, as before the entries were grouped.
    await fac.send("menu")
    await fac.send("beasiswa")
    fac.expect("Apa yang terjadi pada peserta?")
    await fac.send("menu")
    await fac.send("lapor kecelakaan")
    fac.expect("Berapa NIK orang yang celaka?")


async def test_a_facilitator_files_a_scholarship_for_a_worker_of_the_desa(
    engine: Engine, clock: FixedClock, db: Database
) -> None:
    worker_id = await add_worker(db, SUTRISNO, "Sutrisno", SUKORENO)
    fac = await bound_facilitator(engine, clock, db)
    await _to_scholarship(fac)
    await fac.send(SUTRISNO)
    fac.expect("Data ditemukan: Bapak Sutrisno, NIK 3509********0001")
    await fac.send("3-11-2026")
    await fac.send("Dewi Lestari")
    await fac.send("12-03-2012")
    await fac.tap("SMP")
    fac.expect("Siapa orang tua atau wali anak yang akan dihubungi petugas?")
    await fac.send("Sumiati")
    fac.expect("Nomor HP Sumiati yang bisa dihubungi petugas?")
    fac.expect_not("Pakai nomor ini")  # the facilitator's own number is not the family's
    await fac.send("0812 3456 7890")
    fac.expect(
        "Ajukan beasiswa untuk Dewi Lestari (SMP / MTs), anak dari peserta NIK 3509********0001",
        "Petugas Pemkab akan menghubungi Sumiati (+6281234567890), orang tua/wali anak",
        "Kabar pengajuan juga dikirim ke Bapak/Ibu sebagai pendamping",
    )
    await fac.tap("Kirim")
    fac.expect(
        "Terkirim. Nomor pengajuan: LC-2026-000001",
        "Petugas Pemkab akan menghubungi Sumiati (+6281234567890)",
    )
    async with db.read() as r:
        claim = await r.one("SELECT * FROM claims")
        fid = await r.scalar("SELECT id FROM facilitators")
        chat_id = await r.scalar("SELECT id FROM chats WHERE user_ref = 'fac1'")
        audit = await r.one(
            "SELECT actor_kind, actor_id, channel FROM audit_log WHERE action = 'claim.submit'"
        )
    assert claim is not None
    assert (claim["type"], claim["status"]) == ("BEASISWA", "submitted")
    assert (claim["facilitator_id"], claim["reporter_chat_id"]) == (fid, chat_id)
    assert (claim["worker_id"], claim["desa_code"]) == (worker_id, SUKORENO)
    assert (claim["subject_nik"], claim["subject_name"]) == (SUTRISNO, "Sutrisno")
    assert claim["claimant_phone"] == "+6281234567890"
    answers = json.loads(claim["answers"])
    assert (answers["child_name"], answers["contact_name"]) == ("Dewi Lestari", "Sumiati")
    assert audit is not None
    assert (audit["actor_kind"], str(audit["actor_id"])) == ("facilitator", str(fid))
    # The desk lists it among the desa's claims.
    await fac.send("menu")
    await fac.tap("Klaim desa")
    fac.expect_choices("LC-2026-000001")


async def test_a_facilitator_is_refused_a_scholarship_for_another_desa_and_nothing_changes(
    engine: Engine, clock: FixedClock, db: Database
) -> None:
    await add_worker(db, SUTRISNO, "Sutrisno", SUKORENO)
    await add_worker(db, DARMAJI, "Darmaji", PUGERKULON)
    fac = await bound_facilitator(engine, clock, db)
    await _to_scholarship(fac)
    await fac.send(DARMAJI)
    fac.expect("NIK itu tidak terdaftar di wilayah Bapak/Ibu")
    fac.expect_not("Darmaji", "Data ditemukan")
    # A conversation state naming the worker of another desa at the last step: refused too.
    async with db.tx() as tx:
        darmaji = await tx.scalar("SELECT id FROM workers WHERE nik = ?", (DARMAJI,))
        await tx.execute(
            "UPDATE conversations SET flow = 'beasiswa', step = 'confirm', data = ? "
            "WHERE chat_id = (SELECT id FROM chats WHERE user_ref = 'fac1')",
            (
                json.dumps(
                    {
                        "cause": "jkm_death",
                        "nik": DARMAJI,
                        "worker_id": darmaji,
                        "event_date": "2026-11-03",
                        "child_name": "Ani",
                        "child_dob": "2015-01-01",
                        "level": "sd",
                        "contact_name": "Sumiati",
                        "contact_phone": "+6281234567890",
                    }
                ),
            ),
        )
    await fac.send("Kirim")
    fac.expect("NIK itu tidak terdaftar di wilayah Bapak/Ibu")
    assert await scalar(db, "SELECT COUNT(*) FROM claims") == 0
    assert await scalar(db, "SELECT COUNT(*) FROM claim_counters") == 0
    assert await scalar(db, "SELECT COUNT(*) FROM audit_log WHERE action = 'claim.submit'") == 0
