"""WhatsApp end to end: signed webhooks into the real app, engine and SQLite file; replies out
to a loopback fake Graph API over real HTTP (tests/channels/fake_graph.py). No Meta, no network.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import wa_payloads as wp
from fake_graph import FakeGraph, running

from handlers.engine import Reply
from handlers.registry import build_engine
from lingkaran.channels.base import HoldMessage, OutboundMessage, RetryLater, Undeliverable
from lingkaran.channels.whatsapp import WhatsAppChannel, WhatsAppConfig, build_app
from lingkaran_core.storage import Database

SECRET = "app-secret-for-tests"
# An Ogg page header (capture pattern, version 0, BOS flag) and some payload: a voice note's start.
VOICE = b"OggS\x00\x02" + bytes(20) + b"OpusHead\x01\x01" + bytes(200)
VERIFY = "verify-token-for-tests"
USER = "6281234567890"
# A real JPEG (CPython's test/imghdrdata/python.jpg; see tests/data/README.md).
JPEG = (Path(__file__).resolve().parents[1] / "data" / "uploads" / "kartu.jpg").read_bytes()


@dataclass
class Harness:
    """The webhook app (ASGI), the channel, the fake Graph API and the database."""

    client: httpx.AsyncClient
    channel: WhatsAppChannel
    graph: FakeGraph
    db: Database
    clock: Any
    tmp: Path

    async def post(self, payload: dict[str, Any], *, signature: str | None = "good") -> int:
        raw = wp.encode(payload)
        headers = {"content-type": "application/json"}
        if signature == "good":
            headers["x-hub-signature-256"] = wp.sign(raw, SECRET)
        elif signature is not None:
            headers["x-hub-signature-256"] = signature
        resp = await self.client.post("/webhook/whatsapp", content=raw, headers=headers)
        await self.channel.idle()
        return resp.status_code

    async def rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        async with self.db.read() as r:
            return list(await r.all(sql, params))


@dataclass
class WAUser:
    """A WhatsApp user: types, taps buttons and list rows, sends photos; reads what came back.

    ``wa_id`` is the number Meta shows (None for a user with a username who hides it),
    ``user_id`` the business-scoped user id (BSUID) Meta adds since 2026.
    """

    h: Harness
    wa_id: str | None = USER
    seen: int = 0
    last: list[dict[str, Any]] = field(default_factory=list)
    ts: int = wp.T0
    user_id: str | None = None
    username: str | None = None

    @property
    def ids(self) -> dict[str, Any]:
        """The sender fields of this user's messages."""
        return {"sender": self.wa_id, "user_id": self.user_id}

    def mine(self) -> list[dict[str, Any]]:
        """What the bot sent this user (to their number or to their BSUID)."""
        return [
            m for m in self.h.graph.sent if self.h.graph.addressee(m) in (self.wa_id, self.user_id)
        ]

    async def _send(self, msg: dict[str, Any]) -> list[dict[str, Any]]:
        body = wp.envelope(
            wp.value(messages=[msg], wa_id=self.wa_id, user_id=self.user_id, username=self.username)
        )
        status = await self.h.post(body)
        assert status == 200
        mine = self.mine()
        self.last = mine[self.seen :]
        self.seen = len(mine)
        return self.last

    def _next_ts(self) -> int:
        self.ts += 5
        return self.ts

    async def say(self, text: str) -> list[dict[str, Any]]:
        return await self._send(wp.text(text, ts=self._next_ts(), **self.ids))

    async def tap(self, label: str) -> list[dict[str, Any]]:
        """Tap the button/row whose title starts with ``label`` (or whose choice id is it)."""
        for m in reversed(self.last):
            if m["type"] != "interactive":
                continue
            it = m["interactive"]
            if it["type"] == "button":
                options = [(b["reply"]["id"], b["reply"]["title"]) for b in it["action"]["buttons"]]
            else:
                options = [
                    (r["id"], r["title"]) for s in it["action"]["sections"] for r in s["rows"]
                ]
            for raw_id, title in options:
                if title.lower().startswith(label.lower()) or raw_id.split("|", 1)[-1] == label:
                    ts = self._next_ts()
                    if it["type"] == "button":
                        msg = wp.button_reply(raw_id, title, ts=ts, **self.ids)
                    else:
                        msg = wp.list_reply(raw_id, title, ts=ts, **self.ids)
                    return await self._send(msg)
            raise AssertionError(f"no {label!r} in {options}\n{self.transcript()}")
        raise AssertionError(f"no interactive message to tap {label!r}\n{self.transcript()}")

    async def photo(self, media_id: str, data: bytes = JPEG, mime: str = "image/jpeg") -> list[Any]:
        self.h.graph.add_media(media_id, data, mime)
        return await self._send(wp.image(media_id, mime=mime, ts=self._next_ts(), **self.ids))

    def text(self) -> str:
        return "\n".join(_visible(m) for m in self.last)

    def expect(self, *fragments: str) -> None:
        text = self.text().lower()
        for f in fragments:
            assert f.lower() in text, f"expected {f!r} in:\n{self.text()}"

    def transcript(self) -> str:
        return "\n".join(_visible(m) for m in self.mine())[-3000:]


