"""Link my account: NIK + date of birth find the record, a second factor proves it.

The date of birth is inside the NIK, so it proves nothing (rules.LINK_FACTORS_RULE). The second
factor: the roster phone proven by the channel (WhatsApp: automatic; Telegram: the contact
button; terminal: ``/phone``), the KPJ or KK number, or the village facilitator in person.

Started with ``add`` in its data (Settings "Tambah keluarga", or "cek istri saya" on a phone
linked to the husband alone), it links one more person of the household (issue 22).
Someone not on the roster is not trapped (issue 14, item 7): a failed NIK + date-of-birth match
offers at once the 5-question screening and the facilitator, in the same words whether or not
the NIK exists; a date that cannot be read or has no year is asked again and is no failed
attempt; a lock-out says the plain time to try again and the facilitator route.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from handlers.common import (
    honorific,
    parse_nik_answer,
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
    Reply,
    Step,
)
from handlers.i18n import N_
from handlers.sources import states
from lingkaran_core import services
from lingkaran_core.errors import Conflict, NotAuthorised, NotFound, RateLimited
from lingkaran_core.identity import parse_nik
from lingkaran_core.services.whatsapp_identity import chat_phone
from lingkaran_core.storage.repos import Worker, worker_by_id


def _plain_time(ctx: Ctx, until: datetime) -> str:
    """``pukul 15.48 WIB`` today, ``besok pukul 08.05 WIB``, else with the date."""
    local = until.astimezone(ctx.engine.tz)
    clock = f"{local:%H.%M}"
    day = local.date()
    if day == ctx.today:
        return ctx.t(N_("pukul {time} WIB"), time=clock)
    if (day - ctx.today).days == 1:
        return ctx.t(N_("besok pukul {time} WIB"), time=clock)
    return ctx.t(N_("{date} pukul {time} WIB"), date=ctx.t.date(day), time=clock)


def _locked_message(ctx: Ctx, until: datetime) -> str:
    return ctx.t(
        N_(
            "Terlalu banyak percobaan yang belum cocok. Demi keamanan data, silakan coba lagi "
            "{when}. Atau minta bantuan pendamping desa: datang dengan KTP, atau pilih "
            '"Bicara dengan petugas" di menu.'
        ),
        when=_plain_time(ctx, until),
    )


LIMIT = states(
    N_(
        "Nomor ini sudah terhubung dengan {max} orang, batas paling banyak. Untuk menambah orang "
        'lain, lepaskan dulu salah satu lewat "Pengaturan", lalu "Lepaskan nomor ini".'
    ),
    "max_links_per_chat",
)
OTHER_HOUSEHOLD = N_(
    "Nomor KK hanya bisa dipakai untuk keluarga yang satu KK dengan data yang sudah terhubung di "
    "nomor ini. Silakan pilih cara lain."
)


def _limit(ctx: Ctx) -> Outcome:
    return End((ctx.t(LIMIT, max=ctx.engine.max_links_per_chat),))


def _linked(ctx: Ctx, worker: Worker | None = None) -> Outcome:
    if ctx.chat.active_role != "facilitator":
        ctx.chat.active_role = "worker"
    then = ctx.data.get("then")
    if ctx.data.get("add") and worker is not None:
        linked = ctx.t(
            N_("Data cocok. Nomor ini kini juga terhubung dengan data {who}."),
            who=honorific(ctx, worker),
        )
        # The flow that asked goes on for the person just linked (issue 22).
        return Goto(then or "my_data", data={"for_worker": worker.id}, before=(linked,))
    linked = ctx.t(N_("Data cocok. Nomor ini kini terhubung dengan data Bapak/Ibu."))
    if then:
        return Goto(then, before=(linked,))
    return Goto("my_data", before=(linked,))


async def _on_start(ctx: Ctx) -> Outcome | None:
    if ctx.data.get("add") and ctx.chat.worker_id is not None:
        # One more person on this phone: a fresh NIK, whatever attempt was left pending.
        if not await services.has_room(
            ctx.tx, chat_id=ctx.chat.id, max_links=ctx.engine.max_links_per_chat
        ):
            return _limit(ctx)
        until = await services.link_locked_until(
            ctx.tx,
            chat_id=ctx.chat.id,
            nik=None,
            now=ctx.now,
            channel=ctx.chat.channel,
            user_ref=ctx.chat.user_ref,
        )
        return End((_locked_message(ctx, until),)) if until is not None else None
    if ctx.chat.worker_id is not None:
        worker = await worker_by_id(ctx.tx, ctx.chat.worker_id)
        if worker is not None:
            then = ctx.data.get("then")
            if then:
                return Goto(then)
            return Goto("my_data")
    until = await services.link_locked_until(
        ctx.tx,
        chat_id=ctx.chat.id,
        nik=None,
        now=ctx.now,
        channel=ctx.chat.channel,
        user_ref=ctx.chat.user_ref,
    )
    if await services.pending_worker(ctx.tx, ctx.chat.id, now=ctx.now) is not None:
        return "verify"  # NIK + date of birth matched earlier: only the second factor is left
    if until is not None:
        return End((_locked_message(ctx, until),))
    return None


NO_MATCH = N_(
    "Maaf, NIK dan tanggal lahir itu belum cocok dengan data kami. Mungkin Bapak/Ibu belum "
    "terdaftar di program ini. Pilih: coba lagi (periksa KTP), jawab 5 pertanyaan untuk cek "
    "syarat, atau tanya pendamping desa."
)
NO_MATCH_CHOICES = (
    Option(id="retry", label=N_("Coba lagi"), aliases=("coba lagi", "ulang")),
    Option(
        id="screen",
        label=N_("Jawab 5 pertanyaan"),
        description=N_("Cek syarat ikut program"),
        aliases=("pertanyaan", "cek syarat", "syarat"),
    ),
    Option(
        id="human",
        label=N_("Tanya pendamping"),
        description=N_("Pendamping desa atau petugas"),
        aliases=("pendamping", "petugas", "tanya"),
    ),
)


async def _no_match_parse(ctx: Ctx, answer: Answer) -> str:
    """A choice, or a NIK typed again straight away (the same as "Coba lagi")."""
    if answer.option is not None:
        return answer.option.id
    ctx.data["nik"] = parse_nik(answer.text or "", today=ctx.today).value
    return "typed_nik"


async def _no_match_next(ctx: Ctx, value: str) -> Outcome:
    if value == "typed_nik":
        return "dob"
    if value == "screen":
        intro = ctx.t(N_("Ada 5 pertanyaan singkat. Ini belum pendaftaran."))
        return Goto("eligibility", step="age", before=(intro,))
    if value == "human":
        return Goto("human")
    ctx.data.pop("nik", None)
    ctx.data.pop("birth_date", None)
    return "nik"


async def _dob_parse(ctx: Ctx, answer: Answer) -> str:
    """A date of birth with its year: anything else is asked again, never a failed attempt."""
    from lingkaran_core.dates import parse_date_id

    return parse_date_id(answer.text or "", today=ctx.today, require_year=True).isoformat()


async def _dob_next(ctx: Ctx, birth_iso: str) -> Outcome:
    from datetime import date

    try:
        match = await services.link_account(
            ctx.tx,
            chat_id=ctx.chat.id,
            nik=ctx.data["nik"],
            birth_date=date.fromisoformat(birth_iso),
            now=ctx.now,
            channel=ctx.chat.channel,
            user_ref=ctx.chat.user_ref,
            phone=ctx.chat.phone,
            max_links=ctx.engine.max_links_per_chat,
        )
    except RateLimited as exc:
        return End((_locked_message(ctx, datetime.fromisoformat(str(exc.params["until"]))),))
    except Conflict:
        return _limit(ctx)
    except NotFound:
        # Never reveal whether the NIK exists: the same answer and choices for both mistakes.
        return "no_match"
    if match.verified:
        # WhatsApp: the sender's number is the phone on the roster (factor a), or the person
        # is linked to this phone already.
        ctx.chat.worker_id = ctx.chat.worker_id or match.worker.id
        return _linked(ctx, match.worker)
    return "verify"


def _can_share_phone(ctx: Ctx) -> bool:
    """Telegram's contact button and the terminal's /phone prove a number; WhatsApp did above."""
    return ctx.chat.channel in ("telegram", "terminal")


async def _verify_prompt(ctx: Ctx) -> Reply:
    lines = [
        ctx.t(
            N_(
                "NIK dan tanggal lahir cocok. Tetapi tanggal lahir sudah tertulis di dalam NIK, "
                "jadi belum cukup untuk memastikan ini Bapak/Ibu. Data belum kami tampilkan."
            )
        )
    ]
    if chat_phone(ctx.chat):
        lines.append(ctx.t(N_("Nomor WhatsApp ini tidak sama dengan nomor HP di data kami.")))
    elif ctx.chat.channel == "whatsapp":
        # A user with a WhatsApp username may not show us their number (Meta's BSUID).
        lines.append(ctx.t(N_("Nomor WhatsApp Bapak/Ibu tidak terlihat oleh kami.")))
    lines.append(ctx.t(N_("Pilih satu cara untuk memastikan:")))
    return Reply(text="\n".join(lines))


async def _verify_choices(ctx: Ctx) -> list[Option]:
    options = []
    if _can_share_phone(ctx):
        options.append(
            Option(id="phone", label=N_("Kirim nomor HP"), description=N_("Nomor HP di data kami"))
        )
    if await _can_send_code(ctx):
        options.append(
            Option(
                id="wa_code",
                label=N_("Kode lewat WhatsApp"),
                description=N_("Dikirim ke nomor HP di data kami"),
            )
        )
    options += [
        Option(id="kpj", label=N_("Nomor kartu KPJ"), description=N_("11 angka di kartu BPJS TK")),
        Option(id="kk", label=N_("Nomor KK"), description=N_("16 angka di Kartu Keluarga")),
        Option(id="desk", label=N_("Lewat pendamping"), description=N_("Tunjukkan KTP di desa")),
        Option(id="menu", label=N_("Menu utama")),
    ]
    pending = await services.pending_worker(ctx.tx, ctx.chat.id, now=ctx.now)
    if pending is not None and not await services.kk_counts_for(
        ctx.tx, chat_id=ctx.chat.id, worker=pending
    ):
        # Another household's worker: the KK number, which the family holds, does not count.
        options = [o for o in options if o.id != "kk"]
    return options


async def _can_send_code(ctx: Ctx) -> bool:
    """Factor (b) is offered when WhatsApp sends and the roster has a phone: off WhatsApp, and on
    a WhatsApp chat whose number we do not see (a username user: the code reaches them here if
    the roster phone is theirs)."""
    if "whatsapp" not in ctx.engine.outbound_channels:
        return False
    if chat_phone(ctx.chat):
        return False
    worker = await services.pending_worker(ctx.tx, ctx.chat.id, now=ctx.now)
    return worker is not None and bool(worker.phone)


async def _verify_next(ctx: Ctx, value: str) -> Outcome:
    if value == "menu":
        return Goto("menu")
    if value == "wa_code":
        try:
            masked = await services.send_phone_code(ctx.tx, chat_id=ctx.chat.id, now=ctx.now)
        except RateLimited as exc:
            return await _factor_failed(ctx, exc, N_("Silakan pilih cara lain."))
        except NotFound:
            return Goto("link")
        return Next(
            "wa_code",
            (
                ctx.t(
                    N_(
                        "Kode 6 angka sudah kami kirim lewat WhatsApp ke nomor {phone} (nomor di "
                        "data kami). Berlaku 15 menit."
                    ),
                    phone=masked,
                ),
            ),
        )
    if value == "desk":
        try:
            code, until = await services.issue_desk_code(ctx.tx, chat_id=ctx.chat.id, now=ctx.now)
        except NotFound:
            return Goto("link")
        return End(
            (
                ctx.t(
                    N_(
                        "Kode verifikasi: {code}\nTemui pendamping desa dengan membawa KTP, lalu "
                        "tunjukkan kode ini. Setelah pendamping mencocokkan KTP, data Bapak/Ibu "
                        "bisa dilihat di chat ini. Kode berlaku sampai {until}."
                    ),
                    code=code,
                    until=ctx.t.date(until.astimezone(ctx.engine.tz).date()),
                ),
            )
        )
    return value


async def _factor_failed(
    ctx: Ctx, exc: Exception, again: str, *, retry_step: str = "verify"
) -> Outcome:
    if isinstance(exc, Conflict):
        return _limit(ctx)
    if isinstance(exc, NotAuthorised):
        return Next("verify", (ctx.t(OTHER_HOUSEHOLD),))
    if isinstance(exc, RateLimited):
        until = datetime.fromisoformat(str(exc.params["until"]))
        return End(
            (
                _locked_message(ctx, until)
                + "\n"
                + ctx.t(N_("Cara lewat pendamping desa tetap bisa dipakai.")),
            )
        )
    if isinstance(exc, NotFound) and exc.code == "link.no_pending":
        return Goto("link")
    return Next(retry_step, (ctx.t(again),))


def _factor_next(
    verify: Callable[..., Awaitable[Worker]],
    field: str,
    *,
    again: str,
    retry_step: str = "verify",
    **fixed: str,
) -> Callable[[Ctx, str], Awaitable[Outcome]]:
    """The ``next`` of a second-factor step: the service checks the answer (as ``field``); a
    match links the chat, a miss says why (``again``, on ``retry_step``), "Cara lain" goes back
    to the choice of factors."""

    async def _next(ctx: Ctx, value: str) -> Outcome:
        if value == "other":
            return "verify"
        try:
            worker = await verify(
                ctx.tx,
                chat_id=ctx.chat.id,
                now=ctx.now,
                channel=ctx.chat.channel,
                user_ref=ctx.chat.user_ref,
                max_links=ctx.engine.max_links_per_chat,
                **{field: value},
                **fixed,
            )
        except (NotFound, RateLimited, Conflict, NotAuthorised) as exc:
            return await _factor_failed(ctx, exc, again, retry_step=retry_step)
        ctx.chat.worker_id = ctx.chat.worker_id or worker.id
        return _linked(ctx, worker)

    return _next


async def _phone_parse(ctx: Ctx, answer: Answer) -> str:
    if answer.option is not None:
        return "other"
    if not answer.contact_phone:
        raise Invalid(
            N_(
                'Mohon tekan tombol "Kirim nomor HP saya" di bawah. Nomor yang diketik tidak bisa '
                "kami periksa."
            )
        )
    return answer.contact_phone


async def _code_parse(ctx: Ctx, answer: Answer) -> str:
    if answer.option is not None:
        return "other"
    digits = "".join(ch for ch in (answer.text or "") if ch.isdigit())
    if len(digits) != 6:
        raise Invalid(N_("Mohon ketik 6 angka kode yang dikirim lewat WhatsApp."))
    return digits


_phone_next = _factor_next(
    services.verify_by_phone,
    "phone",
    again=N_("Nomor HP itu tidak sama dengan nomor di data kami. Silakan pilih cara lain."),
)
# A wrong code stays here: a typo can be typed again (five wrong codes void the code).
_code_next = _factor_next(
    services.verify_by_phone_code,
    "code",
    again=N_(
        "Kode itu salah atau sudah tidak berlaku. Ketik lagi, atau pilih Cara "
        "lain untuk meminta kode baru."
    ),
    retry_step="wa_code",
)
_FACT_AGAIN = N_(
    "Nomor itu belum cocok dengan data kami. Silakan periksa lagi, atau pilih cara lain."
)


async def _digits_parse(ctx: Ctx, answer: Answer) -> str:
    digits = "".join(ch for ch in (answer.text or "") if ch.isdigit())
    if len(digits) not in (11, 16):
        raise Invalid(N_("Mohon ketik nomornya saja: 11 angka (KPJ) atau 16 angka (KK)."))
    return digits


OTHER_WAY = Option(id="other", label=N_("Cara lain"), aliases=("lain", "cara lain"))


async def _nik_prompt(ctx: Ctx) -> str:
    if ctx.data.get("add"):
        return ctx.t(
            N_(
                "Tambah keluarga di nomor ini. Ketik NIK orang yang akan ditambahkan: 16 angka di "
                "KTP atau KK."
            )
        )
    return ctx.t(
        N_(
            "Kami cocokkan data Bapak/Ibu dulu. Ketik NIK (Nomor Induk Kependudukan): 16 "
            "angka di KTP atau KK."
        )
    )


async def _dob_prompt(ctx: Ctx) -> str:
    if ctx.data.get("add"):
        return ctx.t(N_("Terima kasih. Kapan tanggal lahirnya? Contoh: 15-05-1978."))
    return ctx.t(N_("Terima kasih. Kapan tanggal lahir Bapak/Ibu? Contoh: 15-05-1978."))


LINK = Flow(
    name="link",
    on_start=_on_start,
    steps=(
        Step(
            name="nik",
            prompt=_nik_prompt,
            parse=parse_nik_answer,
            save_as="nik",
            next="dob",
            help=N_("NIK ada di KTP (baris paling atas) atau di Kartu Keluarga, 16 angka."),
        ),
        Step(
            name="dob",
            prompt=_dob_prompt,
            parse=_dob_parse,
            save_as="birth_date",
            next=_dob_next,
        ),
        Step(
            name="no_match",
            prompt=NO_MATCH,
            choices=NO_MATCH_CHOICES,
            free_text=True,
            parse=_no_match_parse,
            next=_no_match_next,
            max_len=40,
        ),
        Step(
            name="verify",
            prompt=_verify_prompt,
            choices=_verify_choices,
            next=_verify_next,
            help=N_(
                "Nomor HP harus sama dengan nomor di data program. KPJ ada di kartu BPJS "
                "Ketenagakerjaan; nomor KK ada di bagian atas Kartu Keluarga. Pendamping desa juga "
                "bisa memastikan dengan melihat KTP."
            ),
        ),
        Step(
            name="phone",
            prompt=N_(
                'Tekan tombol "Kirim nomor HP saya" di bawah. Kami cocokkan dengan nomor HP di data '
                "program."
            ),
            request="contact",
            choices=(OTHER_WAY,),
            free_text=True,
            parse=_phone_parse,
            next=_phone_next,
        ),
        Step(
            name="wa_code",
            prompt=N_(
                "Ketik kode 6 angka dari WhatsApp di sini. Kode itu hanya untuk chat ini: jangan "
                "berikan kepada siapa pun, termasuk yang mengaku petugas."
            ),
            choices=(OTHER_WAY,),
            free_text=True,
            parse=_code_parse,
            next=_code_next,
        ),
        Step(
            name="kpj",
            prompt=N_("Ketik nomor KPJ di kartu BPJS Ketenagakerjaan Bapak/Ibu (11 angka)."),
            parse=_digits_parse,
            next=_factor_next(services.verify_by_fact, "value", again=_FACT_AGAIN, kind="kpj"),
        ),
        Step(
            name="kk",
            prompt=N_("Ketik nomor KK (Kartu Keluarga) Bapak/Ibu: 16 angka di bagian atas kartu."),
            parse=_digits_parse,
            next=_factor_next(services.verify_by_fact, "value", again=_FACT_AGAIN, kind="kk"),
        ),
    ),
)


async def link_freshness_hook(ctx: Ctx) -> list[Reply] | None:
    """Before every message of a linked chat: a link idle too long expires (recycled numbers)."""
    if ctx.chat.worker_id is None:
        return None
    alive = await services.refresh_link(
        ctx.tx, chat_id=ctx.chat.id, worker_id=ctx.chat.worker_id, now=ctx.now
    )
    if not alive:
        ctx.chat.worker_id = None
        if ctx.chat.active_role == "worker":
            ctx.chat.active_role = "public"
        # Whatever the last owner left half-typed goes too.
        ctx.state.data.clear()
        ctx.state.stack.clear()
        ctx.state.draft = None
        ctx.state.flow, ctx.state.step = ctx.engine.menu_flow, "main"
    return None
