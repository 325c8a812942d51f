"""A worker's question reaches the facilitator, is answered, answered back, closed; escalation."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

from conftest import ChatDriver, FixedClock, admin_args

from handlers.engine import Engine
from handlers.facilitator import add_working_days, escalate_tickets
from lingkaran.channels import admin_tickets
from lingkaran_core import services
from lingkaran_core.facilitators import create_facilitator
from lingkaran_core.storage import Database

NIK = "3509271505780001"
SUKORENO = "35.09.27.2002"
CODE = "K7QM4XPT"


async def linked_worker(db: Database, chat: ChatDriver) -> int:
    """A roster worker of Sukoreno linked to ``chat``; returns the chat id."""
    await chat.send("menu")
    async with db.tx() as tx:
        cid = int(
            await tx.scalar(
                "SELECT id FROM chats WHERE channel = ? AND user_ref = ?", (chat.channel, chat.user)
            )
        )
        wid = await tx.execute(
            "INSERT INTO workers (nik, name, birth_date, sex, desa_code, sector, coverage_start, "
            "paid_through, created_at, updated_at) VALUES (?, 'Misnadi', '1978-05-15', 'L', ?, "
            "'buruh_tani_tembakau', '2025-12-01', '2026-12-31', 'x', 'x')",
            (NIK, SUKORENO),
        )
        await tx.execute(
            "UPDATE chats SET worker_id = ?, active_role = 'worker' WHERE id = ?", (wid, cid)
        )
    return cid


async def ticket_status(db: Database) -> str:
    async with db.tx() as tx:
        return str(await tx.scalar("SELECT status FROM tickets WHERE id = 1"))


async def bound_facilitator(engine: Engine, clock: FixedClock, db: Database) -> ChatDriver:
    async with db.tx() as tx:
        await create_facilitator(
            tx,
            name="Bu Rina",
            phone=None,
            scope_kind="desa",
            scope_code=SUKORENO,
            now=clock(),
            code=CODE,
        )
    fac = ChatDriver(engine=engine, clock=clock, user="fac1")
    await fac.send(CODE)
    fac.expect("Kode diterima")
    return fac


async def test_question_reply_answer_back_and_close(
    chat: ChatDriver, engine: Engine, clock: FixedClock, db: Database
) -> None:
    worker_chat = await linked_worker(db, chat)
    fac = await bound_facilitator(engine, clock, db)
    await chat.send("menu")
    await chat.tap("Bicara dg petugas")
    await chat.send("kartu bpjs saya hilang, bagaimana?")
    chat.expect("T-0001", "Pendamping desa akan menjawab")
    async with db.tx() as tx:
        told = await tx.scalar(
            "SELECT COUNT(*) FROM outbox o JOIN chats c ON c.id = o.chat_id "
            "WHERE o.msg_key = 'ticket.new' AND c.user_ref = 'fac1'"
        )
    assert told == 1

    clock.advance(days=2)
    await fac.send("menu")
    await fac.tap("Tiket terbuka")
    fac.expect("Tiket terbuka: 1")
    await fac.tap("T-0001")
    fac.expect(
        'T-0001 dari Bapak Misnadi (3509********0001), 2 hari lalu: "kartu bpjs saya hilang, '
        'bagaimana?"'
    )
    fac.expect_choices("Balas", "Tutup tiket", "Kembali")
    await fac.tap("Balas")
    fac.expect("Tulis balasan untuk Bapak Misnadi.")
    await fac.send("x")
    fac.expect("Mohon tulis balasan")
    await fac.send("Pak, Kamis saya ke rumah Bapak. Siapkan KTP ya.")
    fac.expect("Balasan terkirim. Tutup tiket?")
    await fac.tap("Biarkan terbuka")
    fac.expect("Tiket terbuka: 1")
    async with db.tx() as tx:
        queued = await tx.one(
            "SELECT chat_id, params, class FROM outbox WHERE msg_key = 'ticket.reply'"
        )
        status = await tx.scalar("SELECT status FROM tickets WHERE id = 1")
        sender = await tx.scalar("SELECT sender FROM ticket_messages ORDER BY id DESC LIMIT 1")
    assert queued is not None
    assert queued["chat_id"] == worker_chat
    assert queued["class"] == "transactional"
    assert json.loads(queued["params"]) == {
        "ticket": "T-0001",
        "body": "Pak, Kamis saya ke rumah Bapak. Siapkan KTP ya.",
    }
    assert (status, sender) == ("answered", "facilitator")

    await chat.send("menu")
    await chat.send("baik pak, saya tunggu hari kamis di rumah")
    chat.expect("Pesan diteruskan ke petugas (T-0001).")
    chat.expect_choices("Cek kepesertaan")
    # A thank-you is passed on but does not make the ticket wait for an answer again.
    assert await ticket_status(db) == "answered"
    await chat.send("pak saya hari kamis kerja di sawah, bisa jumat saja?")
    chat.expect("Pesan diteruskan ke petugas (T-0001).")
    async with db.tx() as tx:
        bodies = [
            (r["sender"], r["body"])
            for r in await tx.all("SELECT sender, body FROM ticket_messages ORDER BY id")
        ]
    assert bodies[-1] == ("user", "pak saya hari kamis kerja di sawah, bisa jumat saja?")
    assert len(bodies) == 4
    assert await ticket_status(db) == "open"
    await chat.send("2")  # a menu number is a menu choice, not a ticket message
    chat.expect_not("Pesan diteruskan")
    await chat.send("menu")

    await fac.send("menu")
    await fac.tap("Tiket terbuka")
    await fac.tap("T-0001")
    fac.expect("Pendamping, hari ini: Pak, Kamis", "Warga, hari ini: pak saya hari kamis")
    await fac.tap("Tutup tiket")
    fac.expect("Tiket T-0001 ditutup.", "Tidak ada tiket terbuka lagi.")
    async with db.tx() as tx:
        row = await tx.one("SELECT status, closed_at FROM tickets WHERE id = 1")
        audited = {
            r["action"]
            for r in await tx.all("SELECT action FROM audit_log WHERE actor_kind = 'facilitator'")
        }
    assert row is not None
    assert row["status"] == "closed"
    assert row["closed_at"] is not None
    assert {"ticket.view", "ticket.reply", "ticket.close"} <= audited

    await chat.send("terima kasih banyak ya bu rina")
    chat.expect_not("Pesan diteruskan")  # the ticket is closed


async def test_unanswered_tickets_escalate_after_two_working_days_over_a_weekend(
    chat: ChatDriver, engine: Engine, clock: FixedClock, db: Database
) -> None:
    clock.instant = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)  # Friday 10:00 WIB
    worker_chat = await linked_worker(db, chat)
    async with db.tx() as tx:
        await services.open_ticket(tx, chat_id=worker_chat, body="kartu hilang", now=clock())
    monday = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
    tuesday_early = datetime(2026, 12, 1, 2, 59, tzinfo=UTC)
    tuesday = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
    async with db.tx() as tx:
        assert await escalate_tickets(tx, monday) == 0
        assert await escalate_tickets(tx, tuesday_early) == 0
        assert await escalate_tickets(tx, tuesday) == 1
        assert await escalate_tickets(tx, tuesday) == 0  # once
        admin = await tx.one("SELECT params FROM outbox WHERE msg_key = 'admin.ticket_escalated'")
        worker = await tx.one(
            "SELECT chat_id, params, class FROM outbox WHERE msg_key = 'ticket.escalated'"
        )
        escalated_at = await tx.scalar("SELECT escalated_at FROM tickets WHERE id = 1")
    assert admin is not None
    assert json.loads(admin["params"])["ticket"] == "T-0001"
    assert worker is not None
    assert worker["chat_id"] == worker_chat
    assert json.loads(worker["params"]) == {"ticket": "T-0001", "answer_by": "2026-12-03"}
    assert escalated_at == tuesday.isoformat()


def test_working_days_skip_the_weekend() -> None:
    saturday = datetime(2026, 11, 28, 5, 0, tzinfo=UTC)
    assert add_working_days(saturday, 2).date().isoformat() == "2026-12-02"
    wednesday = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
    assert add_working_days(wednesday, 2).date().isoformat() == "2026-11-27"


async def test_answered_tickets_do_not_escalate(
    chat: ChatDriver, engine: Engine, clock: FixedClock, db: Database
) -> None:
    worker_chat = await linked_worker(db, chat)
    async with db.tx() as tx:
        tid = await services.open_ticket(tx, chat_id=worker_chat, body="halo", now=clock())
        await tx.execute("UPDATE tickets SET status = 'answered' WHERE id = ?", (tid,))
        assert await escalate_tickets(tx, datetime(2026, 12, 10, tzinfo=UTC)) == 0


async def test_admin_cli_lists_shows_replies_and_closes(
    chat: ChatDriver, db: Database, db_path: object
) -> None:
    worker_chat = await linked_worker(db, chat)
    async with db.tx() as tx:
        await services.open_ticket(
            tx, chat_id=worker_chat, body="kapan kartu jadi?", now=chat.clock()
        )

    async def cli(*argv: str) -> tuple[int, str]:
        out = io.StringIO()
        args = admin_args(["tickets", *argv, "--db", str(db_path)], chat.clock)
        return await admin_tickets.run_async(args, out=out), out.getvalue()

    code, text = await cli("list")
    assert code == 0
    assert "T-0001" in text
    assert "Misnadi (3509********0001)" in text
    assert NIK not in text
    code, text = await cli("show", "T-0001")
    assert "user: kapan kartu jadi?" in text
    code, text = await cli("reply", "1", "--message", "Kartu jadi minggu depan.")
    assert code == 0
    assert "queued" in text
    code, text = await cli("close", "T-0001")
    assert code == 0
    code, text = await cli("reply", "1", "--message", "lagi")
    assert code == 1
    code, text = await cli("show", "T-9999")
    assert code == 1
    async with db.tx() as tx:
        queued = await tx.one("SELECT chat_id, params FROM outbox WHERE msg_key = 'ticket.reply'")
        senders = [r["sender"] for r in await tx.all("SELECT sender FROM ticket_messages")]
        status = await tx.scalar("SELECT status FROM tickets WHERE id = 1")
    assert queued is not None
    assert queued["chat_id"] == worker_chat
    assert json.loads(queued["params"])["body"] == "Kartu jadi minggu depan."
    assert senders == ["user", "admin"]
    assert status == "closed"


async def test_the_facilitator_menu_shows_how_many_tickets_and_leads_wait(
    chat: ChatDriver, engine: Engine, clock: FixedClock, db: Database
) -> None:
    await linked_worker(db, chat)
    fac = await bound_facilitator(engine, clock, db)
    fac.expect_choices("Tiket terbuka", "Calon peserta")
    assert "Tiket terbuka (1)" not in [label for _, label in fac.choices()]
    await chat.send("menu")
    await chat.tap("Bicara dg petugas")
    await chat.send("kartu bpjs saya hilang, bagaimana?")
    async with db.tx() as tx:
        await services.create_lead(
            tx,
            desa_code=SUKORENO,
            chat_id=None,  # type: ignore[arg-type]
            phone="+6281234567000",
            answers={},
            decision="eligible",
            now=clock(),
        )
        # Another desa's lead is not counted.
        await services.create_lead(
            tx,
            desa_code="35.09.08.2001",
            chat_id=None,  # type: ignore[arg-type]
            phone="+6281234567001",
            answers={},
            decision="eligible",
            now=clock(),
        )
    await fac.send("menu")
    labels = [label for _, label in fac.choices()]
    assert "Tiket terbuka (1)" in labels
    assert "Calon peserta (1)" in labels
