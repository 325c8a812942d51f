"""The broadcast composer: an estimate first (nothing queued), then the confirmation queues the
broadcast once, audited with the staff account; the same use case as ``admin broadcast``."""

from __future__ import annotations

import json
import re

from lingkaran_core.services import broadcasts
from tests.console.conftest import KALISAT, Seeded, client_for, csrf_of, login, user_of


async def _broadcast_rows(s: Seeded) -> list[dict[str, object]]:
    async with s.db.read() as r:
        rows = await r.all("SELECT * FROM outbox WHERE class = 'broadcast' ORDER BY id")
    return [dict(x) for x in rows]


async def test_estimate_then_confirm_queues_once_and_audits(seeded: Seeded) -> None:
    username, password = user_of(seeded, "ani")
    async with client_for(seeded) as c:
        await login(c, username, password)
        page = await c.get("/console/broadcast")
        assert page.status_code == 200
        assert "Tulis siaran" in page.text
        form = {
            "csrf": csrf_of(page.text),
            "message": "Pertemuan pendamping Kamis pukul 09.00 di balai desa.",
            "kecamatan": KALISAT,
        }
        r = await c.post("/console/broadcast", data=form)
        assert r.status_code == 200
        found = re.search(r'id="recipients">(\d+)<', r.text)
        assert found
        assert int(found.group(1)) == 2  # the Telegram and the WhatsApp chat
        assert re.search(r'id="templates">1<', r.text)  # WhatsApp, never wrote in 24 h
        assert "Rp" in r.text
        assert await _broadcast_rows(seeded) == []  # the estimate queues nothing
        digest = re.search(r'name="digest" value="([0-9a-f]+)"', r.text)
        assert digest
        # Without the ticked box nothing goes.
        r = await c.post("/console/broadcast/send", data={**form, "digest": digest.group(1)})
        assert r.status_code == 409
        assert await _broadcast_rows(seeded) == []
        # A changed message is not what was estimated.
        changed = {**form, "message": "lain", "digest": digest.group(1), "confirm": "1"}
        r = await c.post("/console/broadcast/send", data=changed)
        assert r.status_code == 409
        sent = {**form, "digest": digest.group(1), "confirm": "1"}
        r = await c.post("/console/broadcast/send", data=sent)
        assert r.status_code == 200
        assert "2 pesan masuk antrean siaran" in r.text
        r = await c.post("/console/broadcast/send", data=sent)
        assert "0 pesan masuk antrean siaran" in r.text  # the same broadcast twice is one
    rows = await _broadcast_rows(seeded)
    assert len(rows) == 2
    assert {x["msg_key"] for x in rows} == {"broadcast.message"}
    async with seeded.db.read() as r:
        audits = await r.all("SELECT * FROM audit_log WHERE action = 'broadcast.queue'")
    assert [a["actor_id"] for a in audits] == [f"staff:{username}"] * 2
    assert audits[0]["channel"] == "console"
    assert json.loads(audits[0]["details"])["queued"] == 2


async def test_refusals_in_words(seeded: Seeded) -> None:
    username, password = user_of(seeded, "ani")
    async with client_for(seeded) as c:
        await login(c, username, password)
        csrf = csrf_of((await c.get("/console/broadcast")).text)
        r = await c.post("/console/broadcast", data={"csrf": csrf, "message": "Halo"})
        assert r.status_code == 400
        assert "Pilih penerima" in r.text
        r = await c.post("/console/broadcast", data={"csrf": csrf, "message": "", "desa": "x"})
        assert r.status_code == 400
        r = await c.post(
            "/console/broadcast", data={"csrf": csrf, "message": "Halo", "desa": "99.99"}
        )
        assert r.status_code == 400
        assert "99.99" in r.text
        r = await c.post("/console/broadcast", data={"message": "Halo", "kecamatan": KALISAT})
        assert r.status_code == 403  # no CSRF token


async def test_only_admins_compose(seeded: Seeded) -> None:
    for prefix in ("oki", "vina"):
        username, password = user_of(seeded, prefix)
        async with client_for(seeded) as c:
            await login(c, username, password)
            assert (await c.get("/console/broadcast")).status_code == 403
            assert "/console/broadcast" not in (await c.get("/console/claims")).text


async def test_the_service_plans_without_writing_and_sends_by_chunks(seeded: Seeded) -> None:
    audience = broadcasts.Audience(kecamatan_codes=(KALISAT,))
    async with seeded.db.read() as r:
        plan = await broadcasts.plan_broadcast(
            r,
            message="  Halo  ",
            audience=audience,
            now=seeded.clock(),
            config=broadcasts.policy.DEFAULT_CONFIG,
        )
    assert await _broadcast_rows(seeded) == []
    assert plan.message == "Halo"
    assert plan.estimate.recipients == 2
    n = await broadcasts.send_broadcast(
        seeded.db,
        plan,
        now=seeded.clock(),
        config=broadcasts.policy.DEFAULT_CONFIG,
        actor_kind="admin",
        actor_id="ops",
        channel="admin",
    )
    assert n == 2
