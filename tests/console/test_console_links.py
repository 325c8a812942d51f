"""The console's "Nomor terhubung" page: staff see which chats are linked to a worker and remove
one link or all of a chat's (issue 22), audited; the NIK never travels in a URL."""

from __future__ import annotations

import re

from .conftest import MISNADI_NIK, Seeded, client_for, csrf_of, login, user_of


def worker_id(html: str) -> str:
    found = re.search(r'name="worker" value="(\d+)"', html)
    assert found, "no worker field on the page"
    return found.group(1)


async def test_staff_find_a_workers_chats_and_unlink_one_audited(seeded: Seeded) -> None:
    async with client_for(seeded) as c:
        await login(c, *user_of(seeded, "oki"))
        page = await c.get("/console/links")
        assert page.status_code == 200
        assert "NIK pekerja" in page.text
        r = await c.post("/console/links", data={"csrf": csrf_of(page.text), "nik": MISNADI_NIK})
        assert r.status_code == 200
        assert "Misnadi" in r.text
        assert MISNADI_NIK not in r.text  # masked on the page
        assert f"#{seeded.claim_chat_id}" in r.text
        assert f"#{seeded.ticket_chat_id}" in r.text
        assert "+62812****0001" in r.text  # the WhatsApp number, masked
        r = await c.post(
            "/console/links/remove",
            data={
                "csrf": csrf_of(r.text),
                "worker": worker_id(r.text),
                "chat": seeded.ticket_chat_id,
            },
        )
        assert r.status_code == 200
        assert "Hubungan dilepas" in r.text
        assert f"#{seeded.ticket_chat_id}" not in r.text
        assert f"#{seeded.claim_chat_id}" in r.text
    async with seeded.db.read() as rd:
        gone = await rd.scalar("SELECT worker_id FROM chats WHERE id = ?", (seeded.ticket_chat_id,))
        kept = await rd.scalar("SELECT worker_id FROM chats WHERE id = ?", (seeded.claim_chat_id,))
        audit = await rd.one(
            "SELECT actor_kind, channel FROM audit_log WHERE action = 'link.removed'"
        )
    assert gone is None
    assert kept is not None
    assert audit is not None
    assert (audit["actor_kind"], audit["channel"]) == ("staff", "console")


async def test_a_viewer_may_not_unlink_and_an_unknown_nik_is_said_plainly(seeded: Seeded) -> None:
    async with client_for(seeded) as c:
        await login(c, *user_of(seeded, "vina"))
        page = await c.get("/console/links")
        assert page.status_code == 403
    async with client_for(seeded) as c:
        await login(c, *user_of(seeded, "ani"))
        page = await c.get("/console/links")
        r = await c.post(
            "/console/links", data={"csrf": csrf_of(page.text), "nik": "3509080101700009"}
        )
        assert r.status_code == 404
        assert "Tidak ada pekerja dengan NIK itu." in r.text
