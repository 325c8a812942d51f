"""Register a worker on the spot: NIK first, answers prefilled from the NIK or a lead, consent.

The record itself is written by ``services.register_worker``, which checks the desa against the
facilitator's scope; this screen only asks, shows and translates.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from handlers.common import (
    CANCEL,
    EDIT,
    YES,
    honorific,
    masked,
    parse_birth_date,
    parse_name,
    parse_phone,
    place_of,
    read_nik,
    sector_label,
    sector_options,
)
from handlers.engine import (
    Answer,
    Ctx,
    End,
    Flow,
    Goto,
    Invalid,
    Next,
    Option,
    Outcome,
    Stay,
    Step,
)
from handlers.facilitator.common import (
    MENU,
    NEXT_PAGE,
    ROLES,
    audit,
    covers,
    current_facilitator,
    no_access,
    page_of,
    scope_name,
    short,
    status_short,
)
from handlers.facilitator.register_photos import photo_parse
from handlers.i18n import N_
from handlers.sources import states
from lingkaran_core import services
from lingkaran_core.errors import Conflict, NotAuthorised
from lingkaran_core.identity import mask_phone, parse_nik
from lingkaran_core.regions import load_regions
from lingkaran_core.rules import MAX_AGE, MIN_AGE
from lingkaran_core.storage.repos import worker_by_nik

DESA_PAGE = 9

ORDER = ("nik", "name", "dob", "sex", "desa", "sector", "occupation", "phone", "consent")
SKIP = Option(id="skip", label=N_("Lewati"), aliases=("lewati", "tidak ada", "skip", "-"))
NO_PHONE = Option(id="none", label=N_("Tidak ada HP"), aliases=("tidak ada", "tdk ada", "-"))
SAVE = Option(id="save", label=N_("Simpan"), aliases=("simpan", "ya simpan"))
AGREE = Option(id="yes", label=N_("Setuju"), aliases=("setuju", "ya", "boleh", "iya"))
DISAGREE = Option(id="no", label=N_("Tidak setuju"), aliases=("tidak", "tidak boleh", "belum"))
SEX_WORDS = {"L": N_("laki-laki"), "P": N_("perempuan")}


async def _register_start(ctx: Ctx) -> Outcome | None:
    f = await current_facilitator(ctx)
    if f is None:
        return await no_access(ctx)
    desa = ctx.data.get("desa_code")
    if desa and not await covers(ctx, desa):
        ctx.data.pop("desa_code", None)
    return None


async def _advance(ctx: Ctx, current: str) -> str:
    """The next unanswered step (prefilled answers from a lead are skipped)."""
    if ctx.data.get("editing"):
        return "confirm"
    f = await current_facilitator(ctx)
    for name in ORDER[ORDER.index(current) + 1 :]:
        if name == "desa":
            if f is not None and f.scope_kind == "desa":
                ctx.data["desa_code"] = f.scope_code
                continue
            if ctx.data.get("desa_code"):
                continue
        if (name == "sector" and ctx.data.get("sector")) or (
            name == "phone" and ctx.data.get("phone")
        ):
            continue
        return name
    return "confirm"


SAVED_NOT_YET_PROTECTED = states(
    N_("Tersimpan. Pemkab akan mengecek. {who} belum dilindungi sampai disetujui."),
    "protection_starts_after_verification",
)
NON_JEMBER_NIK = states(
    N_(
        "Perhatian: NIK {nik} bukan NIK Jember (4 angka awal bukan 3509). Program ini untuk "
        "warga Jember yang terdata di DTSEN; pendaftaran tetap bisa dikirim, tetapi alamat KTP "
        "perlu dicek OPD. Jika sudah pindah ke Jember, siapkan KK atau surat pindah."
    ),
    "jember_residency",
)


async def _nik_prompt(ctx: Ctx) -> str:
    text = ctx.t(N_("Berapa NIK pekerja? (16 angka di KTP/KK)"))
    if ctx.data.get("lead_id"):
        text = ctx.t(N_("Daftarkan calon peserta.")) + " " + text
    return text


async def _nik_parse(ctx: Ctx, answer: Answer) -> str:
    if answer.option is not None:
        return answer.option.id
    return read_nik(ctx, answer.text or "")


async def _nik_next(ctx: Ctx, nik: str) -> Outcome:
    if nik == "menu":
        return End()
    existing = await worker_by_nik(ctx.tx, nik)
    if existing is not None:
        await audit(ctx, "worker.register_duplicate", "worker", existing.id)
        if await covers(ctx, existing.desa_code):
            desa, _ = place_of(existing.desa_code)
            text = ctx.t(
                N_(
                    "NIK {nik} sudah terdaftar: {who}, Desa {desa}. {status} Tidak perlu "
                    "didaftarkan lagi."
                ),
                nik=masked(existing.nik),
                who=honorific(ctx, existing),
                desa=desa,
                status=status_short(ctx, existing),
            )
        else:
            # Outside the scope: say only that it exists (no name, no desa).
            text = ctx.t(
                N_(
                    "NIK {nik} sudah terdaftar di wilayah lain, jadi tidak perlu didaftarkan lagi. "
                    "Jika pekerja pindah desa, hubungi petugas Pemkab Jember."
                ),
                nik=masked(nik),
            )
        ctx.data.pop("nik", None)
        return Stay((text,))
    parsed = parse_nik(nik, today=ctx.today)
    ctx.data["nik"] = nik
    ctx.data["nik_dob"] = parsed.birth_date.isoformat()
    ctx.data["nik_sex"] = str(parsed.sex)
    step = await _advance(ctx, "nik")
    if not parsed.is_jember:
        # A NIK issued outside Jember: no hard rule says no, but the OPD will check residency
        # (rules.JEMBER_RESIDENCY_RULE, UNCONFIRMED).
        return Next(step, (ctx.t(NON_JEMBER_NIK, nik=masked(nik)),))
    return step


async def _name_prompt(ctx: Ctx) -> str:
    if ctx.data.get("editing"):
        return ctx.t(N_("Siapa nama lengkapnya sesuai KTP?"))
    return ctx.t(
        N_(
            "NIK {nik} belum terdaftar. Lahir {dob} (menurut NIK). Siapa nama lengkapnya sesuai "
            "KTP?"
        ),
        nik=masked(ctx.data.get("nik")),
        dob=ctx.t.date(date.fromisoformat(ctx.data["nik_dob"])),
    )


async def _name_next(ctx: Ctx, value: str) -> Outcome:
    return await _advance(ctx, "name")


async def _dob_prompt(ctx: Ctx) -> str:
    return ctx.t(
        N_("Tanggal lahir? Menurut NIK: {dob}. Pilih, atau tulis tanggal di KTP (15-05-1978)."),
        dob=ctx.t.date(date.fromisoformat(ctx.data["nik_dob"])),
    )


DOB_AS_NIK = Option(id="nik", label=N_("Sesuai NIK"), aliases=("sesuai", "sama", "ya", "benar"))


async def _dob_parse(ctx: Ctx, answer: Answer) -> str:
    if answer.option is not None:
        return str(ctx.data["nik_dob"])
    return await parse_birth_date(ctx, answer)


async def _dob_next(ctx: Ctx, value: str) -> Outcome:
    ctx.data["dob_mismatch"] = value != ctx.data.get("nik_dob")
    if ctx.data["dob_mismatch"]:
        return "dob_check"
    return await _advance(ctx, "dob")


async def _dob_check_prompt(ctx: Ctx) -> str:
    return ctx.t(
        N_(
            "Perhatian: tanggal lahir {dob} berbeda dengan NIK ({nik_dob}). Mohon cocokkan dengan "
            "KTP. Tetap pakai {dob}?"
        ),
        dob=ctx.t.date(date.fromisoformat(ctx.data["dob"])),
        nik_dob=ctx.t.date(date.fromisoformat(ctx.data["nik_dob"])),
    )


DOB_CHECK = (
    Option(id="keep", label=N_("Ya, tetap"), aliases=("ya", "tetap", "benar")),
    Option(id="change", label=N_("Ubah tanggal"), aliases=("ubah", "ganti", "tidak")),
)


async def _dob_check_next(ctx: Ctx, value: str) -> Outcome:
    if value == "change":
        return "dob"
    return await _advance(ctx, "dob")


async def _sex_prompt(ctx: Ctx) -> str:
    return ctx.t(
        N_("Menurut NIK, jenis kelaminnya {sex}. Benar?"),
        sex=ctx.t(SEX_WORDS[ctx.data.get("nik_sex", "L")]),
    )


async def _sex_choices(ctx: Ctx) -> list[Option]:
    other = "L" if ctx.data.get("nik_sex") == "P" else "P"
    flip = N_("Bukan, laki-laki") if other == "L" else N_("Bukan, perempuan")
    return [
        Option(id="nik", label=N_("Ya, benar"), aliases=YES.aliases),
        Option(id=other, label=flip, aliases=("bukan", "salah")),
    ]


async def _sex_next(ctx: Ctx, value: str) -> Outcome:
    ctx.data["sex"] = ctx.data.get("nik_sex", "L") if value == "nik" else value
    return await _advance(ctx, "sex")


async def _scope_desa(ctx: Ctx) -> list[Any]:
    f = await current_facilitator(ctx)
    if f is None:
        return []
    regions = load_regions()
    if f.scope_kind == "desa":
        d = regions.desa(f.scope_code)
        return [d] if d is not None else []
    return list(regions.desa_in(f.scope_code))


async def _desa_prompt(ctx: Ctx) -> str:
    f = await current_facilitator(ctx)
    return ctx.t(
        N_("Pekerja tinggal di desa mana ({scope})? Pilih, atau tulis nama desanya."),
        scope=scope_name(ctx, f) if f is not None else "-",
    )


async def _desa_choices(ctx: Ctx) -> list[Option]:
    all_desa = await _scope_desa(ctx)
    page = int(ctx.data.get("desa_page", 0))
    shown, more = page_of(all_desa, page, DESA_PAGE)
    options = [Option(id="d:" + d.code, label=short(d.name, 20), translate=False) for d in shown]
    if more or page:
        options.append(NEXT_PAGE)
    return options


async def _desa_parse(ctx: Ctx, answer: Answer) -> str:
    if answer.option is not None:
        return answer.option.id
    query = (answer.text or "").strip()
    in_scope = {d.code for d in await _scope_desa(ctx)}
    matches = load_regions().find_desa(query, limit=5)
    inside = [m.desa for m in matches if m.desa.code in in_scope]
    if inside:
        return "d:" + inside[0].code
    f = await current_facilitator(ctx)
    if matches:
        raise Invalid(
            N_("Desa {desa} di luar wilayah Bapak/Ibu ({scope}). Mohon pilih dari daftar."),
            desa=matches[0].desa.name,
            scope=scope_name(ctx, f) if f is not None else "-",
        )
    raise Invalid(N_("Desa itu belum kami temukan. Mohon pilih dari daftar."))


async def _desa_next(ctx: Ctx, value: str) -> Outcome:
    if value == "more":
        total = len(await _scope_desa(ctx))
        page = int(ctx.data.get("desa_page", 0)) + 1
        ctx.data["desa_page"] = page if page * DESA_PAGE < total else 0
        return Stay()
    code = value.removeprefix("d:")
    if not await covers(ctx, code):
        await audit(ctx, "worker.register_out_of_scope", "desa", code)
        raise Invalid(N_("Desa itu di luar wilayah Bapak/Ibu. Mohon pilih dari daftar."))
    ctx.data["desa_code"] = code
    return await _advance(ctx, "desa")


async def _sector_next(ctx: Ctx, value: str) -> Outcome:
    return await _advance(ctx, "sector")


async def _occupation_parse(ctx: Ctx, answer: Answer) -> str | None:
    if answer.option is not None:
        return None
    text = " ".join((answer.text or "").split())
    if len(text) < 2:
        raise Invalid(N_("Mohon tulis pekerjaannya sedikit lebih jelas, atau pilih Lewati."))
    return text


async def _occupation_next(ctx: Ctx, value: str | None) -> Outcome:
    return await _advance(ctx, "occupation")


async def _phone_parse(ctx: Ctx, answer: Answer) -> str | None:
    if answer.option is not None:
        return None
    return await parse_phone(ctx, answer)


async def _phone_next(ctx: Ctx, value: str | None) -> Outcome:
    return await _advance(ctx, "phone")


async def _consent_next(ctx: Ctx, value: str) -> Outcome:
    if value != "yes":
        await audit(ctx, "worker.register_no_consent")
        return End(
            (
                ctx.t(
                    N_(
                        "Tanpa persetujuan pekerja, data tidak bisa kami simpan. Tidak ada yang "
                        "tersimpan."
                    )
                ),
            )
        )
    ctx.data["consent_at"] = ctx.now.isoformat()
    return "confirm"


def _age_on(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


async def _confirm_prompt(ctx: Ctx) -> str:
    t = ctx.t
    d = ctx.data
    if not all(d.get(k) for k in ("nik", "name", "dob", "sex", "desa_code", "sector")):
        return t(N_('Data belum lengkap. Ketik "batal", lalu mulai lagi dari menu.'))
    born = date.fromisoformat(d["dob"])
    desa, _ = place_of(d.get("desa_code"))
    parts = [
        d.get("name", "-"),
        masked(d.get("nik")),
        t.date(born),
        t(SEX_WORDS[d.get("sex", "L")]),
        sector_label(ctx, d.get("sector")).lower(),
    ]
    if d.get("occupation"):
        parts.append(str(d["occupation"]))
    parts.append(t(N_("Desa {desa}"), desa=desa))
    parts.append(
        t(N_("HP {phone}"), phone=mask_phone(d["phone"])) if d.get("phone") else t(N_("tanpa HP"))
    )
    lines = [t(N_("Simpan: {details}?"), details=", ".join(parts))]
    if d.get("dob_mismatch"):
        lines.append(t(N_("Catatan: tanggal lahir berbeda dengan NIK; petugas akan mengecek.")))
    age = _age_on(born, ctx.today)
    if age > MAX_AGE or age < MIN_AGE:
        lines.append(
            t(
                N_(
                    "Catatan: umurnya {age} tahun, di luar batas {min}–{max} tahun. Pendaftaran "
                    "mungkin belum bisa disetujui."
                ),
                age=age,
                min=MIN_AGE,
                max=MAX_AGE,
            )
        )
    return "\n".join(lines)


async def _confirm_next(ctx: Ctx, value: str) -> Outcome:
    if value == "edit":
        ctx.data["editing"] = True
        return "edit"
    d = ctx.data
    if not all(d.get(k) for k in ("nik", "name", "dob", "sex", "desa_code", "sector")):
        return End((ctx.t(N_("Data belum lengkap, jadi tidak disimpan.")),))
    f = await current_facilitator(ctx)
    if f is None:
        return await no_access(ctx)
    if not d.get("consent_at"):
        return "consent"
    try:
        worker = await services.register_worker(
            ctx.tx,
            f,
            services.NewWorker(
                nik=d["nik"],
                name=d["name"],
                birth_date=date.fromisoformat(d["dob"]),
                sex=d["sex"],
                desa_code=d["desa_code"],
                sector=d["sector"],
                occupation=d.get("occupation"),
                phone=d.get("phone"),
                consent_at=datetime.fromisoformat(d["consent_at"]),
                dob_mismatch=bool(d.get("dob_mismatch")),
            ),
            now=ctx.now,
            channel=ctx.chat.channel,
            lead_id=int(d["lead_id"]) if d.get("lead_id") else None,
        )
    except NotAuthorised:
        await audit(ctx, "worker.register_out_of_scope", "desa", d.get("desa_code"))
        raise Invalid(N_("Desa itu di luar wilayah Bapak/Ibu. Mohon pilih dari daftar.")) from None
    except Conflict:
        # Registered meanwhile (another facilitator, an import): never a second record.
        return End(
            (
                ctx.t(
                    N_("NIK {nik} baru saja terdaftar. Tidak disimpan dua kali."),
                    nik=masked(d["nik"]),
                ),
            )
        )
    ctx.data.clear()
    ctx.data["worker_id"] = worker.id  # photos sent on the next screen belong to this worker
    ctx.data["saved"] = (
        ctx.t(
            SAVED_NOT_YET_PROTECTED,
            who=honorific(ctx, worker),
        )
        + "\n"
        + ctx.t(N_("Kirim foto KTP-nya di sini agar petugas Pemkab bisa mencocokkan datanya."))
    )
    return "done"


EDIT_FIELDS = (
    Option(id="name", label=N_("Nama")),
    Option(id="dob", label=N_("Tanggal lahir")),
    Option(id="desa", label=N_("Desa")),
    Option(id="sector", label=N_("Pekerjaan")),
    Option(id="occupation", label=N_("Keterangan kerja")),
    Option(id="phone", label=N_("Nomor HP")),
)


async def _edit_choices(ctx: Ctx) -> list[Option]:
    f = await current_facilitator(ctx)
    return [o for o in EDIT_FIELDS if o.id != "desa" or (f is not None and f.scope_kind != "desa")]


async def _edit_next(ctx: Ctx, value: str) -> Outcome:
    if value == "desa":
        ctx.data["desa_page"] = 0
    return value


async def _done_prompt(ctx: Ctx) -> str:
    # Nothing to go "back" to once saved: the answers are gone.
    ctx.state.stack.clear()
    photos = int(ctx.data.get("photos") or 0)
    if photos:
        return ctx.t(
            N_("Foto diterima ({n}). Kirim foto lain (misalnya Kartu Keluarga) bila perlu."),
            n=photos,
        )
    return str(ctx.data.get("saved") or ctx.t(N_("Tersimpan.")))


async def _done_next(ctx: Ctx, value: str) -> Outcome:
    if value == "photo":
        return Stay()
    if value == "again":
        return Goto("fac_register")
    return End(menu=True)


FAC_REGISTER = Flow(
    name="fac_register",
    roles=ROLES,
    on_start=_register_start,
    steps=(
        Step(
            name="nik",
            prompt=_nik_prompt,
            choices=(MENU,),
            free_text=True,
            parse=_nik_parse,
            next=_nik_next,
            help=N_("NIK ada di KTP (baris paling atas) atau di Kartu Keluarga, 16 angka."),
        ),
        Step(name="name", prompt=_name_prompt, parse=parse_name, save_as="name", next=_name_next),
        Step(
            name="dob",
            prompt=_dob_prompt,
            choices=(DOB_AS_NIK,),
            free_text=True,
            parse=_dob_parse,
            save_as="dob",
            next=_dob_next,
        ),
        Step(name="dob_check", prompt=_dob_check_prompt, choices=DOB_CHECK, next=_dob_check_next),
        Step(name="sex", prompt=_sex_prompt, choices=_sex_choices, next=_sex_next),
        Step(
            name="desa",
            prompt=_desa_prompt,
            choices=_desa_choices,
            free_text=True,
            parse=_desa_parse,
            next=_desa_next,
        ),
        Step(
            name="sector",
            prompt=N_("Apa pekerjaan utamanya?"),
            choices=tuple(sector_options(with_other=False)),
            save_as="sector",
            next=_sector_next,
        ),
        Step(
            name="occupation",
            prompt=N_("Keterangan pekerjaan (boleh dilewati), misalnya: buruh petik tembakau."),
            choices=(SKIP,),
            free_text=True,
            parse=_occupation_parse,
            save_as="occupation",
            next=_occupation_next,
            max_len=60,
        ),
        Step(
            name="phone",
            prompt=N_("Nomor HP pekerja? Contoh: 081234567890. Boleh dilewati."),
            choices=(NO_PHONE,),
            free_text=True,
            parse=_phone_parse,
            save_as="phone",
            next=_phone_next,
        ),
        Step(
            name="consent",
            prompt=N_(
                "Tanyakan kepada pekerja, lalu pilih jawabannya: Pekerja setuju datanya dikirim "
                "ke Pemkab dan BPJS Ketenagakerjaan?"
            ),
            choices=(AGREE, DISAGREE),
            next=_consent_next,
        ),
        Step(
            name="confirm",
            prompt=_confirm_prompt,
            choices=(SAVE, EDIT, CANCEL),
            next=_confirm_next,
        ),
        Step(
            name="edit",
            prompt=N_("Apa yang mau diubah?"),
            choices=_edit_choices,
            next=_edit_next,
        ),
        Step(
            name="done",
            prompt=_done_prompt,
            choices=(
                Option(id="again", label=N_("Daftarkan lagi"), aliases=("lagi", "daftar lagi")),
                MENU,
            ),
            parse=photo_parse,
            next=_done_next,
            accepts_media=True,
        ),
    ),
)


# ---------------------------------------------------------------------------------------------
