# ruff: noqa: F811
"""Every recorded WhatsApp payload (tests/data/whatsapp/*.json, sources in tests/data/README.md)
signed and posted as its exact bytes, twice, as Meta redelivers: one effect, no traceback, no
5xx; a sensible answer or a deliberate silence; and what the Graph API imitation received.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any

import pytest
import wa_payloads as wp
from test_whatsapp_e2e import (  # noqa: F401  (h: fixture)
    JPEG,
    SECRET,
    USER,
    VOICE,
    Harness,
    h,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "whatsapp"
FIXTURES = sorted(p.stem for p in DATA.glob("*.json"))

BSUID = "ID.1502576394655843"  # Sutrisno: number and BSUID known
SITI = "ID.2609887766554433"  # Siti: a username, no number
PDF = (DATA.parent / "uploads" / "surat.pdf").read_bytes()

# What the bot does with each payload: "reply" (one answer, whatever it says) or "silent".
SILENT = {
    "reaction",
    "reaction_removed",
    "revoked",
    "edited",  # at the menu: nothing to correct (at a text step the new text is offered)
    "group_message",
    "system_identity_changed",
    "system_user_changed_number",
    "system_user_changed_number_bsuid",
    "system_user_changed_user_id",
    "user_id_update",
    "value_errors",
    "status_sent",
    "status_delivered",
    "status_read",
    "status_played",
    "status_failed",
    "status_failed_131047",
    "status_bsuid_recipient",
    "message_template_status_update",
    "account_update",
    "user_preferences",
}


def raw(name: str) -> bytes:
    return (DATA / f"{name}.json").read_bytes()


async def post_raw(h: Harness, body: bytes) -> int:
    """Sign and post the exact bytes, as Meta does."""
    headers = {"content-type": "application/json", "x-hub-signature-256": wp.sign(body, SECRET)}
    resp = await h.client.post("/webhook/whatsapp", content=body, headers=headers)
    await h.channel.idle()
    return resp.status_code


async def dump(h: Harness) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table: the whole effect of a delivery."""
    tables = [
        r[0]
        for r in await h.rows(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    return {t: [tuple(r) for r in await h.rows(f'SELECT * FROM "{t}" ORDER BY 1')] for t in tables}


async def setup(h: Harness) -> dict[str, int]:
    """Two users who wrote before (Sutrisno: number + BSUID; Siti: BSUID only), outbox rows the
    recorded statuses name, and the media the recorded messages point at."""
    await h.post(wp.envelope(wp.value(messages=[wp.text("halo", user_id=BSUID)], user_id=BSUID)))
    await h.post(
        wp.envelope(
            wp.value(
                messages=[wp.text("halo", sender=None, user_id=SITI)],
                wa_id=None,
                user_id=SITI,
                name="Siti",
            )
        )
    )
    ids: dict[str, int] = {}
    now = h.clock().isoformat()
    async with h.db.tx() as tx:
        for wamid, ref in (
            ("wamid.OUT.SENT0001", BSUID),
            ("wamid.OUT.FAIL0001", BSUID),
            ("wamid.OUT.LATE0001", SITI),
            ("wamid.OUT.BSUID001", SITI),
        ):
            chat_id = await tx.scalar("SELECT id FROM chats WHERE user_ref = ?", (ref,))
            ids[wamid] = await tx.execute(
                "INSERT INTO outbox (chat_id, channel, user_ref, msg_key, params, language, "
                "class, not_before, created_at, status, channel_message_id, sent_at) VALUES "
                "(?, 'whatsapp', ?, 'reminder.missing_docs', ?, 'id', 'reminder', ?, ?, 'sent', "
                "?, ?)",
                (
                    chat_id,
                    ref,
                    json.dumps({"ref": "LC-2026-000123", "missing": ["surat_dokter"]}),
                    now,
                    now,
                    wamid,
                    now,
                ),
            )
    h.graph.add_media("1502576394655001", JPEG, "image/jpeg")
    h.graph.add_media("1502576394655002", PDF, "application/pdf")
    h.graph.add_media("1502576394655004", VOICE, "audio/ogg; codecs=opus")
    h.graph.add_media("1502576394655005", VOICE, "audio/ogg; codecs=opus")
    h.graph.clear()
    return ids


@pytest.mark.parametrize("name", FIXTURES)
async def test_every_recorded_payload_twice_has_one_effect_and_no_error(
    h: Harness, name: str, caplog: pytest.LogCaptureFixture
) -> None:
    await setup(h)
    caplog.clear()
    body = raw(name)
    assert await post_raw(h, body) == 200
    sent = list(h.graph.sent)
    state = await dump(h)
    assert await post_raw(h, body) == 200  # Meta's redelivery
    assert h.graph.sent == sent, "a second effect of a redelivery"
    assert await dump(h) == state, "a second effect of a redelivery"
    if name in SILENT:
        assert sent == [], f"{name} should get no answer"
    else:
        assert sent, f"{name} got no answer"
    bad = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not bad, [(r.name, r.getMessage()) for r in bad]
    failed = await h.rows("SELECT message_id FROM inbound_messages WHERE status != 'processed'")
    assert failed == []


# -- what the imitation received and what changed, fixture by fixture ---------------------------


def addressee(m: dict[str, Any]) -> tuple[str, str]:
    return ("to", m["to"]) if "to" in m else ("recipient", m["recipient"])


@pytest.mark.parametrize(
    ("name", "address"),
    [
        ("text_with_user_id", ("to", USER)),  # the number is known: ``to``
        ("text_bsuid_only", ("recipient", SITI)),  # a username user: ``recipient``
        ("text_bsuid_in_from", ("recipient", SITI)),  # courier: the BSUID in ``from``
        ("request_welcome", ("recipient", SITI)),
        ("text_invalid_user_id", ("to", "6281355550002")),  # "foo_bar" is no BSUID: by number
    ],
)
async def test_replies_go_to_the_number_when_known_else_to_the_bsuid(
    h: Harness, name: str, address: tuple[str, str]
) -> None:
    await setup(h)
    assert await post_raw(h, raw(name)) == 200
    assert h.graph.sent
    assert {addressee(m) for m in h.graph.sent} == {address}


async def test_a_number_with_a_bsuid_keeps_one_chat_and_the_invalid_id_is_not_trusted(
    h: Harness,
) -> None:
    await setup(h)
    await post_raw(h, raw("text_with_user_id"))
    await post_raw(h, raw("text_invalid_user_id"))
    rows = await h.rows("SELECT user_ref, phone, parent_user_ref, username FROM chats ORDER BY id")
    assert [tuple(r) for r in rows] == [
        (BSUID, "+" + USER, "ID.ENT.11815799212886844830", None),
        (SITI, None, None, None),
        ("6281355550002", "+6281355550002", None, "@ani"),
    ]


async def test_a_user_id_update_moves_the_chat_and_drops_the_link(h: Harness) -> None:
    await setup(h)
    await _link_sutrisno(h)
    assert await post_raw(h, raw("user_id_update")) == 200
    rows = await h.rows("SELECT user_ref, phone, worker_id FROM chats ORDER BY id")
    assert tuple(rows[0]) == ("ID.3318877665544332", "+6281299998888", None)
    outbox = await h.rows("SELECT DISTINCT user_ref FROM outbox WHERE chat_id = 1")
    assert [r["user_ref"] for r in outbox] == ["ID.3318877665544332"]
    # Sutrisno writes from the new ids: the same chat, its history, NIK + date of birth again.
    msg = wp.text("halo", sender="6281299998888", user_id="ID.3318877665544332")
    body = wp.envelope(wp.value(messages=[msg], wa_id="6281299998888", user_id=msg["from_user_id"]))
    assert await h.post(body) == 200
    assert len(await h.rows("SELECT 1 FROM chats WHERE user_ref NOT LIKE 'merged:%'")) == 2
    # The old number's next holder (another account: another BSUID) starts a fresh chat.
    nxt = wp.text("halo", sender=USER, user_id="ID.9990001112223334")
    body = wp.envelope(wp.value(messages=[nxt], wa_id=USER, user_id="ID.9990001112223334"))
    assert await h.post(body) == 200
    fresh = await h.rows("SELECT worker_id FROM chats WHERE user_ref = 'ID.9990001112223334'")
    assert [r["worker_id"] for r in fresh] == [None]


@pytest.mark.parametrize(
    ("name", "old", "new_ref", "new_phone"),
    [
        ("system_user_changed_number_bsuid", BSUID, "ID.3318877665544332", "+6281299998888"),
        ("system_user_changed_number", BSUID, "6281299998888", "+6281299998888"),
        ("system_user_changed_user_id", SITI, "ID.4427766554433221", None),
    ],
)
async def test_system_number_and_user_id_changes_move_the_chat(
    h: Harness, name: str, old: str, new_ref: str, new_phone: str | None
) -> None:
    await setup(h)
    chat_id = (await h.rows("SELECT id FROM chats WHERE user_ref = ?", (old,)))[0]["id"]
    assert await post_raw(h, raw(name)) == 200
    row = (await h.rows("SELECT user_ref, phone FROM chats WHERE id = ?", (chat_id,)))[0]
    assert (row["user_ref"], row["phone"]) == (new_ref, new_phone)
    audit = await h.rows("SELECT details FROM audit_log WHERE action = 'whatsapp.identity'")
    assert any("user_id_changed" in a["details"] for a in audit)


async def test_a_known_number_with_another_bsuid_keeps_history_not_the_link(
    h: Harness,
) -> None:
    """A recycled prepaid number: the new account gets the chat's history, never its link."""
    await setup(h)
    await _link_sutrisno(h)
    async with h.db.tx() as tx:
        await tx.execute(
            "UPDATE facilitators SET bound_chat_id = 1 WHERE id = ("
            "SELECT MIN(id) FROM facilitators)"
        )
    other = "ID.7001112223334445"
    body = wp.envelope(
        wp.value(messages=[wp.text("halo", user_id=other)], wa_id=USER, user_id=other)
    )
    assert await h.post(body) == 200
    row = (await h.rows("SELECT id, user_ref, phone, worker_id FROM chats WHERE id = 1"))[0]
    assert (row["user_ref"], row["phone"], row["worker_id"]) == (other, "+" + USER, None)
    assert await h.rows("SELECT 1 FROM chat_identity WHERE chat_id = 1") == []
    reset = await h.rows("SELECT key FROM link_attempts WHERE key = 'reset:1'")
    assert reset  # what the previous holder filed stays hidden from this chat


async def test_statuses_by_message_id_and_by_recipient_bsuid(h: Harness) -> None:
    ids = await setup(h)
    for name in ("status_sent", "status_read", "status_bsuid_recipient", "status_failed"):
        assert await post_raw(h, raw(name)) == 200
    await post_raw(h, raw("status_failed_131047"))
    rows = {
        r["id"]: (r["status"], r["delivery_status"])
        for r in await h.rows("SELECT id, status, delivery_status FROM outbox")
    }
    assert rows[ids["wamid.OUT.SENT0001"]] == ("sent", "read")
    assert rows[ids["wamid.OUT.BSUID001"]] == ("sent", "delivered")
    assert rows[ids["wamid.OUT.FAIL0001"]] == ("failed", "failed:131026")
    assert rows[ids["wamid.OUT.LATE0001"]] == ("queued", "failed:131047")
    # Re-sent as its template, to the BSUID (the chat has no number).
    from lingkaran.channels.dispatcher import ChannelLimits, Dispatcher

    limits = {"whatsapp": ChannelLimits(rate=80, per_user_interval=0.0)}
    await Dispatcher(h.db, {"whatsapp": h.channel.sender}, clock=h.clock, limits=limits).drain(
        "whatsapp"
    )
    (sent,) = h.graph.sent
    assert (sent["type"], sent["recipient"]) == ("template", SITI)
    assert "to" not in sent


async def test_a_batch_of_several_messages_and_statuses_is_taken_in_order(h: Harness) -> None:
    await setup(h)
    assert await post_raw(h, raw("batch_several")) == 200
    to_sutrisno = [m for m in h.graph.sent if m.get("to") == USER]
    texts = [json.dumps(m, ensure_ascii=False) for m in to_sutrisno]
    assert "dibatalkan" in texts[-1] or "batal" in texts[-1].lower()
    assert any(m.get("recipient") == SITI for m in h.graph.sent)
    row = (
        await h.rows(
            "SELECT delivery_status FROM outbox WHERE channel_message_id = ?",
            ("wamid.OUT.SENT0001",),
        )
    )[0]
    assert row["delivery_status"] == "read"


async def test_reactions_and_edits_never_touch_the_flow(h: Harness) -> None:
    await setup(h)
    # Sutrisno was asked for his NIK two days ago (a stale conversation, a step for typed text).
    await h.post(wp.envelope(wp.value(messages=[wp.text("1", user_id=BSUID)], user_id=BSUID)))
    assert "NIK" in json.dumps(h.graph.sent[-1], ensure_ascii=False)
    async with h.db.tx() as tx:
        await tx.execute(
            "UPDATE conversations SET updated_at = '2026-11-23T03:00:00+00:00' WHERE chat_id = 1"
        )
    before = [tuple(r) for r in await h.rows("SELECT * FROM conversations WHERE chat_id = 1")]
    h.graph.clear()
    for name in ("reaction", "reaction_removed", "revoked"):
        assert await post_raw(h, raw(name)) == 200
    assert h.graph.sent == []
    assert await post_raw(h, raw("edited")) == 200
    (offer,) = h.graph.sent
    assert offer["type"] == "interactive"
    assert "halo, mau lapor" in offer["interactive"]["body"]["text"]
    (button,) = offer["interactive"]["action"]["buttons"]
    assert button["reply"]["title"] == "Pakai teks ini"
    after = [tuple(r) for r in await h.rows("SELECT * FROM conversations WHERE chat_id = 1")]
    assert after == before  # nothing restarted, nothing answered in the flow's name
    # Taking the offer is the user's answer: the corrected text goes to the engine.
    h.graph.clear()
    tap = wp.button_reply(button["reply"]["id"], "Pakai teks ini", user_id=BSUID)
    assert await h.post(wp.envelope(wp.value(messages=[tap], user_id=BSUID))) == 200
    assert h.graph.sent
    # A second tap (or one after a restart): the offer is gone, said so.
    h.graph.clear()
    tap = wp.button_reply(button["reply"]["id"], "Pakai teks ini", user_id=BSUID)
    assert await h.post(wp.envelope(wp.value(messages=[tap], user_id=BSUID))) == 200
    assert "tidak berlaku" in json.dumps(h.graph.sent, ensure_ascii=False)


async def test_a_group_message_is_not_answered_and_makes_no_chat(h: Harness) -> None:
    await setup(h)
    chats = len(await h.rows("SELECT 1 FROM chats"))
    assert await post_raw(h, raw("group_message")) == 200
    assert h.graph.sent == []
    assert len(await h.rows("SELECT 1 FROM chats")) == chats


async def test_other_fields_are_acknowledged_and_named_in_the_log(
    h: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    await setup(h)
    for name in ("message_template_status_update", "account_update", "user_preferences"):
        assert await post_raw(h, raw(name)) == 200
    fields = [
        r.__dict__.get("fields") for r in caplog.records if r.getMessage().endswith("acknowledged")
    ]
    assert fields == ["message_template_status_update", "account_update", "user_preferences"]


async def _link_sutrisno(h: Harness) -> None:
    """Chat 1 (Sutrisno) verified to worker 1, and a facilitator to bind later."""
    now = h.clock().isoformat()
    async with h.db.tx() as tx:
        await tx.execute(
            "INSERT INTO workers (id, nik, name, birth_date, sex, desa_code, sector, phone, "
            "coverage_start, paid_through, registration_status, created_at, updated_at) VALUES "
            "(1, '3509271505780001', 'Sutrisno', '1978-05-15', 'L', '35.09.27.2002', "
            "'buruh_tani_tembakau', '+6281234567890', '2026-01-01', '2026-12-01', 'verified', "
            "?, ?)",
            (now, now),
        )
        await tx.execute(
            "INSERT INTO facilitators (name, scope_kind, scope_code, created_at) "
            "VALUES ('Bu Lurah', 'desa', '35.09.27.2002', ?)",
            (now,),
        )
        await tx.execute(
            "INSERT INTO chat_identity (chat_id, worker_id, matched_at, verified_at, factor, "
            "last_active_at) VALUES (1, 1, ?, ?, 'channel_phone', ?)",
            (now, now, now),
        )
        await tx.execute("UPDATE chats SET worker_id = 1, active_role = 'worker' WHERE id = 1")


def test_every_recorded_payload_names_its_source() -> None:
    readme = (DATA.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("## whatsapp/", 1)[1].split("\n## ", 1)[0]
    listed = {name[:-5] for name in re.findall(r"`([a-z0-9_]+\.json)`", section)}
    assert set(FIXTURES) <= listed, sorted(set(FIXTURES) - listed)
