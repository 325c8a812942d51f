# ruff: noqa: F811
"""WhatsApp users named by a business-scoped user id (BSUID, issue 17), end to end.

A user who adopted a WhatsApp username reaches us with ``from_user_id`` / ``contacts[].user_id``
and no number at all. Everything must work for them (link, coverage, a JKK report with a photo,
claim news, a reminder outside the 24 h window as a template), addressed with ``recipient``;
when their number appears later, their chats become one, and replies go ``to`` the number.
"""

from __future__ import annotations

import json
from typing import Any

import wa_payloads as wp
from test_whatsapp_e2e import (  # noqa: F401  (h, user: fixtures)
    JPEG,
    USER,
    Harness,
    WAUser,
    h,
)

from lingkaran.channels.dispatcher import ChannelLimits, Dispatcher
from lingkaran.channels.scheduler import run_sweep
from lingkaran_core import services
from lingkaran_core.claims import Actor, ClaimStatus
from lingkaran_core.reminders import Kind
from lingkaran_core.services.facilitators import create_facilitator

BSUID = "ID.1502576394655843"
NIK = "3509271505780001"
LIMITS = {"whatsapp": ChannelLimits(rate=80, per_user_interval=0.0)}


async def seed_worker(h: Harness) -> None:
    now = h.clock()
    async with h.db.tx() as tx:
        await tx.execute(
            "INSERT INTO workers (id, nik, name, birth_date, sex, desa_code, sector, phone, kpj, "
            "coverage_start, paid_through, registration_status, created_at, updated_at) VALUES "
            "(1, ?, 'Sutrisno', '1978-05-15', 'L', '35.09.27.2002', 'buruh_tani_tembakau', "
            "'+6281234567890', '12345678901', '2026-01-01', '2026-12-01', 'verified', ?, ?)",
            (NIK, now.isoformat(), now.isoformat()),
        )


