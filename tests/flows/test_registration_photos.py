"""Photos a facilitator sends right after registering a worker are stored for the OPD (private
files named by their hash, one row each, audited) and shown on the console's registration page."""

from __future__ import annotations

import httpx
from conftest import ChatDriver, FixedClock
from starlette.applications import Starlette

from handlers.engine import Engine
from lingkaran.console import build_console
from lingkaran.console.accounts import add_staff
from lingkaran_core.storage import Database, console_repo
from tests.console.conftest import csrf_of, png
from tests.flows.test_facilitator import bound_facilitator

KTP = png(60, 38, (30, 90, 160))
KK = png(80, 50, (160, 90, 30))


async def _register(fac: ChatDriver) -> None:
    await fac.tap("Daftarkan pekerja")
    await fac.send("3509274407850003")
    await fac.send("Suwarni")
    await fac.tap("Sesuai NIK")
    await fac.tap("Ya, benar")
    await fac.send("1")
    await fac.tap("Lewati")
    await fac.tap("Tidak ada HP")
    await fac.tap("Setuju")
    await fac.tap("Simpan")
    fac.expect("Tersimpan.", "Kirim foto KTP-nya di sini")


async def test_photos_after_saving_reach_the_console(
    engine: Engine, clock: FixedClock, db: Database
) -> None:
    fac = await bound_facilitator(engine, clock, db)
    await _register(fac)
    await fac.photo(KTP, "image/png")
    fac.expect("Foto diterima (1)")
    fac.expect_choices("Daftarkan lagi", "Menu pendamping")
    await fac.photo(KTP, "image/png")
    fac.expect("Foto ini sudah diterima")
    await fac.photo(b"%PDF-1.4 not a photo", "application/pdf")
    fac.expect("Mohon kirim foto (JPG atau PNG)")
    await fac.photo(KK, "image/png")
    fac.expect("Foto diterima (2)")
    async with db.read() as r:
        worker_id = int(await r.scalar("SELECT id FROM workers WHERE nik = '3509274407850003'"))
        docs = [
            await console_repo.registration_document(r, worker_id, int(d["id"]))
            for d in await console_repo.registration_documents(r, worker_id)
        ]
        audits = await r.scalar(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'registration.photo' "
            "AND actor_kind = 'facilitator'"
        )
    assert [d["kind"] for d in docs if d] == ["ktp", "foto_lain"]
    assert audits == 2
    for d in docs:
        assert d is not None
        assert str(d["path"]).startswith(str(db.files_dir))
        assert f"/registrations/{worker_id}/" in str(d["path"])
    await fac.tap("Menu pendamping")

    # The OPD sees both photos on the registration page, through the authorised route.
    async with db.tx() as tx:
        _, username, password = await add_staff(
            tx, name="Oki Opd", role="opd", kecamatan=None, now=clock(), actor="test"
        )
    app = Starlette(routes=build_console(db, None, clock))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver", follow_redirects=True
    ) as c:
        page = await c.get("/console/login")
        await c.post(
            "/console/login",
            data={"csrf": csrf_of(page.text), "username": username, "password": password},
        )
        page = await c.get(f"/console/registrations/{worker_id}")
        assert page.status_code == 200
        for d in docs:
            assert d is not None
            url = f"/console/registrations/{worker_id}/photos/{d['id']}"
            assert url in page.text
            photo = await c.get(url)
            assert photo.status_code == 200
            assert photo.content in (KTP, KK)


async def test_a_photo_without_a_registration_is_refused(
    engine: Engine, clock: FixedClock, db: Database
) -> None:
    fac = await bound_facilitator(engine, clock, db)
    await fac.photo(KTP, "image/png")
    fac.expect_not("Foto diterima")
    async with db.read() as r:
        assert await r.scalar("SELECT COUNT(*) FROM registration_documents") == 0
