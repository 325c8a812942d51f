"""Transcripts for "Bicara dg petugas": a written message becomes a ticket for a person."""

from __future__ import annotations

from conftest import ChatDriver

from lingkaran_core.storage import Database

NIK = "3509271505780001"  # Kalisat (35.09.27), born 15-05-1978
DESA = "35.09.27.2002"  # Sukoreno, Kec. Kalisat


async def chat_id_of(db: Database, chat: ChatDriver) -> int:
    async with db.tx() as tx:
        return int(
            await tx.scalar(
                "SELECT id FROM chats WHERE channel = ? AND user_ref = ?", (chat.channel, chat.user)
            )
        )


async def link_worker(db: Database, chat: ChatDriver, *, with_facilitator: bool) -> None:
    """A roster worker linked to this chat, optionally with a bound facilitator for the desa."""
    cid = await chat_id_of(db, chat)
    async with db.tx() as tx:
        wid = await tx.execute(
            "INSERT INTO workers (nik, name, birth_date, sex, desa_code, sector, coverage_start, "
            "paid_through, created_at, updated_at) VALUES (?, 'Sutrisno', '1978-05-15', 'L', ?, "
            "'buruh_tani_tembakau', '2025-12-01', '2026-12-31', 'x', 'x')",
            (NIK, DESA),
        )
        await tx.execute(
            "UPDATE chats SET worker_id = ?, active_role = 'worker' WHERE id = ?", (wid, cid)
        )
        if with_facilitator:
            fchat = await tx.execute(
                "INSERT INTO chats (channel, user_ref, created_at) VALUES ('telegram', 'rina', 'x')"
            )
            await tx.execute(
                "INSERT INTO facilitators (name, scope_kind, scope_code, bound_chat_id, "
                "created_at) VALUES ('Rina', 'desa', ?, ?, 'x')",
                (DESA, fchat),
            )


async def ticket_rows(db: Database) -> list[tuple[int, str]]:
    async with db.tx() as tx:
        rows = await tx.all(
            "SELECT t.id, m.body FROM tickets t JOIN ticket_messages m ON m.ticket_id = t.id "
            "ORDER BY m.id"
        )
    return [(r["id"], r["body"]) for r in rows]


async def test_message_opens_a_ticket_for_pemkab_staff_when_there_is_no_facilitator(
    chat: ChatDriver, db: Database
) -> None:
    await chat.send("menu")
    await chat.tap("Bicara dg petugas")
    chat.expect("Tulis pesan Bapak/Ibu untuk petugas", "foto belum bisa")
    await chat.send("kartu bpjs saya hilang, bagaimana?")
    chat.expect("Nomor tiket: T-0001", "Petugas Pemkab Jember", "2 hari kerja", "menambah pesan")
    chat.expect_not("Senin sampai Jumat")  # Wednesday 10:00 is within office hours
    chat.expect_choices("Menu utama")
    assert await ticket_rows(db) == [(1, "kartu bpjs saya hilang, bagaimana?")]
    async with db.tx() as tx:
        queued = await tx.scalar("SELECT COUNT(*) FROM outbox WHERE msg_key = 'admin.ticket'")
        topic = await tx.scalar("SELECT topic FROM tickets WHERE id = 1")
    assert queued == 1
    assert topic == "question"


async def test_linked_worker_with_a_facilitator_is_told_the_facilitator_answers(
    chat: ChatDriver, db: Database
) -> None:
    await chat.send("menu")
    await link_worker(db, chat, with_facilitator=True)
    await chat.tap("Bicara dg petugas")
    await chat.send("Pak, kapan kartu saya jadi?")
    chat.expect("T-0001", "Pendamping desa akan menjawab")
    async with db.tx() as tx:
        row = await tx.one("SELECT worker_id, desa_code FROM tickets WHERE id = 1")
        queued = await tx.scalar("SELECT COUNT(*) FROM outbox WHERE msg_key = 'ticket.new'")
    assert row["desa_code"] == DESA
    assert queued == 1


async def test_follow_up_messages_join_the_same_open_ticket(chat: ChatDriver, db: Database) -> None:
    await chat.send("menu")
    await chat.tap("Bicara dg petugas")
    await chat.send("pertanyaan pertama")
    await chat.send("ini tambahan, nomor HP saya ganti")
    chat.expect("Pesan ditambahkan ke tiket T-0001")
    chat.expect_choices("Menu utama")
    await chat.tap("Menu utama")
    chat.expect("Menu utama")
    # Coming back later while the ticket is still open: told so, and the message joins it.
    await chat.tap("Bicara dg petugas")
    chat.expect("masih dibuka (tiket T-0001)")
    await chat.send("sudah dua hari belum dijawab")
    chat.expect("Pesan ditambahkan ke tiket T-0001")
    assert [t for t, _ in await ticket_rows(db)] == [1, 1, 1]


async def test_closed_ticket_means_a_new_one(chat: ChatDriver, db: Database) -> None:
    await chat.send("menu")
    await chat.tap("Bicara dg petugas")
    await chat.send("pertanyaan pertama")
    async with db.tx() as tx:
        await tx.execute("UPDATE tickets SET status = 'closed'")
    await chat.send("menu")
    await chat.tap("Bicara dg petugas")
    chat.expect_not("masih dibuka")
    await chat.send("pertanyaan baru")
    chat.expect("Nomor tiket: T-0002")


async def test_photo_is_refused_with_a_pointer_to_my_claims(chat: ChatDriver, db: Database) -> None:
    await chat.send("menu")
    await chat.tap("Bicara dg petugas")
    await chat.photo()
    chat.expect("hanya bisa tulisan", "Klaim saya")
    assert await ticket_rows(db) == []
    await chat.send("tolong dibantu")
    chat.expect("T-0001")


async def test_too_long_or_empty_message_is_asked_again(chat: ChatDriver, db: Database) -> None:
    await chat.send("menu")
    await chat.tap("Bicara dg petugas")
    await chat.send("a" * 1001)
    chat.expect("terlalu panjang (1001 huruf)", "1000 huruf")
    await chat.send("?")
    chat.expect("sedikit lebih jelas")
    assert await ticket_rows(db) == []
    await chat.send("a" * 1000)
    chat.expect("T-0001")


async def test_cancel_sends_nothing(chat: ChatDriver, db: Database) -> None:
    await chat.send("menu")
    await chat.tap("Bicara dg petugas")
    await chat.tap("Batal")
    chat.expect("dibatalkan")
    assert await ticket_rows(db) == []


async def test_outside_office_hours_the_answer_time_is_explained(
    chat: ChatDriver, db: Database
) -> None:
    await chat.send("menu")
    chat.clock.advance(hours=10)  # 20:00 WIB
    await chat.tap("Bicara dg petugas")
    await chat.send("halo pak")
    chat.expect(
        "T-0001", "Senin sampai Jumat, pukul 08.00 sampai 15.00 WIB", "hari kerja berikutnya"
    )