def _read(path: str | Path) -> bytes:
    return Path(path).read_bytes()


def _visible(m: dict[str, Any]) -> str:
    if m["type"] == "text":
        return m["text"]["body"]
    if m["type"] == "template":
        return "TEMPLATE " + m["template"]["name"]
    it = m["interactive"]
    if it["type"] == "button":
        labels = [b["reply"]["title"] for b in it["action"]["buttons"]]
    else:
        labels = [r["title"] for s in it["action"]["sections"] for r in s["rows"]]
    return it["body"]["text"] + " " + " ".join(f"[{x}]" for x in labels)


@pytest.fixture
async def h(tmp_path: Path, clock: Any) -> AsyncIterator[Harness]:
    async with running(FakeGraph(phone_number_id=wp.PNID)) as graph:
        db = await Database.open(tmp_path / "lingkaran.db")
        config = WhatsAppConfig(
            app_secret=SECRET,
            verify_token=VERIFY,
            access_token=graph.token,
            phone_number_id=wp.PNID,
            api_root=graph.base_url,
            api_version="v21.0",
        )
        channel = WhatsAppChannel(
            db,
            config,
            engine=build_engine(db, clock=clock, track_replies=True),
            clock=clock,
            settle=0.0,
            retry_delays=(0.01, 0.01),
        )
        await channel.start()
        transport = httpx.ASGITransport(app=build_app(channel))
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://wa.test") as client:
                yield Harness(client, channel, graph, db, clock, tmp_path)
        finally:
            await channel.stop()
            await db.close()


@pytest.fixture
def user(h: Harness) -> WAUser:
    return WAUser(h)


# -- handshake and signature ---------------------------------------------------------------


async def test_the_verification_handshake_answers_the_challenge_only_with_the_token(
    h: Harness,
) -> None:
    ok = await h.client.get(
        "/webhook/whatsapp",
        params={"hub.mode": "subscribe", "hub.verify_token": VERIFY, "hub.challenge": "1158201444"},
    )
    assert (ok.status_code, ok.text) == (200, "1158201444")
    assert ok.headers["content-type"].startswith("text/plain")
    bad = await h.client.get(
        "/webhook/whatsapp",
        params={"hub.mode": "subscribe", "hub.verify_token": "nope", "hub.challenge": "1"},
    )
    assert bad.status_code == 403


@pytest.mark.parametrize("signature", [None, "sha256=" + "ab" * 32, "garbage"])
async def test_a_missing_or_forged_signature_gets_401_and_nothing_is_stored(
    h: Harness, signature: str | None
) -> None:
    status = await h.post(wp.envelope(wp.value(messages=[wp.text("halo")])), signature=signature)
    assert status == 401
    assert await h.rows("SELECT * FROM inbound_messages") == []
    assert h.graph.sent == []


