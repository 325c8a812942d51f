# ruff: noqa: F811
"""WhatsApp edges (issue 21): bounded bodies, timestamps in seconds or milliseconds or absurd,
failed messages retried at the next start, uploads checked by content, raw payloads reduced
once processed (no full NIK left outside the tables that need it), no secret in any log line.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import wa_payloads as wp
from test_whatsapp_e2e import (  # noqa: F401  (h, user: fixtures)
    JPEG,
    SECRET,
    USER,
    VERIFY,
    Harness,
    WAUser,
    h,
    user,
)

from handlers.registry import build_engine
from lingkaran.channels.base import BodyTooLarge, read_body
from lingkaran.channels.whatsapp import (
    WhatsAppChannel,
    normalize_timestamp,
    parse_webhook,
    reduce_record,
)
from lingkaran.server import WebServer
from lingkaran_core.storage import Database, channel_repo, schema_repo
from lingkaran_core.storage import chats as chat_store

DATA = Path(__file__).resolve().parents[1] / "data"
NIK = "3509271505780001"


def recorded(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / "whatsapp" / f"{name}.json").read_text())
    return data


# -- timestamps ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1795575600", 1795575600),  # seconds, as Meta documents them
        ("1795575600123", 1795575600),  # milliseconds
        (1795575600123, 1795575600),
        ("1795575600.5", 1795575600),
        ("0", 1795575700),  # absurd: the receive time
        ("4102444800", 1795575700),  # the year 2100
        ("-5", 1795575700),
        ("soon", 1795575700),
        (None, 1795575700),
    ],
)
def test_timestamps_in_seconds_or_milliseconds_and_absurd_ones(raw: Any, expected: int) -> None:
    assert normalize_timestamp(raw, received=1795575700) == expected


def test_the_recorded_millisecond_payload_parses_to_a_real_date() -> None:
    batch = parse_webhook(recorded("text_milliseconds"), received=1795575700)
    (msg,) = batch.messages
    assert msg.timestamp == 1795575600
    assert msg.received_at.year == 2026  # datetime.fromtimestamp(ms) raised before


@pytest.mark.parametrize("name", ["text_milliseconds", "text_absurd_timestamp"])
async def test_a_millisecond_or_absurd_timestamp_is_answered(h: Harness, name: str) -> None:
    assert await h.post(recorded(name)) == 200
    assert any(m["to"] == USER for m in h.graph.sent)
    rows = await h.rows("SELECT status FROM inbound_messages")
    assert [r["status"] for r in rows] == ["processed"]


# -- a message that failed for a bug is retried --------------------------------------------------


async def _record(db: Database, mid: str, *, failed_times: int) -> None:
    msg = parse_webhook(
        wp.envelope(wp.value(messages=[wp.text("halo", mid=mid)])), received=wp.T0
    ).messages[0]
    async with db.tx() as tx:
        await chat_store.record_inbound_payload(tx, "whatsapp", mid, USER, msg.record, now=_now())
        for _ in range(failed_times):
            await channel_repo.mark_inbound_failed(tx, "whatsapp", mid, error="KeyError")


def _now() -> Any:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(wp.T0, UTC)


async def test_a_failed_message_is_retried_at_the_next_start_and_answered(
    h: Harness, clock: Any
) -> None:
    await _record(h.db, "wamid.BUG1", failed_times=1)
    await _record(h.db, "wamid.GIVENUP", failed_times=channel_repo.INBOUND_MAX_ATTEMPTS)
    rows = await h.rows(
        "SELECT status, attempts, last_error, payload FROM inbound_messages "
        "WHERE message_id = 'wamid.BUG1'"
    )
    assert (rows[0]["status"], rows[0]["attempts"], rows[0]["last_error"]) == (
        "failed",
        1,
        "KeyError",
    )
    assert rows[0]["payload"]  # kept for the retry, never dropped
    restarted = WhatsAppChannel(
        h.db,
        h.channel.config,
        engine=build_engine(h.db, clock=clock, track_replies=True),
        clock=clock,
        sender=h.channel.sender,
        settle=0.0,
    )
    await restarted.start()
    await restarted.idle()
    assert any(m["to"] == USER for m in h.graph.sent)
    rows = await h.rows("SELECT message_id, status FROM inbound_messages ORDER BY message_id")
    assert {r["message_id"]: r["status"] for r in rows} == {
        "wamid.BUG1": "processed",
        "wamid.GIVENUP": "failed",  # left for staff after too many attempts, still recorded
    }


# -- bounded bodies ------------------------------------------------------------------------------


class _Chunks:
    """An ASGI receive that hands out ``n`` chunks and counts how many were taken."""

    def __init__(self, n: int, size: int) -> None:
        self.n, self.size, self.taken = n, size, 0

    async def __call__(self) -> dict[str, Any]:
        self.taken += 1
        more = self.taken < self.n
        return {"type": "http.request", "body": b"x" * self.size, "more_body": more}


async def test_read_body_stops_at_the_limit_without_a_content_length() -> None:
    from starlette.requests import Request

    chunks = _Chunks(n=2400, size=65536)  # 150 MiB offered
    request = Request({"type": "http", "method": "POST", "headers": []}, chunks)
    with pytest.raises(BodyTooLarge):
        await read_body(request, 1024 * 1024)
    assert chunks.taken == 17  # 1 MiB and one chunk more, never the rest
    declared = Request(
        {"type": "http", "method": "POST", "headers": [(b"content-length", b"157286400")]},
        _Chunks(n=1, size=1),
    )
    with pytest.raises(BodyTooLarge):
        await read_body(declared, 1024 * 1024)


async def test_the_webhook_answers_413_before_the_signature_check(h: Harness) -> None:
    big = b'{"object":"whatsapp_business_account","x":"' + b"a" * (2 * 1024 * 1024) + b'"}'
    headers = {"x-hub-signature-256": wp.sign(big, SECRET), "content-type": "application/json"}
    r = await h.client.post("/webhook/whatsapp", content=big, headers=headers)
    assert r.status_code == 413

    async def chunked() -> AsyncIterator[bytes]:
        for i in range(0, len(big), 65536):
            yield big[i : i + 65536]

    r = await h.client.post("/webhook/whatsapp", content=chunked(), headers=headers)
    assert r.status_code == 413
    assert await h.rows("SELECT * FROM inbound_messages") == []


async def test_the_server_refuses_an_oversized_body_for_every_route(h: Harness) -> None:
    server = WebServer(h.channel.routes, host="127.0.0.1", port=0, max_body_bytes=4096)
    await server.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as client:
            r = await client.post("/webhook/whatsapp", content=b"x" * 5000)
            assert r.status_code == 413
    finally:
        await server.stop()


# -- uploads checked by content ------------------------------------------------------------------


async def test_an_html_page_posing_as_a_pdf_and_a_one_byte_file_are_refused(
    h: Harness, user: WAUser
) -> None:
    await user.say("halo")
    await user.tap("Lapor kecelakaan")
    h.graph.add_media(
        "MEDIA-HTML", b"<html><body>" + b"x" * 500 + b"</body></html>", "application/pdf"
    )
    out = await user._send(wp.document("MEDIA-HTML", mime="application/pdf", filename="a.pdf"))
    assert any("Jenis berkas" in json.dumps(m, ensure_ascii=False) for m in out)
    h.graph.add_media("MEDIA-ONE", b"%", "application/pdf")
    out = await user._send(wp.document("MEDIA-ONE", mime="application/pdf", filename="b.pdf"))
    assert any("terlalu kecil" in json.dumps(m, ensure_ascii=False) for m in out)
    assert await h.rows("SELECT * FROM claim_documents") == []


async def test_a_voice_note_that_is_not_audio_is_refused_and_not_stored(h: Harness) -> None:
    h.graph.add_media("VOICE-HTML", b"<html>" + b"x" * 400, "audio/ogg; codecs=opus")
    assert await h.post(wp.envelope(wp.value(messages=[wp.audio("VOICE-HTML")]))) == 200
    assert any("pesan suara" in json.dumps(m, ensure_ascii=False) for m in h.graph.sent)
    assert await h.rows("SELECT * FROM tickets") == []
    voice = h.db.files_dir / "voice"
    assert not voice.exists() or not any(voice.iterdir())


# -- raw payloads reduced; no full NIK outside the tables that need it ---------------------------

# Where a full NIK must be kept: the roster, and the claims forwarded to BPJS TK.
NIK_HOMES = {("workers", "nik"), ("claims", "subject_nik"), ("claims", "claimant_nik")}


async def full_niks(db: Database, nik: str) -> list[tuple[str, str]]:
    """Every (table, column) holding ``nik`` in full, outside ``NIK_HOMES``."""
    found: list[tuple[str, str]] = []
    pattern = re.compile(rf"(?<!\d){nik}(?!\d)")
    async with db.read() as r:
        for table in await schema_repo.table_names(r):
            cols = await schema_repo.column_names(r, table)
            for col in cols:
                if (table, col) in NIK_HOMES:
                    continue
                rows = await r.all(f'SELECT "{col}" FROM "{table}" WHERE "{col}" IS NOT NULL')
                if any(pattern.search(str(row[0])) for row in rows):
                    found.append((table, col))
    return found


async def _seed(db: Database) -> None:
    async with db.tx() as tx:
        await tx.execute(
            "INSERT INTO workers (nik, name, birth_date, sex, desa_code, sector, coverage_start, "
            "paid_through, kpj, created_at, updated_at) VALUES (?, 'Sutrisno', '1978-05-15', 'L', "
            "'3509272002', 'buruh_tani_tembakau', '2025-07-01', '2026-12-01', '12345678901', "
            "'x', 'x')",
            (NIK,),
        )


async def test_after_a_conversation_no_full_nik_is_left_outside_its_tables(
    h: Harness, user: WAUser
) -> None:
    await _seed(h.db)
    await user.say("halo")
    await user.tap("Cek kepesertaan")
    await user.say(NIK)
    await user.say("15-05-1978")
    user.expect("Data belum kami tampilkan")  # the date is in the NIK: a second factor
    await user.tap("Nomor kartu KPJ")
    await user.say("12345678901")
    user.expect("Sutrisno")
    assert await full_niks(h.db, NIK) == []
    payloads = [r["payload"] for r in await h.rows("SELECT payload FROM inbound_messages")]
    assert payloads
    assert all(json.loads(p)["reduced"] for p in payloads)
    assert any("3509********0001" in p for p in payloads)  # audit keeps the masked shape


def test_reduce_record_keeps_the_shape_and_masks_the_nik() -> None:
    msg = parse_webhook(
        wp.envelope(wp.value(messages=[wp.text(NIK, mid="wamid.R")])), received=wp.T0
    ).messages[0]
    reduced = json.loads(reduce_record(msg.record))
    assert reduced == {
        "reduced": True,
        "type": "text",
        "timestamp": str(wp.T0),
        "context_id": None,
        "text": "3509********0001",
    }
    assert "Ani" not in reduce_record(msg.record)  # the profile name goes too


# -- no secret in any log line -------------------------------------------------------------------


async def test_no_secret_reaches_a_log_line(
    h: Harness, user: WAUser, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server = WebServer(h.channel.routes, host="127.0.0.1", port=0, log_level="debug")
    await server.start()
    port = server.port
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            ok = await client.get(
                "/webhook/whatsapp",
                params={"hub.mode": "subscribe", "hub.verify_token": VERIFY, "hub.challenge": "7"},
            )
            assert ok.text == "7"
            await client.get(
                "/webhook/whatsapp",
                params={"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "7"},
            )
    finally:
        await server.stop()
    await user.say("halo")
    await user.photo("MEDIA-LOG", data=JPEG)
    assert caplog.records
    # The test's own client plays Meta and logs its request lines: not the bot's logs.
    meta = f"HTTP Request: GET http://127.0.0.1:{port}/webhook"
    ours = [r for r in caplog.records if not r.getMessage().startswith(meta)]
    for secret in (VERIFY, SECRET, h.graph.token):
        leaks = [r for r in ours if secret in f"{r.getMessage()} {r.__dict__} {r.exc_text}"]
        assert not leaks, (secret, [(r.name, r.getMessage(), r.__dict__) for r in leaks][:2])


# -- a number change drops the chat's link ---------------------------------------------------------


async def test_a_number_change_drops_the_link_and_answers_nothing(h: Harness) -> None:
    from lingkaran_core.storage import identity_repo

    now = h.clock()
    async with h.db.tx() as tx:
        await tx.execute(
            "INSERT INTO workers (id, nik, name, birth_date, sex, desa_code, sector, phone, "
            "coverage_start, paid_through, registration_status, created_at, updated_at) VALUES "
            "(1, '3509271505780001', 'Sutrisno', '1978-05-15', 'L', '35.09.27.2002', "
            "'buruh_tani_tembakau', '+6281234567890', '2026-01-01', '2026-12-01', 'verified', "
            "?, ?)",
            (now.isoformat(), now.isoformat()),
        )
        chat = await chat_store.get_or_create_chat(tx, "whatsapp", USER, now=now)
        await identity_repo.save_verified(tx, chat.id, 1, factor="phone", now=now)
        await tx.execute("UPDATE chats SET worker_id = 1 WHERE id = ?", (chat.id,))
    sent_before = len(h.graph.sent)
    assert await h.post(recorded("system_user_changed_number")) == 200
    assert len(h.graph.sent) == sent_before  # a system message gets no reply
    rows = await h.rows("SELECT user_ref, phone, worker_id FROM chats WHERE id = ?", (chat.id,))
    # The chat (and its history) follows the user to the new number; the old number's next
    # holder finds no chat; the link is gone either way (NIK + date of birth again).
    assert (rows[0]["user_ref"], rows[0]["phone"]) == ("6281299998888", "+6281299998888")
    assert rows[0]["worker_id"] is None
    assert (
        await h.rows("SELECT 1 FROM chats WHERE user_ref = ? OR phone = ?", (USER, "+" + USER))
        == []
    )
    audit = await h.rows("SELECT action, details FROM audit_log WHERE action = 'link.expired'")
    assert len(audit) == 1
    assert "user_changed_number" in audit[0]["details"]
    # Redelivered by Meta: no second effect.
    assert await h.post(recorded("system_user_changed_number")) == 200
    assert len(await h.rows("SELECT 1 FROM audit_log WHERE action = 'link.expired'")) == 1
