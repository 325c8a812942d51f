"""The console over ASGI: login, sessions, roles, the viewer's kecamatan, CSRF, the pages' actions."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from openpyxl import load_workbook

from lingkaran.console.accounts import PERMISSIONS
from tests.console.conftest import Seeded, client_for, csrf_of, login, user_of


async def _audit(s: Seeded, action: str) -> list[dict[str, object]]:
    async with s.db.read() as r:
        rows = await r.all("SELECT * FROM audit_log WHERE action = ? ORDER BY id", (action,))
    return [dict(x) for x in rows]


async def test_logged_out_is_redirected_to_login(seeded: Seeded) -> None:
    async with client_for(seeded) as c:
        r = await c.get("/console/claims?status=submitted", follow_redirects=False)
        assert r.status_code == 303
        assert r.headers["location"].startswith("/console/login?next=%2Fconsole%2Fclaims")
        r = await c.get("/console/reports/sectors.xlsx", follow_redirects=False)
        assert r.status_code == 401
        r = await c.post(f"/console/claims/{seeded.claim_ref}/status", data={"target": "x"})
        assert r.status_code == 401


async def test_login_sets_a_strict_http_only_cookie_and_audits(seeded: Seeded) -> None:
    username, password = user_of(seeded, "oki")
    async with client_for(seeded) as c:
        page = await c.get("/console/login")
        r = await c.post(
            "/console/login",
            data={"csrf": csrf_of(page.text), "username": username, "password": password},
            follow_redirects=False,
        )
        assert r.status_code == 303
        cookie = next(
            v for k, v in r.headers.multi_items() if k == "set-cookie" and "lc_console" in v
        )
        assert "HttpOnly" in cookie
        assert "SameSite=strict" in cookie
        assert "Path=/console" in cookie
        assert "Secure" not in cookie  # plain http in the test; https requests get Secure
        r = await c.get("/console/claims")
        assert r.status_code == 200
        assert "Antrean klaim" in r.text
    assert [a["actor_id"] for a in await _audit(seeded, "console.login")] == [f"staff:{username}"]


async def test_secure_cookie_when_asked(seeded: Seeded) -> None:
    username, password = user_of(seeded, "oki")
    async with client_for(seeded, secure_cookies=True) as c:
        page = await c.get("/console/login")
        r = await c.post(
            "/console/login",
            data={"csrf": csrf_of(page.text), "username": username, "password": password},
            follow_redirects=False,
        )
        assert any("Secure" in v for k, v in r.headers.multi_items() if k == "set-cookie")


async def test_wrong_password_then_throttled(seeded: Seeded) -> None:
    username, password = user_of(seeded, "oki")
    async with client_for(seeded) as c:
        for _ in range(5):
            page = await c.get("/console/login")
            r = await c.post(
                "/console/login",
                data={"csrf": csrf_of(page.text), "username": username, "password": "nope"},
            )
            assert r.status_code == 401
            assert "salah" in r.text
        page = await c.get("/console/login")
        r = await c.post(
            "/console/login",
            data={"csrf": csrf_of(page.text), "username": username, "password": password},
        )
        assert r.status_code == 429  # even the right password waits out the window
        seeded.clock.advance(minutes=16)
        page = await c.get("/console/login")
        r = await c.post(
            "/console/login",
            data={"csrf": csrf_of(page.text), "username": username, "password": password},
            follow_redirects=False,
        )
        assert r.status_code == 303


async def test_login_form_without_csrf_is_refused(seeded: Seeded) -> None:
    username, password = user_of(seeded, "oki")
    async with client_for(seeded) as c:
        await c.get("/console/login")
        r = await c.post("/console/login", data={"username": username, "password": password})
        assert r.status_code == 403


async def test_idle_session_ends(seeded: Seeded) -> None:
    async with client_for(seeded) as c:
        await login(c, *user_of(seeded, "oki"))
        assert (await c.get("/console/claims")).status_code == 200
        seeded.clock.advance(minutes=31)
        r = await c.get("/console/claims", follow_redirects=False)
        assert r.status_code == 303
        assert "msg=idle" in r.headers["location"]


async def test_logout_ends_the_session(seeded: Seeded) -> None:
    async with client_for(seeded) as c:
        await login(c, *user_of(seeded, "oki"))
        page = await c.get("/console/claims")
        old = c.cookies.get("lc_console")
        r = await c.post(
            "/console/logout", data={"csrf": csrf_of(page.text)}, follow_redirects=False
        )
        assert r.status_code == 303
        c.cookies.set("lc_console", old or "", path="/console")  # a stolen copy is dead too
        assert (await c.get("/console/claims", follow_redirects=False)).status_code == 303


async def test_disabled_account_is_logged_out(seeded: Seeded) -> None:
    from lingkaran.console.accounts import disable_staff

    async with client_for(seeded) as c:
        await login(c, *user_of(seeded, "oki"))
        async with seeded.db.read() as r:
            staff_id = await r.scalar("SELECT id FROM staff WHERE username LIKE 'oki%'")
        async with seeded.db.tx() as tx:
            assert await disable_staff(tx, int(staff_id), now=seeded.clock(), actor="test")
        assert (await c.get("/console/claims", follow_redirects=False)).status_code == 303


async def test_post_without_csrf_token_is_refused(seeded: Seeded) -> None:
    async with client_for(seeded) as c:
        await login(c, *user_of(seeded, "oki"))
        r = await c.post(
            f"/console/claims/{seeded.claim_ref}/status",
            data={"target": "documents_requested", "note": "x"},
        )
        assert r.status_code == 403
        r = await c.post(
            f"/console/claims/{seeded.claim_ref}/status",
            data={"target": "documents_requested", "csrf": "forged"},
        )
        assert r.status_code == 403
    async with seeded.db.read() as r:
        assert await r.scalar("SELECT status FROM claims WHERE ref = ?", (seeded.claim_ref,)) == (
            "in_review"
        )


async def test_viewer_sees_own_kecamatan_only_and_no_form(seeded: Seeded) -> None:
    async with client_for(seeded) as c:
        await login(c, *user_of(seeded, "vina"))
        page = await c.get("/console/claims")
        assert page.status_code == 200
        assert seeded.claim_ref in page.text
        assert seeded.puger_ref not in page.text
        r = await c.get(f"/console/claims/{seeded.puger_ref}")
        assert r.status_code == 403
        r = await c.get(f"/console/claims/{seeded.claim_ref}")
        assert r.status_code == 200
        assert 'action="/console/claims/' + seeded.claim_ref + '/status"' not in r.text
        csrf = csrf_of(r.text)  # the logout form's token: valid, but the role forbids
        for url, data in (
            (f"/console/claims/{seeded.claim_ref}/status", {"target": "documents_requested"}),
            (f"/console/claims/{seeded.claim_ref}/nik", {}),
            (f"/console/registrations/{seeded.registration_id}/verify", {}),
            (f"/console/registrations/{seeded.registration_id}/reject", {"reason": "x"}),
            (f"/console/tickets/{seeded.ticket_id}/reply", {"message": "x"}),
            (f"/console/tickets/{seeded.ticket_id}/close", {}),
            ("/console/facilitators/add", {"name": "x", "place": "35.09.27", "phone": "0812"}),
            ("/console/outbox/requeue", {}),
        ):
            assert (await c.post(url, data={"csrf": csrf, **data})).status_code == 403, url
        for url in (
            "/console/outbox",
            "/console/facilitators",
            f"/console/claims/{seeded.claim_ref}/export",
        ):
            assert (await c.get(url)).status_code == 403, url
        assert (await c.get(f"/console/claims/{seeded.puger_ref}/export")).status_code == 403
        # The kecamatan filter cannot widen the scope.
        page = await c.get("/console/claims?kecamatan=35.09.08")
        assert seeded.puger_ref not in page.text


def test_permission_table_roles() -> None:
    assert all(p.endswith(".view") for p in PERMISSIONS["viewer"])
    assert "outbox.act" in PERMISSIONS["admin"]
    assert "outbox.act" not in PERMISSIONS["opd"]
    assert PERMISSIONS["viewer"] < PERMISSIONS["opd"] < PERMISSIONS["admin"]


async def test_queue_filters_and_paging(seeded: Seeded) -> None:
    async with client_for(seeded) as c:
        await login(c, *user_of(seeded, "oki"))
        r = await c.get("/console/claims?type=JKK&kecamatan=35.09.27")
        assert seeded.claim_ref in r.text
        assert seeded.puger_ref not in r.text
        assert ">documents_requested<" not in r.text
        assert ">in_review<" not in r.text
        assert "sisa 29 jam" in r.text  # 2×24 h after 24 Nov 15:00 WIB, seen at 25 Nov 10:00
        r = await c.get("/console/claims?status=paid")
        assert seeded.claim_ref not in r.text
        assert "Sudah dibayar" in r.text
        r = await c.get("/console/claims?from=2026-11-24&to=2026-11-24")
        assert seeded.claim_ref in r.text
        r = await c.get("/console/claims?from=2026-11-25")
        assert seeded.claim_ref not in r.text
        r = await c.get("/console/claims?page=2")
        assert r.status_code == 200
        assert "Halaman 2 dari 2" in r.text


async def test_move_claim_with_note_queues_the_claimant_message(seeded: Seeded) -> None:
    async with client_for(seeded) as c:
        await login(c, *user_of(seeded, "oki"))
        page = await c.get(f"/console/claims/{seeded.claim_ref}")
        assert "Minta dokumen" in page.text
        r = await c.post(
            f"/console/claims/{seeded.claim_ref}/status",
            data={
                "csrf": csrf_of(page.text),
                "target": "documents_requested",
                "note": "Mohon kirim kronologi dengan KTP 2 saksi.",
            },
        )
        assert r.status_code == 200
        assert "Status klaim diperbarui" in r.text
        assert "Menunggu dokumen" in r.text
    async with seeded.db.read() as r:
        row = await r.one(
            "SELECT msg_key, params FROM outbox WHERE chat_id = ? AND msg_key = 'claim.status_changed'"
            " ORDER BY id DESC",
            (seeded.claim_chat_id,),
        )
        event = await r.one("SELECT actor, actor_ref, channel FROM claim_events ORDER BY id DESC")
    assert row is not None
    params = json.loads(row["params"])
    assert params["status"] == "documents_requested"
    assert params["note"] == "Mohon kirim kronologi dengan KTP 2 saksi."
    assert dict(event) == {"actor": "admin", "actor_ref": "staff:oki.opd", "channel": "console"}


async def test_illegal_move_and_reject_without_reason_are_explained(seeded: Seeded) -> None:
    async with client_for(seeded) as c:
        await login(c, *user_of(seeded, "oki"))
        page = await c.get(f"/console/claims/{seeded.claim_ref}")
        csrf = csrf_of(page.text)
        r = await c.post(
            f"/console/claims/{seeded.claim_ref}/status", data={"csrf": csrf, "target": "paid"}
        )
        assert r.status_code == 400
        r = await c.post(
            f"/console/claims/{seeded.claim_ref}/status", data={"csrf": csrf, "target": "approved"}
        )
        assert r.status_code == 409
        assert "tidak diizinkan" in r.text
        assert "claim.illegal_transition" not in r.text
        r = await c.post(
            f"/console/claims/{seeded.claim_ref}/status", data={"csrf": csrf, "target": "rejected"}
        )
        assert r.status_code == 409
        assert "alasan" in r.text


async def test_paid_records_amount_and_date(seeded: Seeded) -> None:
    async with seeded.db.tx() as tx:
        ref = str(await tx.scalar("SELECT ref FROM claims WHERE status = 'approved' LIMIT 1"))
    async with client_for(seeded) as c:
        await login(c, *user_of(seeded, "oki"))
        page = await c.get(f"/console/claims/{ref}")
        assert "Jumlah manfaat" in page.text
        r = await c.post(
            f"/console/claims/{ref}/status",
            data={
                "csrf": csrf_of(page.text),
                "target": "paid",
                "amount": "42.000.000",
                "paid_on": "2026-11-20",
            },
        )
        assert r.status_code == 200
        assert "Rp42.000.000" in r.text.replace("\xa0", "")
        assert "20 November 2026" in r.text


async def test_full_nik_only_on_audited_request(seeded: Seeded) -> None:
    async with client_for(seeded) as c:
        await login(c, *user_of(seeded, "oki"))
        page = await c.get(f"/console/claims/{seeded.claim_ref}")
        assert "3509271203750007" not in page.text
        assert "3509********0007" in page.text
        r = await c.post(
            f"/console/claims/{seeded.claim_ref}/nik", data={"csrf": csrf_of(page.text)}
        )
        assert "3509271203750007" in r.text
    audits = await _audit(seeded, "nik.show")
    assert [(a["actor_id"], a["target_id"]) for a in audits] == [
        ("staff:oki.opd", seeded.claim_ref)
    ]


async def test_documents_are_served_only_through_the_authorised_route(seeded: Seeded) -> None:
    url = f"/console/claims/{seeded.claim_ref}/documents/{seeded.document_id}"
    async with client_for(seeded) as c:
        assert (await c.get(url, follow_redirects=False)).status_code == 303
        await login(c, *user_of(seeded, "vina"))
        r = await c.get(url)
        assert r.status_code == 200
        assert r.content.startswith(b"\x89PNG")
        assert r.headers["cache-control"] == "no-store"
        # Another claim's id for the same document: not found.
        assert (
            await c.get(f"/console/claims/{seeded.puger_ref}/documents/{seeded.document_id}")
        ).status_code == 403
    async with client_for(seeded) as c:
        await login(c, *user_of(seeded, "oki"))
        other = f"/console/claims/{seeded.puger_ref}/documents/{seeded.document_id}"
        assert (await c.get(other)).status_code == 404
    assert len(await _audit(seeded, "claim.document_view")) == 1


async def test_export_zip_for_bpjs(seeded: Seeded) -> None:
    import zipfile

    async with client_for(seeded) as c:
        await login(c, *user_of(seeded, "oki"))
        r = await c.get(f"/console/claims/{seeded.claim_ref}/export")
        assert r.status_code == 200
    zf = zipfile.ZipFile(io.BytesIO(r.content))
    summary = json.loads(zf.read("summary.json"))
    assert summary["claim"]["subject_nik"] == "3509271203750007"
    assert any(n.endswith(".png") for n in zf.namelist())
    assert len(await _audit(seeded, "claim.export")) == 1


async def test_verify_registration_after_viewing_photo(seeded: Seeded) -> None:
    async with client_for(seeded) as c:
        await login(c, *user_of(seeded, "oki"))
        page = await c.get("/console/registrations")
        assert "Bambang" in page.text
        page = await c.get(f"/console/registrations/{seeded.registration_id}")
        assert "Sahkan pendaftaran" in page.text
        photo = await c.get(
            f"/console/registrations/{seeded.registration_id}/photos/{seeded.photo_id}"
        )
        assert photo.content.startswith(b"\x89PNG")
        r = await c.post(
            f"/console/registrations/{seeded.registration_id}/verify",
            data={"csrf": csrf_of(page.text)},
        )
        assert "Pendaftaran disahkan" in r.text
        assert "Bambang" not in r.text
        page = await c.get(f"/console/registrations/{seeded.registration_id}")
        r = await c.post(
            f"/console/registrations/{seeded.registration_id}/verify",
            data={"csrf": csrf_of(page.text)},
        )
        assert r.status_code == 409
        assert "sudah diputuskan" in r.text
    async with seeded.db.read() as r:
        status = await r.scalar(
            "SELECT registration_status FROM workers WHERE id = ?", (seeded.registration_id,)
        )
    assert status == "verified"
    assert [a["actor_id"] for a in await _audit(seeded, "registration.verify")] == ["staff:oki.opd"]


async def test_reject_registration_needs_a_reason(seeded: Seeded) -> None:
    async with client_for(seeded) as c:
        await login(c, *user_of(seeded, "oki"))
        page = await c.get(f"/console/registrations/{seeded.registration_id}")
        url = f"/console/registrations/{seeded.registration_id}/reject"
        r = await c.post(url, data={"csrf": csrf_of(page.text), "reason": " "})
        assert r.status_code == 409
        assert "alasan" in r.text
        r = await c.post(url, data={"csrf": csrf_of(page.text), "reason": "Foto KTP buram"})
        assert "Pendaftaran ditolak" in r.text


async def test_answer_and_close_a_ticket(seeded: Seeded) -> None:
    async with client_for(seeded) as c:
        await login(c, *user_of(seeded, "oki"))
        page = await c.get(f"/console/tickets/{seeded.ticket_id}")
        assert "Kapan iuran saya dibayar?" in page.text
        r = await c.post(
            f"/console/tickets/{seeded.ticket_id}/reply",
            data={"csrf": csrf_of(page.text), "message": "Iuran dibayar Pemkab tiap bulan."},
        )
        assert "Jawaban terkirim" in r.text
        assert "Iuran dibayar Pemkab" in r.text
        r = await c.post(
            f"/console/tickets/{seeded.ticket_id}/close", data={"csrf": csrf_of(r.text)}
        )
        assert "Pertanyaan ditutup" in r.text
    async with seeded.db.read() as r:
        row = await r.one(
            "SELECT params FROM outbox WHERE chat_id = ? AND msg_key = 'ticket.reply'",
            (seeded.ticket_chat_id,),
        )
    assert row is not None
    assert "Iuran dibayar Pemkab" in row["params"]


async def test_facilitators_add_new_code_revoke(seeded: Seeded) -> None:
    async with client_for(seeded) as c:
        await login(c, *user_of(seeded, "ani"))
        page = await c.get("/console/facilitators")
        r = await c.post(
            "/console/facilitators/add",
            data={
                "csrf": csrf_of(page.text),
                "name": "Bu Sri",
                "place": "35.09.27.2002",
                "phone": "081234567890",
            },
        )
        assert "Kode sekali pakai untuk Bu Sri" in r.text
        async with seeded.db.read() as rd:
            fid = int(await rd.scalar("SELECT id FROM facilitators WHERE name = 'Bu Sri'"))
        r = await c.post(f"/console/facilitators/{fid}/code", data={"csrf": csrf_of(r.text)})
        assert "Kode sekali pakai" in r.text
        r = await c.post(f"/console/facilitators/{fid}/revoke", data={"csrf": csrf_of(r.text)})
        assert "Pendamping dicabut" in r.text
    async with client_for(seeded) as c:
        await login(c, *user_of(seeded, "oki"))
        page = await c.get("/console/facilitators")
        assert page.status_code == 200
        assert "Tambah pendamping" not in page.text


async def test_outbox_requeue(seeded: Seeded) -> None:
    async with seeded.db.tx() as tx:
        await tx.execute("UPDATE outbox SET status = 'dead', last_error = 'HTTP 400' WHERE id = 1")
    async with client_for(seeded) as c:
        await login(c, *user_of(seeded, "ani"))
        page = await c.get("/console/outbox")
        assert "Gagal, berhenti dicoba" in page.text
        assert "HTTP 400" in page.text
        r = await c.post("/console/outbox/requeue", data={"csrf": csrf_of(page.text)})
        assert "dimasukkan lagi" in r.text
        assert "Tidak ada pesan yang gagal" in r.text
    assert (await _audit(seeded, "outbox.requeue"))[0]["actor_id"] == "staff:ani.admin"


async def test_reports_page_and_downloads(seeded: Seeded) -> None:
    async with client_for(seeded) as c:
        await login(c, *user_of(seeded, "oki"))
        page = await c.get("/console/reports")
        assert page.text.count("<svg") == 7
        assert "Buruh tani tembakau" in page.text
        r = await c.get("/console/reports/sectors.xlsx")
        assert r.headers["content-type"].startswith("application/vnd.openxml")
        wb = load_workbook(io.BytesIO(r.content))
        rows = list(wb.active.iter_rows(values_only=True))  # type: ignore[union-attr]
        assert rows[0] == ("Sektor", "Pekerja", "OPD pengelola")
        assert rows[-1][0] == "Jumlah"
        assert rows[-1][1] == 300
        r = await c.get("/console/reports/coverage.csv")
        assert r.content.startswith("\ufeff".encode())
        assert "Terlindungi" in r.text
        assert (await c.get("/console/reports/nothing.csv")).status_code == 404
    async with client_for(seeded) as c:
        await login(c, *user_of(seeded, "vina"))
        r = await c.get("/console/reports/sectors.xlsx")
        rows = list(load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True))  # type: ignore[union-attr]
        assert 0 < int(rows[-1][1]) < 300  # type: ignore[arg-type]  # Kalisat only


def test_report_cells_are_formula_safe() -> None:
    from lingkaran.console.reports import Report, to_csv, to_xlsx

    rep = Report(name="x", title="x", headers=["a"], rows=[["=HYPERLINK(1)"], [-5]], bars=[])
    assert "'=HYPERLINK(1)" in to_csv(rep).decode("utf-8-sig")
    wb = load_workbook(io.BytesIO(to_xlsx(rep)))
    values = [r[0] for r in wb.active.iter_rows(values_only=True)]  # type: ignore[union-attr]
    assert values == ["a", "'=HYPERLINK(1)", -5]


async def test_english(seeded: Seeded) -> None:
    async with client_for(seeded) as c:
        await login(c, *user_of(seeded, "oki"))
        r = await c.get("/console/lang/en?next=/console/claims")
        assert r.status_code == 200
        assert "Claims queue" in r.text
        assert "Under review" in r.text
        assert ">in_review<" not in r.text


@pytest.mark.parametrize("path", ["/console/claims", "/console/reports"])
async def test_pages_send_security_headers(seeded: Seeded, path: str) -> None:
    async with client_for(seeded) as c:
        await login(c, *user_of(seeded, "ani"))
        r = await c.get(path)
        assert "frame-ancestors" in r.headers["content-security-policy"]
        assert r.headers["cache-control"] == "no-store"


async def test_next_parameter_stays_inside_the_console(seeded: Seeded) -> None:
    username, password = user_of(seeded, "oki")
    async with client_for(seeded) as c:
        page = await c.get("/console/login?next=https://evil.example/")
        r = await c.post(
            "/console/login",
            data={
                "csrf": csrf_of(page.text),
                "username": username,
                "password": password,
                "next": "//evil.example/",
            },
            follow_redirects=False,
        )
        assert r.headers["location"] == "/console/claims"
    _ = timedelta


ROSTER_HEADER = "nik;nama;tanggal_lahir;jenis_kelamin;kode_desa;sektor\n"


async def test_roster_import_shows_row_errors_then_imports_good_rows(seeded: Seeded) -> None:
    good = "3509275507880001;Sri Wahyuni;15-07-1988;P;35.09.27.2002;nelayan_tangkap\n"
    bad = "35092755;=Evil;15-07-1988;P;35.09.27.2002;nelayan_tangkap\n"
    body = (ROSTER_HEADER + good + bad).encode("utf-8-sig")
    async with client_for(seeded) as c:
        await login(c, *user_of(seeded, "ani"))
        page = await c.get("/console/roster")
        csrf = csrf_of(page.text)
        r = await c.post(
            "/console/roster",
            data={"csrf": csrf},
            files={"file": ("roster.csv", body, "text/csv")},
        )
        assert r.status_code == 422
        assert "NIK: harus 16 angka" in r.text
        assert "nik.wrong_length" not in r.text
        r = await c.post(
            "/console/roster",
            data={"csrf": csrf, "skip_invalid": "1"},
            files={"file": ("roster.csv", body, "text/csv")},
        )
        assert r.status_code == 200
        assert "1 baru" in r.text
    async with client_for(seeded) as c:
        await login(c, *user_of(seeded, "oki"))
        assert (await c.get("/console/roster")).status_code == 403
    assert (await _audit(seeded, "roster.import"))[-1]["actor_id"] == "staff:ani.admin"


async def test_roster_import_from_excel(seeded: Seeded) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["nik", "nama", "tanggal_lahir", "jenis_kelamin", "kode_desa", "sektor"])
    ws.append(
        [3509275507880001, "Sri Wahyuni", "1988-07-15", "P", "35.09.27.2002", "nelayan_tangkap"]
    )
    buffer = io.BytesIO()
    wb.save(buffer)
    async with client_for(seeded) as c:
        await login(c, *user_of(seeded, "ani"))
        page = await c.get("/console/roster")
        r = await c.post(
            "/console/roster",
            data={"csrf": csrf_of(page.text)},
            files={"file": ("roster.xlsx", buffer.getvalue(), "application/octet-stream")},
        )
        assert r.status_code == 200, r.text
        assert "1 baru" in r.text