# -- conversations -------------------------------------------------------------------------


async def test_eligibility_self_screening_with_list_and_button_replies(
    h: Harness, user: WAUser
) -> None:
    await user.say("halo")
    user.expect("Selamat datang", "Menu utama")
    menu = user.last[-1]["interactive"]
    assert menu["type"] == "list"  # 10 choices: a list, never 10 buttons
    await user.tap("Bisa ikut program?")
    assert user.last[-1]["interactive"]["type"] == "button"
    await user.tap("Jawab 5 pertanyaan")
    user.expect("umur")
    await user.say("47")
    await user.say("puger kulon")
    user.expect("Pugerkulon")
    await user.tap("Ya, benar")
    assert user.last[-1]["interactive"]["type"] == "list"
    await user.tap("Nelayan")
    await user.tap("Tidak")
    await user.tap("Tidak tahu")
    user.expect("Keputusan akhir")
    await user.tap("Boleh")
    # On WhatsApp the number is known: no question for it, the lead goes to the facilitator.
    user.expect("Pendamping desa akan menghubungi")
    assert len(await h.rows("SELECT * FROM leads")) == 1
    # Every label the API got kept Meta's limits (the fake refuses anything else).
    assert all(r.body.get("_accepted") for r in h.graph.requests if r.method == "POST")


async def test_jkk_report_with_a_photo_stores_the_document(h: Harness, user: WAUser) -> None:
    await user.say("halo")
    await user.tap("Lapor kecelakaan")
    await user.tap("Saya sendiri")
    await user.say("3509271505780001")
    await user.say("Sutrisno")
    await user.tap("Hari ini")
    await user.tap("Pagi")
    await user.say("sawah di Sukoreno")
    await user.tap("Tidak")
    await user.say("tangan terkena sabit")
    await user.tap("Rawat jalan")
    await user.say("Puskesmas Kalisat")
    await user.say("081234567890")
    user.expect("Mohon periksa", "3509********0001")
    await user.tap("Kirim")
    user.expect("Nomor laporan: LC-")
    await user.photo("MEDIA-KARTU")
    user.expect("diterima")
    docs = await h.rows("SELECT path, mime, size FROM claim_documents")
    assert len(docs) == 1
    assert docs[0]["mime"] == "image/jpeg"
    assert _read(docs[0]["path"]) == JPEG
    downloads = [r for r in h.graph.requests if r.method == "GET"]
    assert all(r.headers["authorization"] == f"Bearer {h.graph.token}" for r in downloads)
    assert len(downloads) == 2  # the media id, then its URL


async def test_a_file_of_the_wrong_type_is_refused_politely(h: Harness, user: WAUser) -> None:
    await user.say("halo")
    await user.photo("MEDIA-EXE", data=b"MZ\x90\x00" + b"\x00" * 100, mime="image/jpeg")
    user.expect("tidak bisa kami terima")


async def test_jkm_report_reaches_the_confirmation(h: Harness, user: WAUser) -> None:
    await user.say("halo")
    await user.tap("Lapor kematian")
    await user.tap("Tidak")
    await user.say("3 november 2026")
    await user.tap("Anak")
    await user.say("3509290101600004")
    user.expect("nama")
    await user.say("Karsiman")
    for _ in range(12):
        last = user.last[-1]
        text = user.text().lower()
        if (
            "kirim" in text
            and last["type"] == "interactive"
            and any(
                b["reply"]["title"] == "Kirim"
                for b in last["interactive"].get("action", {}).get("buttons", [])
            )
        ):
            break
        if "ahli waris" in text and last["type"] == "interactive":
            await user.tap(_first_option(last))
        elif "nama" in text:
            await user.say("Sumiati")
        elif last["type"] == "interactive":
            await user.tap(_first_option(last))
        else:
            await user.say("081234567890")
    await user.tap("Kirim")
    user.expect("LC-2026-")
    claims = await h.rows("SELECT type FROM claims")
    assert [c["type"] for c in claims] == ["JKM"]