def addressed(msgs: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """The addressing fields of accepted messages: ("to", n) or ("recipient", bsuid)."""
    return {("to", m["to"]) if "to" in m else ("recipient", m["recipient"]) for m in msgs}


async def wa_chats(h: Harness) -> list[Any]:
    return await h.rows(
        "SELECT id, user_ref, phone, worker_id FROM chats WHERE channel = 'whatsapp' "
        "AND user_ref NOT LIKE 'merged:%' ORDER BY id"
    )


async def drain(h: Harness) -> None:
    dispatcher = Dispatcher(h.db, {"whatsapp": h.channel.sender}, clock=h.clock, limits=LIMITS)
    await dispatcher.drain("whatsapp")


async def test_a_bsuid_only_user_links_reports_hears_news_and_reminders(h: Harness) -> None:
    await seed_worker(h)
    # Years ago, before usernames, the same person wrote from their number: a number-keyed chat.
    old = WAUser(h, wa_id=USER)
    await old.say("halo")
    old.expect("Selamat datang")

    user = WAUser(h, wa_id=None, user_id=BSUID, username="sutrisno.tani")
    await user.say("halo")
    user.expect("Selamat datang", "Menu utama")
    assert addressed(user.last) == {("recipient", BSUID)}  # no number anywhere: recipient

    # Link: NIK + date of birth find the record; no number to prove, so a second factor.
    await user.tap("Cek kepesertaan")
    await user.say(NIK)
    await user.say("15-05-1978")
    user.expect("Data belum kami tampilkan", "tidak terlihat")
    await user.tap("Nomor kartu KPJ")
    await user.say("12345678901")
    user.expect("Sutrisno")  # coverage of the linked worker
    chats = await wa_chats(h)
    mine = [c for c in chats if c["user_ref"] == BSUID]
    assert mine
    assert mine[0]["worker_id"] == 1
    assert mine[0]["phone"] is None

    # A JKK report with a photo; the phone step asks (no "Pakai nomor ini": no number known).
    await user.say("menu")
    await user.tap("Lapor kecelakaan")
    await user.tap("Saya sendiri")
    for _ in range(14):
        text = user.text().lower()
        last = user.last[-1]
        if "mohon periksa" in text:
            break
        if "nomor hp" in text:
            assert "Pakai nomor ini" not in user.text()
            await user.say("081234567890")
        elif "nik" in text and "ketik" in text:
            await user.say(NIK)
        elif "nama" in text and last["type"] == "text":
            await user.say("Sutrisno")
        elif "tempat" in text or "di mana" in text:
            await user.say("sawah di Sukoreno")
        elif "apa yang terjadi" in text or "ceritakan" in text or "kronologi" in text:
            await user.say("tangan terkena sabit")
        elif "puskesmas" in text or "dirawat di" in text or "nama fasilitas" in text:
            await user.say("Puskesmas Kalisat")
        elif last["type"] == "interactive":
            await user.tap(_first(last))
        else:
            await user.say("tangan terkena sabit")
    user.expect("Mohon periksa")
    await user.tap("Kirim")
    user.expect("Nomor laporan: LC-")
    await user.photo("MEDIA-BSUID-KARTU")
    user.expect("diterima")
    claim = (await h.rows("SELECT ref, reporter_chat_id FROM claims"))[0]
    assert claim["reporter_chat_id"] == mine[0]["id"]
    docs = await h.rows("SELECT chat_id FROM claim_documents")
    assert [d["chat_id"] for d in docs] == [mine[0]["id"]]

    # Claim news inside the 24 h window: free-form, to the BSUID.
    async with h.db.tx() as tx:
        await services.transition_claim(
            tx, claim["ref"], ClaimStatus.IN_REVIEW, actor=Actor.ADMIN, now=h.clock()
        )
        await services.transition_claim(
            tx,
            claim["ref"],
            ClaimStatus.DOCUMENTS_REQUESTED,
            actor=Actor.ADMIN,
            now=h.clock(),
            note="mohon surat dokter",
        )
    before = len(user.mine())
    await drain(h)
    news = user.mine()[before:]
    assert news
    assert all(m["type"] in ("text", "interactive") for m in news)
    assert addressed(news) == {("recipient", BSUID)}
    assert any(claim["ref"] in _text(m) for m in news)

    # Three days later, the window long closed: the missing-documents reminder is a template.
    h.clock.advance(days=3, hours=1)
    counts = await run_sweep(h.db, h.clock(), kinds=[Kind.MISSING_DOCS], whatsapp_enabled=True)
    assert counts[str(Kind.MISSING_DOCS)] >= 1
    before = len(user.mine())
    await drain(h)
    reminder = user.mine()[before:]
    assert [m["type"] for m in reminder] == ["template"]
    assert reminder[0]["template"]["name"] == "lc_dokumen_kurang"
    assert addressed(reminder) == {("recipient", BSUID)}
    rows = await h.rows(
        "SELECT status, via_template FROM outbox WHERE msg_key = ?", ("reminder.missing_docs",)
    )
    assert [(r["status"], r["via_template"]) for r in rows] == [("sent", "lc_dokumen_kurang")]

    # The status of the template names the recipient by BSUID only: applied, nothing merged.
    wamid = reminder[0]["_wamid"]
    st = wp.status(wamid, "delivered", recipient=None, recipient_user_id=BSUID)
    assert await h.post(wp.envelope(wp.value(statuses=[st]))) == 200
    row = (
        await h.rows("SELECT delivery_status FROM outbox WHERE channel_message_id = ?", (wamid,))
    )[0]
    assert row["delivery_status"] == "delivered"

    # Later Meta shows the number with the BSUID: the number-keyed chat merges into this one.
    assert len(await wa_chats(h)) == 2
    user.wa_id = USER
    before = len(h.graph.sent)
    await user.say("menu")
    answer = h.graph.sent[before:]
    chats = await wa_chats(h)
    assert [(c["user_ref"], c["phone"], c["worker_id"]) for c in chats] == [(BSUID, "+" + USER, 1)]
    assert answer
    assert addressed(answer) == {("to", USER)}
    merged = await h.rows("SELECT user_ref FROM chats WHERE user_ref LIKE 'merged:%'")
    assert len(merged) == 1
    claim = (await h.rows("SELECT reporter_chat_id FROM claims"))[0]
    assert claim["reporter_chat_id"] == chats[0]["id"]
    events = await h.rows(
        "SELECT details FROM audit_log WHERE action = 'whatsapp.identity' ORDER BY id"
    )
    assert any('"merged"' in e["details"] for e in events)


def _first(m: dict[str, Any]) -> str:
    it = m["interactive"]
    if it["type"] == "button":
        return str(it["action"]["buttons"][0]["reply"]["title"])
    return str(it["action"]["sections"][0]["rows"][0]["title"])


def _text(m: dict[str, Any]) -> str:
    if m["type"] == "text":
        return str(m["text"]["body"])
    if m["type"] == "interactive":
        return str(m["interactive"]["body"]["text"])
    return ""


async def test_a_number_with_its_bsuid_proves_the_roster_phone_at_once(h: Harness) -> None:
    await seed_worker(h)
    user = WAUser(h, wa_id=USER, user_id=BSUID)
    await user.say("halo")
    await user.tap("Cek kepesertaan")
    await user.say(NIK)
    await user.say("15-05-1978")
    user.expect("Sutrisno", "DILINDUNGI")  # no second factor: Meta showed the roster number
    chats = await wa_chats(h)
    assert [(c["user_ref"], c["phone"], c["worker_id"]) for c in chats] == [(BSUID, "+" + USER, 1)]
    assert addressed(user.last) == {("to", USER)}


async def test_this_number_is_offered_only_when_meta_shows_it(h: Harness) -> None:
    with_number = WAUser(h, wa_id=USER, user_id=BSUID)
    without = WAUser(h, wa_id=None, user_id="ID.2609887766554433")
    for u in (with_number, without):
        await u.say("halo")
        await u.tap("Lapor kematian")
    # Walk both to the phone step of the JKM report (same answers).
    for u in (with_number, without):
        for _ in range(16):
            text = u.text().lower()
            if "nomor hp" in text:
                break
            last = u.last[-1]
            # A words-only step shows just a Batal button: it is answered by typing.
            typed = last["type"] == "text" or _first(last) == "Batal"
            if "tanggal" in text and typed:
                await u.say("3 november 2026")
            elif "nik" in text:
                await u.say("3509290101600004")
            elif ("nama" in text or "almarhum" in text) and typed:
                await u.say("Karsiman" if "almarhum" in text or "meninggal" in text else "Sumiati")
            elif last["type"] == "interactive" and not typed:
                await u.tap(_first(last))
            else:
                await u.say("Sumiati")
    assert "Pakai nomor ini" in json.dumps(with_number.last, ensure_ascii=False)
    assert "Pakai nomor ini" not in json.dumps(without.last, ensure_ascii=False)
    await with_number.tap("Pakai nomor ini")
    with_number.expect("+6281234567890")
    await without.say("nomor ini")  # there is none: a number is asked for again
    without.expect("Nomor HP")


async def test_a_lead_from_a_user_without_a_visible_number_asks_for_it(h: Harness) -> None:
    user = WAUser(h, wa_id=None, user_id=BSUID)
    await user.say("halo")
    await user.tap("Bisa ikut program?")
    await user.tap("Jawab 5 pertanyaan")
    await user.say("47")
    await user.say("puger kulon")
    await user.tap("Ya, benar")
    await user.tap("Nelayan")
    await user.tap("Tidak")
    await user.tap("Tidak tahu")
    await user.tap("Boleh")
    user.expect("Nomor HP yang bisa dihubungi")  # the facilitator needs a number to call
    await user.say("0813 5555 0002")
    user.expect("Pendamping desa akan menghubungi")
    leads = await h.rows("SELECT phone FROM leads")
    assert [r["phone"] for r in leads] == ["+6281355550002"]


async def test_a_code_to_the_roster_phone_links_and_its_status_merges_the_chats(
    h: Harness,
) -> None:
    """A username user asks for the code by WhatsApp: it goes ``to`` the roster number (a new
    number-keyed chat); its status names number and BSUID together, so the chats become one."""
    await seed_worker(h)
    h.channel.engine.outbound_channels = frozenset({"whatsapp"})
    user = WAUser(h, wa_id=None, user_id=BSUID)
    await user.say("halo")
    await user.tap("Cek kepesertaan")
    await user.say(NIK)
    await user.say("15-05-1978")
    await user.tap("Kode lewat WhatsApp")
    user.expect("Kode 6 angka sudah kami kirim", "+62812****7890")
    await drain(h)
    (code_msg,) = h.graph.sent_to(USER)
    assert code_msg["template"]["name"] == "lc_kode_sambung"  # a new chat: no window
    code = code_msg["template"]["components"][0]["parameters"][0]["text"]
    await user.say("000000" if code != "000000" else "111111")  # a typo: asked again, here
    user.expect("Kode itu salah atau sudah tidak berlaku")
    await user.say(code)
    user.expect("Sutrisno")
    assert len(await wa_chats(h)) == 2  # the code's chat (by number) and the user's (by BSUID)
    # Meta's status for the code names both ids (contacts[]): one chat again.
    st = wp.status(code_msg["_wamid"], "delivered", recipient=USER)
    value = wp.value(statuses=[st])
    value["contacts"] = [{"profile": {"name": "Sutrisno"}, "wa_id": USER, "user_id": BSUID}]
    assert await h.post(wp.envelope(value)) == 200
    chats = await wa_chats(h)
    assert [(c["user_ref"], c["phone"], c["worker_id"]) for c in chats] == [(BSUID, "+" + USER, 1)]
    row = (
        await h.rows("SELECT chat_id, user_ref FROM outbox WHERE msg_key = 'identity.phone_code'")
    )[0]
    assert (row["chat_id"], row["user_ref"]) == (chats[0]["id"], BSUID)


async def test_a_bsuid_only_facilitator_binds_and_a_ticket_reply_reaches_a_bsuid_user(
    h: Harness,
) -> None:
    async with h.db.tx() as tx:
        _fid, code = await create_facilitator(
            tx,
            name="Bu Lurah",
            phone=None,
            scope_kind="desa",
            scope_code="35.09.27.2002",
            now=h.clock(),
        )
    facilitator = WAUser(h, wa_id=None, user_id="ID.5550001112223334", username="bu.lurah")
    await facilitator.say(code)
    facilitator.expect("pendamping")
    row = (await h.rows("SELECT bound_chat_id FROM facilitators"))[0]
    bound = await h.rows("SELECT user_ref FROM chats WHERE id = ?", (row["bound_chat_id"],))
    assert [r["user_ref"] for r in bound] == ["ID.5550001112223334"]
    assert addressed(facilitator.last) == {("recipient", "ID.5550001112223334")}

    user = WAUser(h, wa_id=None, user_id=BSUID)
    await user.say("halo")
    await user.tap("Bicara dg petugas")
    await user.say("Kapan iuran bulan ini dibayar?")
    (ticket,) = await h.rows("SELECT id FROM tickets")
    async with h.db.tx() as tx:
        await services.reply_to_ticket(
            tx,
            ticket_id=ticket["id"],
            body="Sudah dibayar Pemkab tanggal 10.",
            sender="admin",
            actor_id="staff",
            now=h.clock(),
            channel="admin",
        )
    before = len(user.mine())
    await drain(h)
    answer = user.mine()[before:]
    assert answer
    assert addressed(answer) == {("recipient", BSUID)}
    assert "Sudah dibayar Pemkab" in json.dumps(answer, ensure_ascii=False)
