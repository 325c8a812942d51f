"""The console in a real browser: Debian's Chromium, headless, driven by Playwright, against the
console served by ``lingkaran.server.WebServer`` (uvicorn) on loopback.

Set ``LINGKARAN_SCREENSHOTS=1`` to (re)write the screenshots under ``docs/console/``.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from lingkaran.console import build_console
from lingkaran.server import WebServer
from tests.console.conftest import Seeded, user_of

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "console"

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists() or shutil.which("chromium") is None,
    reason=f"{CHROMIUM} is missing: `apt-get install -y chromium` (.ci/run installs it)",
)


@pytest.fixture
async def browser_page(seeded: Seeded, tmp_path: Path) -> AsyncIterator[tuple[Any, str]]:
    from playwright.async_api import async_playwright

    server = WebServer(build_console(seeded.db, None, seeded.clock), host="127.0.0.1", port=0)
    await server.start()
    base = f"http://127.0.0.1:{server.port}"
    try:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            context = await browser.new_context(
                accept_downloads=True, viewport={"width": 1280, "height": 900}
            )
            page = await context.new_page()
            page.set_default_timeout(15_000)
            try:
                yield page, base
            finally:
                await context.close()
                await browser.close()
    finally:
        await server.stop()


async def _shot(page: Any, name: str) -> None:
    if os.environ.get("LINGKARAN_SCREENSHOTS"):
        SHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


async def _login(page: Any, base: str, username: str, password: str) -> None:
    await page.goto(f"{base}/console/claims")
    assert "/console/login" in page.url  # logged out: sent to the login page
    await _shot(page, "01-login")
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", password)
    await page.click("form[action='/console/login'] button")
    await page.wait_for_url(f"{base}/console/claims")


async def _outbox(s: Seeded, chat_id: int, key: str) -> list[dict[str, Any]]:
    async with s.db.read() as r:
        rows = await r.all(
            "SELECT msg_key, params FROM outbox WHERE chat_id = ? AND msg_key = ? ORDER BY id",
            (chat_id, key),
        )
    return [{"key": x["msg_key"], **json.loads(x["params"])} for x in rows]


async def test_opd_staff_day_in_the_browser(seeded: Seeded, browser_page: tuple[Any, str]) -> None:
    page, base = browser_page
    await _login(page, base, *user_of(seeded, "oki"))

    # Filter the queue: JKK in Kecamatan Kalisat.
    await page.select_option("select[name=type]", "JKK")
    await page.select_option("select[name=kecamatan]", "35.09.27")
    await page.click("form.filters button")
    await page.wait_for_url("**type=JKK**")
    assert await page.locator(f"a:text('{seeded.claim_ref}')").count() == 1
    assert await page.locator(f"a:text('{seeded.puger_ref}')").count() == 0
    await _shot(page, "02-claims-queue")

    # Open the claim; its document is shown in the page, through the authorised route.
    await page.click(f"a:text('{seeded.claim_ref}')")
    await page.wait_for_url(f"{base}/console/claims/{seeded.claim_ref}")
    img = page.locator(".doc img").first
    await img.wait_for()
    assert await img.evaluate("i => i.complete && i.naturalWidth") == 48
    assert "/documents/" in (await img.get_attribute("src") or "")
    await _shot(page, "03-claim")

    # Ask for documents with a note: the claimant's chat gets the outbox row.
    await page.fill("textarea[name=note]", "Mohon kirim kronologi dengan KTP 2 saksi.")
    await page.click("button[value=documents_requested]")
    await page.wait_for_selector(".flash")
    assert "Menunggu dokumen" in await page.inner_text("dl.facts")
    sent = await _outbox(seeded, seeded.claim_chat_id, "claim.status_changed")
    assert sent[-1]["status"] == "documents_requested"
    assert sent[-1]["note"] == "Mohon kirim kronologi dengan KTP 2 saksi."

    # Verify a registration after looking at its photo.
    await page.click("nav.menu a[href='/console/registrations']")
    await _shot(page, "04-registrations")
    await page.click("a:text('Bambang')")
    photo = page.locator(".doc img").first
    await photo.wait_for()
    assert await photo.evaluate("i => i.complete && i.naturalWidth") == 64
    await _shot(page, "05-registration")
    await page.click("form[action$='/verify'] button")
    await page.wait_for_selector(".flash")
    async with seeded.db.read() as r:
        status = await r.scalar(
            "SELECT registration_status FROM workers WHERE id = ?", (seeded.registration_id,)
        )
    assert status == "verified"

    # Answer a ticket.
    await page.click("nav.menu a[href='/console/tickets']")
    await _shot(page, "06-tickets")
    await page.click("a:text('T-0001')")
    await page.fill("textarea[name=message]", "Iuran dibayar Pemkab Jember setiap bulan.")
    await page.click("form[action$='/reply'] button")
    await page.wait_for_selector(".flash")
    assert "Iuran dibayar Pemkab Jember" in await page.inner_text("ol.chat")
    await _shot(page, "07-ticket")
    replies = await _outbox(seeded, seeded.ticket_chat_id, "ticket.reply")
    assert replies[-1]["body"] == "Iuran dibayar Pemkab Jember setiap bulan."

    # Download the sector report as XLSX and read it back.
    await page.click("nav.menu a[href='/console/reports']")
    assert await page.locator("svg.chart").count() == 7
    await _shot(page, "08-reports")
    async with page.expect_download() as info:
        await page.click("a[href='/console/reports/sectors.xlsx']")
    download = await info.value
    data = await asyncio.to_thread(Path(await download.path()).read_bytes)
    rows = list(load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True))  # type: ignore[union-attr]
    assert rows[0] == ("Sektor", "Pekerja", "OPD pengelola")
    assert rows[1][0] == "Buruh tani tembakau"
    assert rows[-1][0] == "Jumlah"
    assert rows[-1][1] == 300

    # And the kecamatan report, sorted by participants, as XLSX.
    async with page.expect_download() as info:
        await page.click("a[href='/console/reports/kecamatan.xlsx']")
    download = await info.value
    data = await asyncio.to_thread(Path(await download.path()).read_bytes)
    rows = list(load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True))  # type: ignore[union-attr]
    assert rows[0] == ("Kecamatan", "Kode", "Pekerja")
    counts = [int(r[2]) for r in rows[1:-1]]  # type: ignore[call-overload]
    assert counts == sorted(counts, reverse=True)
    assert rows[-1] == ("Jumlah", None, 300)


async def test_admin_pages_and_phone_layout(seeded: Seeded, browser_page: tuple[Any, str]) -> None:
    page, base = browser_page
    await _login(page, base, *user_of(seeded, "ani"))
    await page.goto(f"{base}/console/facilitators")
    assert "Tambah pendamping" in await page.content()
    await _shot(page, "09-facilitators")
    await page.goto(f"{base}/console/outbox")
    await _shot(page, "10-outbox")
    await page.goto(f"{base}/console/roster")
    await page.set_input_files(
        "input[name=file]",
        files=[
            {
                "name": "roster.csv",
                "mimeType": "text/csv",
                "buffer": b"nik;nama;tanggal_lahir;jenis_kelamin;kode_desa;sektor\n"
                b"35092755;Sri Wahyuni;15-07-1988;P;35.09.27.2002;nelayan_tangkap\n",
            }
        ],
    )
    await page.click("form[action='/console/roster'] button")
    await page.wait_for_selector("p.error")
    assert "harus 16 angka" in await page.content()
    await _shot(page, "13-roster-import")
    await page.set_viewport_size({"width": 390, "height": 844})
    await page.goto(f"{base}/console/claims?open=1")
    # On a phone the table turns into cards: no horizontal scrolling of the page.
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 400
    await _shot(page, "11-claims-phone")
    await page.goto(f"{base}/console/lang/en?next=/console/claims/{seeded.claim_ref}")
    assert "Claim details" in await page.content()
    await _shot(page, "12-claim-phone-english")


async def test_viewer_is_refused_in_the_browser(
    seeded: Seeded, browser_page: tuple[Any, str]
) -> None:
    page, base = browser_page
    await _login(page, base, *user_of(seeded, "vina"))
    response = await page.goto(f"{base}/console/claims/{seeded.puger_ref}")
    assert response is not None
    assert response.status == 403
    response = await page.goto(f"{base}/console/claims/{seeded.claim_ref}")
    assert response is not None
    assert response.status == 200
    assert await page.locator("form[action$='/status']").count() == 0


async def test_compose_and_confirm_a_broadcast(
    seeded: Seeded, browser_page: tuple[Any, str]
) -> None:
    page, base = browser_page
    await _login(page, base, *user_of(seeded, "ani"))
    await page.click("nav.menu a[href='/console/broadcast']")
    await page.fill("textarea[name=message]", "Pertemuan pendamping Kamis pukul 09.00.")
    await page.select_option("select[name=kecamatan]", ["35.09.27"])
    await page.click("form[action='/console/broadcast'] button")
    await page.wait_for_selector("#estimate")
    assert await page.inner_text("#recipients") == "2"
    assert await page.inner_text("#templates") == "1"
    await _shot(page, "14-broadcast-estimate")
    async with seeded.db.read() as r:
        before = await r.scalar("SELECT COUNT(*) FROM outbox WHERE class = 'broadcast'")
    assert before == 0
    await page.check("form.confirm input[name=confirm]")
    await page.click("form.confirm button")
    await page.wait_for_selector("#queued")
    assert "2 pesan" in await page.inner_text("#queued")
    assert await page.locator("form.confirm").count() == 0
    async with seeded.db.read() as r:
        rows = await r.all("SELECT params FROM outbox WHERE class = 'broadcast'")
        actor = await r.scalar("SELECT actor_id FROM audit_log WHERE action = 'broadcast.queue'")
    assert [json.loads(x["params"])["text"] for x in rows] == [
        "Pertemuan pendamping Kamis pukul 09.00."
    ] * 2
    assert actor == "staff:" + user_of(seeded, "ani")[0]


async def test_login_with_totp(seeded: Seeded, browser_page: tuple[Any, str]) -> None:
    from lingkaran.console import totp

    page, base = browser_page
    username, password = user_of(seeded, "oki")
    async with seeded.db.tx() as tx:
        _, secret = await totp.enrol(tx, username, now=seeded.clock(), actor="test")
    assert secret
    await page.goto(f"{base}/console/claims")
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", password)
    await page.click("form[action='/console/login'] button")
    await page.wait_for_url("**/console/login/code**")
    await _shot(page, "15-login-code")
    code = totp.code_at(secret, totp.step_of(seeded.clock()))
    wrong = next(
        x for x in ("000000", "111111", "222222") if totp.verify(secret, x, seeded.clock()) is None
    )
    await page.fill("input[name=code]", wrong)
    await page.click("form[action='/console/login/code'] button")
    await page.wait_for_selector("p.error")
    await page.fill("input[name=code]", code)
    await page.click("form[action='/console/login/code'] button")
    await page.wait_for_url(f"{base}/console/claims")
    assert "Antrean klaim" in await page.content()


async def test_filter_flagged_and_record_the_tahap_one_notice(
    seeded: Seeded, browser_page: tuple[Any, str]
) -> None:
    """Issue 14: a JKK report not protected on its date, its notice overdue, found by the
    filters and marked forwarded from its page."""
    from datetime import date, datetime

    from lingkaran_core import services
    from lingkaran_core.claims import Actor, ClaimType
    from lingkaran_core.clock import WIB

    async with seeded.db.tx() as tx:
        claim = await services.submit_claim(
            tx,
            services.NewClaim(
                claim_type=ClaimType.JKK,
                event_date=date(2026, 11, 22),
                event_at=datetime(2026, 11, 22, 9, 0, tzinfo=WIB),
                subject_nik="3509274101900001",  # on no roster
                subject_name="Warga Uji",
                desa_code="35.09.27.2002",
                checklist=("ktp_participant",),
            ),
            now=seeded.clock(),
            idempotency_key="browser-truth",
            channel="admin",
            actor=Actor.ADMIN,
        )
    page, base = browser_page
    await _login(page, base, *user_of(seeded, "oki"))
    await page.check("input[name=flagged]")
    await page.select_option("select[name=notice]", "overdue")
    await page.click("form.filters button")
    await page.wait_for_url("**notice=overdue**")
    row = page.locator("tr", has=page.locator(f"a:text('{claim.ref}')"))
    assert await row.count() == 1
    assert "perlu dicek" in await row.inner_text()
    assert "Lewat batas sejak 24 November 2026 09:00" in await row.inner_text()
    assert await page.locator(f"a:text('{seeded.claim_ref}')").count() == 0  # protected
    await _shot(page, "16-claims-flagged-overdue")

    await page.click(f"a:text('{claim.ref}')")
    await page.wait_for_url(f"{base}/console/claims/{claim.ref}")
    assert "perlu dicek" in await page.inner_text("section.truth")
    await page.click("form[action$='/notice'] button")
    await page.wait_for_selector(".flash")
    assert "sudah diteruskan ke BPJS TK pada 25 November 2026 10:00" in await page.inner_text(
        "section.truth"
    )
    assert await page.locator("form[action$='/notice']").count() == 0
    await _shot(page, "17-claim-notice-forwarded")
    async with seeded.db.read() as r:
        sent = await r.scalar("SELECT notice_sent_at FROM claims WHERE ref = ?", (claim.ref,))
        actor = await r.scalar(
            "SELECT actor_id FROM audit_log WHERE action = 'claim.notice_sent' AND target_id = ?",
            (claim.ref,),
        )
    assert sent is not None
    assert actor == "staff:" + user_of(seeded, "oki")[0]

    # Back to the same filter: the claim has left the overdue list.
    await page.goto(f"{base}/console/claims?flagged=1&notice=overdue")
    assert await page.locator(f"a:text('{claim.ref}')").count() == 0