def _first_option(m: dict[str, Any]) -> str:
    it = m["interactive"]
    if it["type"] == "button":
        return str(it["action"]["buttons"][0]["reply"]["title"])
    return str(it["action"]["sections"][0]["rows"][0]["title"])


async def test_the_same_payload_delivered_twice_gets_exactly_one_reply(h: Harness) -> None:
    payload = wp.envelope(wp.value(messages=[wp.text("halo", mid="wamid.DUP")]))
    assert await h.post(payload) == 200
    first = len(h.graph.sent)
    assert first > 0
    assert await h.post(payload) == 200
    assert len(h.graph.sent) == first
    rows = await h.rows("SELECT status FROM inbound_messages WHERE message_id = 'wamid.DUP'")
    assert [r["status"] for r in rows] == ["processed"]


async def test_a_batch_with_several_entries_is_processed_in_timestamp_order(h: Harness) -> None:
    await h.post(wp.envelope(wp.value(messages=[wp.text("halo", ts=wp.T0)])))
    h.graph.clear()
    # One webhook, three entries, the user's messages out of order: "menu" was written before
    # "batal" (timestamps), so the flow is entered... and then cancelled.
    body = wp.envelope(
        wp.value(messages=[wp.text("batal", ts=wp.T0 + 30, mid="m3")]),
        wp.value(messages=[wp.text("5", ts=wp.T0 + 20, mid="m2")]),
        wp.value(messages=[wp.text("halo", sender="6289999", ts=wp.T0 + 1)], wa_id="6289999"),
        entries=3,
    )
    assert await h.post(body) == 200
    mine = [_visible(m) for m in h.graph.sent if m["to"] == USER]
    assert "Bisa kami bantu cek" in mine[0]
    assert any("dibatalkan" in t for t in mine[1:])
    assert any(m["to"] == "6289999" for m in h.graph.sent)


async def test_a_sticker_is_answered_with_send_text_or_a_photo(h: Harness, user: WAUser) -> None:
    await user.say("halo")
    await user._send(wp.sticker(ts=user._next_ts()))
    user.expect("kirim tulisan atau foto")


async def test_a_voice_note_becomes_a_ticket_and_a_reply(h: Harness, user: WAUser) -> None:
    await user.say("halo")
    h.graph.add_media("VOICE1", VOICE, "audio/ogg; codecs=opus")
    await user._send(wp.audio("VOICE1", ts=user._next_ts()))
    user.expect("pesan suara", "Petugas akan mendengarkannya")
    tickets = await h.rows(
        "SELECT t.topic, m.media FROM tickets t JOIN ticket_messages m ON m.ticket_id = t.id"
    )
    assert len(tickets) == 1
    assert tickets[0]["topic"] == "voice"
    path = Path(tickets[0]["media"])
    assert path.parent == h.db.files_dir / "voice"
    assert _read(path) == VOICE


async def test_a_restart_processes_messages_recorded_but_not_processed(
    h: Harness, clock: Any
) -> None:
    h.channel._running = False  # as if the process died right after the ACK
    assert await h.post(wp.envelope(wp.value(messages=[wp.text("halo", mid="wamid.CRASH")]))) == 200
    assert h.graph.sent == []
    rows = await h.rows("SELECT status FROM inbound_messages WHERE message_id = 'wamid.CRASH'")
    assert rows[0]["status"] == "received"
    await h.channel.start()
    await h.channel.idle()
    assert any("Selamat datang" in _visible(m) for m in h.graph.sent)
    rows = await h.rows("SELECT status FROM inbound_messages WHERE message_id = 'wamid.CRASH'")
    assert rows[0]["status"] == "processed"


# -- outbound: window, templates, statuses, errors -----------------------------------------


async def _outbox_row(
    h: Harness, *, msg_key: str, params: dict[str, Any], last_inbound_hours: float | None
) -> int:
    now = h.clock()
    last = None if last_inbound_hours is None else now - timedelta(hours=last_inbound_hours)
    async with h.db.tx() as tx:
        chat_id = await tx.execute(
            "INSERT INTO chats (channel, user_ref, language, last_inbound_at, created_at) "
            "VALUES ('whatsapp', ?, 'id', ?, ?) ON CONFLICT (channel, user_ref) DO UPDATE "
            "SET last_inbound_at = excluded.last_inbound_at",
            (USER, last.isoformat() if last else None, now.isoformat()),
        )
        return await tx.execute(
            "INSERT INTO outbox (chat_id, channel, user_ref, msg_key, params, language, class, "
            "not_before, created_at, status) VALUES (?, 'whatsapp', ?, ?, ?, 'id', 'reminder', "
            "?, ?, 'queued')",
            (chat_id, USER, msg_key, json.dumps(params), now.isoformat(), now.isoformat()),
        )


def _message(
    h: Harness, outbox_id: int, key: str, params: dict[str, Any], hours: float | None
) -> OutboundMessage:
    return OutboundMessage(
        outbox_id=outbox_id,
        channel="whatsapp",
        user_ref=USER,
        msg_key=key,
        params=params,
        language="id",
        msg_class="reminder",
        reply=Reply(text="Bapak/Ibu, laporan LC-2026-000123 masih kurang dokumen."),
        last_inbound_at=None if hours is None else h.clock() - timedelta(hours=hours),
    )


MISSING = {"ref": "LC-2026-000123", "missing": ["surat_dokter", "buku_tabungan"]}


async def test_a_reminder_outside_the_window_goes_as_its_template(h: Harness) -> None:
    result = await h.channel.sender.send_outbound(
        _message(h, 1, "reminder.missing_docs", MISSING, hours=30)
    )
    assert result.via_template == "lc_dokumen_kurang"
    sent = h.graph.sent[-1]
    assert sent["type"] == "template"
    values = [p["text"] for p in sent["template"]["components"][0]["parameters"]]
    assert values == ["peserta", "LC-2026-000123", "Surat dokter (KK3/3b), Buku tabungan"]
    assert result.message_ids == (sent["_wamid"],)


async def test_a_reminder_inside_the_window_goes_free_form(h: Harness) -> None:
    result = await h.channel.sender.send_outbound(
        _message(h, 1, "reminder.missing_docs", MISSING, hours=2)
    )
    assert result.via_template is None
    assert h.graph.sent[-1]["type"] == "text"
    assert "masih kurang dokumen" in h.graph.sent[-1]["text"]["body"]


async def test_a_key_without_a_template_is_held_outside_the_window(h: Harness) -> None:
    with pytest.raises(HoldMessage):
        await h.channel.sender.send_outbound(
            _message(h, 1, "ticket.new", {"ticket": "T-0001"}, hours=None)
        )
    assert h.graph.sent == []


async def test_throughput_errors_are_retried_and_bad_recipients_are_not(h: Harness) -> None:
    h.graph.fail_next(400, 130429)
    with pytest.raises(RetryLater):
        await h.channel.sender.send_outbound(_message(h, 1, "reminder.missing_docs", MISSING, 1))
    h.graph.fail_next(429, None)
    with pytest.raises(RetryLater):
        await h.channel.sender.send_outbound(_message(h, 1, "reminder.missing_docs", MISSING, 1))
    h.graph.fail_next(400, 131026)
    with pytest.raises(Undeliverable):
        await h.channel.sender.send_outbound(_message(h, 1, "reminder.missing_docs", MISSING, 30))


async def test_labels_over_twenty_characters_never_reach_the_api(h: Harness) -> None:
    from handlers.engine import Choice

    reply = Reply(
        text="Pilih",
        choices=(
            Choice(id="a", label="Lapor kecelakaan kerja"),
            Choice(id="b", label="Bicara dengan petugas desa"),
        ),
        step_token="3",
    )
    await h.channel.sender.send_reply(USER, reply)
    sent = h.graph.sent[-1]["interactive"]
    assert sent["type"] == "list"
    for s in sent["action"]["sections"]:
        assert all(len(r["title"]) <= 24 for r in s["rows"])


async def test_statuses_update_the_outbox_row_and_never_move_backwards(h: Harness) -> None:
    oid = await _outbox_row(
        h, msg_key="reminder.missing_docs", params=MISSING, last_inbound_hours=1
    )
    async with h.db.tx() as tx:
        await tx.execute(
            "UPDATE outbox SET status = 'sent', channel_message_id = 'wamid.OUT1,wamid.OUT2' "
            "WHERE id = ?",
            (oid,),
        )

    async def delivery() -> str:
        rows = await h.rows("SELECT delivery_status FROM outbox WHERE id = ?", (oid,))
        return str(rows[0]["delivery_status"])

    await h.post(wp.envelope(wp.value(statuses=[wp.status("wamid.OUT1", "sent")])))
    assert await delivery() == "sent"
    await h.post(wp.envelope(wp.value(statuses=[wp.status("wamid.OUT1", "read")])))
    assert await delivery() == "read"
    await h.post(wp.envelope(wp.value(statuses=[wp.status("wamid.OUT1", "delivered")])))
    assert await delivery() == "read"


async def test_a_failed_131047_status_requeues_the_row_as_a_template(h: Harness) -> None:
    oid = await _outbox_row(
        h, msg_key="reminder.missing_docs", params=MISSING, last_inbound_hours=1
    )
    async with h.db.tx() as tx:
        await tx.execute(
            "UPDATE outbox SET status = 'sent', channel_message_id = 'wamid.LATE' WHERE id = ?",
            (oid,),
        )
    failed = wp.status("wamid.LATE", "failed", error_code=131047, pricing=False)
    assert await h.post(wp.envelope(wp.value(statuses=[failed]))) == 200
    row = (await h.rows("SELECT * FROM outbox WHERE id = ?", (oid,)))[0]
    assert row["status"] == "queued"
    assert row["delivery_status"] == "failed:131047"
    assert row["not_before"] == h.clock().isoformat()
    params = json.loads(row["params"])
    assert params["_force_template"] is True
    # The sender honours the flag even though the window looks open.
    msg = _message(h, oid, "reminder.missing_docs", params, hours=1)
    result = await h.channel.sender.send_outbound(msg)
    assert result.via_template == "lc_dokumen_kurang"
    # A late "sent" for the failed id cannot revive it.
    await h.post(wp.envelope(wp.value(statuses=[wp.status("wamid.LATE", "sent")])))
    row = (await h.rows("SELECT delivery_status FROM outbox WHERE id = ?", (oid,)))[0]
    assert row["delivery_status"] == "failed:131047"


async def test_a_failed_status_for_a_bad_number_fails_the_row(h: Harness) -> None:
    oid = await _outbox_row(
        h, msg_key="reminder.missing_docs", params=MISSING, last_inbound_hours=1
    )
    async with h.db.tx() as tx:
        await tx.execute(
            "UPDATE outbox SET status = 'sent', channel_message_id = 'wamid.BAD' WHERE id = ?",
            (oid,),
        )
    await h.post(
        wp.envelope(wp.value(statuses=[wp.status("wamid.BAD", "failed", error_code=131026)]))
    )
    row = (await h.rows("SELECT status, delivery_status FROM outbox WHERE id = ?", (oid,)))[0]
    assert (row["status"], row["delivery_status"]) == ("failed", "failed:131026")
