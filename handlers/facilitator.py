"""Facilitators (pendamping desa, Perisai agents): bind codes and the facilitator's desk.

The desk: register a worker on the spot, find workers, read the scope's summary, follow up leads,
claims with missing documents and tickets, and reply to tickets. Every list, detail and action
re-reads the facilitator row (not revoked, still bound to this chat) and checks the record's desa
against the scope in SQL, so a forged choice id or a revocation between two messages yields
nothing. Everything a facilitator does is audited (who, what, which record, channel, when).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

from rapidfuzz import fuzz, process

from handlers.common import (
    CANCEL,
    EDIT,
    YES,
    coverage_text,
    honorific,
    masked,
    parse_birth_date,
    parse_name,
    parse_phone,
    place_of,
    sector_label,
    sector_options,
    worker_coverage,
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
    Stay,
    Step,
    command_of,
    match_option,
)
from handlers.i18n import N_, TZ
from lingkaran_core import services
from lingkaran_core.claims import FINAL_STATES
from lingkaran_core.coverage import CoverageStatus
from lingkaran_core.errors import Conflict, NotFound
from lingkaran_core.facilitators import (
    CODE_ALPHABET,
    CODE_LENGTH,
    Facilitator,
    facilitator_by_id,
    redeem_code,
)
from lingkaran_core.identity import mask_phone, parse_nik
from lingkaran_core.regions import load_regions
from lingkaran_core.rules import MAX_AGE, MIN_AGE
from lingkaran_core.storage import Tx
from lingkaran_core.storage import chats as chat_store
from lingkaran_core.storage.db import loads
from lingkaran_core.storage.repos import (
    CLAIM_COLS,
    WORKER_COLS,
    Claim,
    Worker,
    claim_by_ref,
    claim_from_row,
    received_kinds,
    worker_by_id,
    worker_by_nik,
    worker_from_row,
)

logger = logging.getLogger(__name__)

ROLES = frozenset({"facilitator"})
PAGE = 5  # workers per page (search results, summary lists)
LIST_PAGE = 8  # claims, leads, tickets per page (+ next + menu <= 10 options)
DESA_PAGE = 9
MAX_BIND_FAILURES = 5
BIND_WINDOW = timedelta(hours=1)
ESCALATE_AFTER_WORKING_DAYS = 2
MAX_MESSAGE = 1000
NAME_SCORE_CUTOFF = 70.0
_CODE_CHARS = frozenset(CODE_ALPHABET)
_CODE_JUNK = re.compile(r"[\s\-_.]+")

MENU = Option(id="menu", label=N_("Menu pendamping"), aliases=("menu", "menu pendamping"))
NEXT_PAGE = Option(id="more", label=N_("Berikutnya"), aliases=("lanjut", "berikut", "next"))
BACK = Option(id="back_list", label=N_("Kembali"), aliases=("kembali ke daftar",))
NO_ACCESS = N_("Maaf, menu itu hanya untuk pendamping yang masih aktif.")

# ---------------------------------------------------------------------------------------------
# Scope and audit


async def current_facilitator(ctx: Ctx) -> Facilitator | None:
    """The chat's facilitator, only while the facilitator menu is active, bound and unrevoked."""
    if ctx.role != "facilitator" or ctx.chat.facilitator_id is None:
        return None
    found = await facilitator_by_id(ctx.tx, ctx.chat.facilitator_id)
    if found is None or found.revoked or found.bound_chat_id != ctx.chat.id:
        return None
    return found


def scope_clause(f: Facilitator, column: str) -> tuple[str, tuple[object, ...]]:
    """A parameterised SQL condition: ``column`` (a desa code) lies in the facilitator's scope."""
    if f.scope_kind == "desa":
        return f"{column} = ?", (f.scope_code,)
    return f"substr({column}, 1, ?) = ?", (len(f.scope_code) + 1, f.scope_code + ".")


async def covers(ctx: Ctx, desa_code: str | None) -> bool:
    """Whether this chat's active facilitator covers a desa (re-read from the database)."""
    f = await current_facilitator(ctx)
    if f is None or not desa_code:
        return False
    return await services.facilitator_covers(ctx.tx, f.id, desa_code)


async def _audit(
    ctx: Ctx,
    action: str,
    target_kind: str | None = None,
    target_id: str | int | None = None,
    **details: Any,
) -> None:
    await services.audit(
        ctx.tx,
        now=ctx.now,
        actor_kind="facilitator",
        actor_id=ctx.chat.facilitator_id,
        action=action,
        target_kind=target_kind,
        target_id=target_id,
        channel=ctx.chat.channel,
        details=details or None,
    )


def scope_name(ctx: Ctx, f: Facilitator) -> str:
    """``Desa Sukoreno, Kecamatan Kalisat`` or ``Kecamatan Kalisat``."""
    regions = load_regions()
    if f.scope_kind == "desa":
        desa, kec = place_of(f.scope_code)
        return ctx.t(N_("Desa {desa}, Kecamatan {kec}"), desa=desa, kec=kec)
    kecamatan = regions.kecamatan(f.scope_code)
    return ctx.t(
        N_("Kecamatan {kec}"), kec=kecamatan.name if kecamatan is not None else f.scope_code
    )


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _ago(ctx: Ctx, instant: str) -> str:
    days = (ctx.today - datetime.fromisoformat(instant).astimezone(TZ).date()).days
    if days <= 0:
        return ctx.t(N_("hari ini"))
    if days == 1:
        return ctx.t(N_("kemarin"))
    return ctx.t(N_("{n} hari lalu"), n=days)


def _page_of(items: Sequence[Any], page: int, size: int) -> tuple[list[Any], bool]:
    start = page * size
    return list(items[start : start + size]), len(items) > start + size


async def _no_access(ctx: Ctx) -> Outcome:
    logger.warning("facilitator flow refused", extra={"chat_id": ctx.chat.id})
    return End((ctx.t(NO_ACCESS),))


# ---------------------------------------------------------------------------------------------
# The hook: bind codes, revocation on the next message, worker answers to a ticket


def code_candidate(text: str | None) -> tuple[str, bool] | None:
    """``(code, strong)`` when a message could be a bind code; strong: it really looks like one.

    A Telegram deep link arrives as ``/start CODE``. Ordinary words of 8 letters from the alphabet
    (``MUHAMMAD``, ``TERUSKAN``) are tried quietly but never answered with "invalid code"; a mix
    of letters and digits, a message in capitals or a deep link is answered.
    """
    if not text:
        return None
    raw = text.strip()
    deep = raw.lower().startswith("/start")
    if deep:
        raw = raw[len("/start") :].strip()
    compact = _CODE_JUNK.sub("", raw)
    if len(compact) != CODE_LENGTH or not set(compact.upper()) <= _CODE_CHARS:
        return None
    has_digit = any(c.isdigit() for c in compact)
    has_alpha = any(c.isalpha() for c in compact)
    strong = deep or (has_digit and has_alpha) or (has_alpha and compact.isupper())
    return compact.upper(), strong


def _in_free_text_step(ctx: Ctx) -> bool:
    """Whether the chat is in a step that could take any text (a name, a message...)."""
    if ctx.state.flow == ctx.engine.menu_flow:
        return False
    flow = ctx.engine.flows.get(ctx.state.flow)
    step = flow.by_name.get(ctx.state.step) if flow is not None else None
    if step is None:
        return False
    return step.free_text or not step.choices


async def bind_code_hook(ctx: Ctx) -> list[Reply] | None:
    """Before every message: end revoked access, redeem bind codes, pass answers to tickets."""
    ended = await _end_revoked_access(ctx)
    if ended is not None:
        return ended
    if ctx.incoming.choice_id is None:
        candidate = code_candidate(ctx.incoming.text)
        if candidate is not None:
            handled = await _try_bind(ctx, *candidate)
            if handled is not None:
                return handled
    return await _answer_to_ticket(ctx)


async def _end_revoked_access(ctx: Ctx) -> list[Reply] | None:
    """Revocation takes effect on the next message: drop the role, say so, show the menu."""
    chat = ctx.chat
    ended = False
    if chat.facilitator_id is not None:
        found = await facilitator_by_id(ctx.tx, chat.facilitator_id)
        ended = found is None or found.revoked or found.bound_chat_id != chat.id
    elif chat.active_role == "facilitator":
        ended = True
    if chat.revoke_pending:  # loaded with the chat, so most messages cost no query here
        told = await ctx.tx.execute_rowcount(
            "UPDATE facilitators SET revoke_notified_at = ? WHERE bound_chat_id = ? "
            "AND revoked_at IS NOT NULL AND revoke_notified_at IS NULL",
            (ctx.now.isoformat(), chat.id),
        )
        ended = ended or told > 0
    if (
        not ended
        and chat.active_role != "facilitator"
        and (ctx.state.flow in FLOW_NAMES or ctx.state.data.get("by_facilitator"))
    ):
        # Revoked (or re-issued) in the middle of a facilitator task.
        ended = True
    if not ended:
        return None
    role = "worker" if chat.worker_id is not None else "public"
    await chat_store.update_chat(ctx.tx, chat.id, facilitator_id=None, active_role=role)
    chat.facilitator_id = None
    chat.active_role = role
    await services.audit(
        ctx.tx,
        now=ctx.now,
        actor_kind="system",
        actor_id=None,
        action="facilitator.access_ended",
        target_kind="chat",
        target_id=chat.id,
        channel=chat.channel,
    )
    note = ctx.t(
        N_(
            "Akses pendamping untuk nomor ini sudah berakhir. Jika ini keliru, hubungi petugas "
            "Pemkab Jember."
        )
    )
    return [Reply(text=note), *await ctx.engine.show_menu(ctx)]


async def _bind_failures(ctx: Ctx) -> int:
    since = (ctx.now - BIND_WINDOW).isoformat()
    return int(
        await ctx.tx.scalar(
            "SELECT COUNT(*) FROM bind_code_failures WHERE chat_id = ? AND at > ?",
            (ctx.chat.id, since),
        )
    )


async def _try_bind(ctx: Ctx, code: str, strong: bool) -> list[Reply] | None:
    free = _in_free_text_step(ctx)
    if free and not strong:
        return None  # a name or a message that happens to look like a code
    if await _bind_failures(ctx) >= MAX_BIND_FAILURES:
        if free or not strong:
            return None
        await services.audit(
            ctx.tx,
            now=ctx.now,
            actor_kind="chat",
            actor_id=ctx.chat.id,
            action="facilitator.bind_limited",
            channel=ctx.chat.channel,
        )
        text = ctx.t(
            N_(
                "Terlalu banyak kode yang tidak berlaku dari nomor ini. Mohon coba lagi 1 jam "
                "lagi, atau minta kode baru ke petugas Pemkab Jember."
            )
        )
        return [Reply(text=text), *await ctx.engine.prompt(ctx)]
    found = await redeem_code(ctx.tx, code=code, chat_id=ctx.chat.id, now=ctx.now)
    if found is None:
        await ctx.tx.execute(
            "INSERT INTO bind_code_failures (chat_id, at) VALUES (?, ?)",
            (ctx.chat.id, ctx.now.isoformat()),
        )
        await services.audit(
            ctx.tx,
            now=ctx.now,
            actor_kind="chat",
            actor_id=ctx.chat.id,
            action="facilitator.bind_failed",
            channel=ctx.chat.channel,
        )
        if free or not strong:
            return None
        # Never say whether the code existed, expired or was used already.
        text = ctx.t(
            N_(
                "Kode tidak berlaku. Mohon periksa lagi, atau minta kode baru ke petugas Pemkab "
                "Jember."
            )
        )
        return [Reply(text=text), *await ctx.engine.prompt(ctx)]
    await ctx.tx.execute("DELETE FROM bind_code_failures WHERE chat_id = ?", (ctx.chat.id,))
    ctx.chat.facilitator_id = found.id
    ctx.chat.active_role = "facilitator"
    welcome = ctx.t(
        N_("Kode diterima (kini tidak berlaku lagi). Selamat datang, {name}, pendamping {scope}."),
        name=found.name,
        scope=scope_name(ctx, found),
    )
    return [Reply(text=welcome), *await ctx.engine.show_menu(ctx)]


async def _answer_to_ticket(ctx: Ctx) -> list[Reply] | None:
    """Free text at the main menu goes to the chat's ticket that staff already answered."""
    from handlers.intents import classify
    from handlers.menu import menu_choices

    inc = ctx.incoming
    if ctx.role == "facilitator" or inc.choice_id is not None or inc.media is not None:
        return None
    if ctx.state.flow != ctx.engine.menu_flow or ctx.state.step != "main":
        return None
    text = (inc.text or "").strip()
    if len(text) < 2 or len(text) > MAX_MESSAGE or text.isdigit() or command_of(inc):
        return None
    if match_option(await menu_choices(ctx), inc, ctx.t) is not None:
        return None
    ticket = await ctx.tx.scalar(
        "SELECT t.id FROM tickets t WHERE t.chat_id = ? AND t.status != 'closed' AND EXISTS "
        "(SELECT 1 FROM ticket_messages m WHERE m.ticket_id = t.id AND m.sender != 'user') "
        "ORDER BY t.id DESC LIMIT 1",
        (ctx.chat.id,),
    )
    if ticket is None:
        return None
    intent = classify(text).intent
    if intent is not None and intent != "thanks":
        return None  # a question the menu can answer
    # Unless it is only a thank-you, the worker is waiting again (and the ticket may escalate).
    ticket_id = await services.open_ticket(
        ctx.tx,
        chat_id=ctx.chat.id,
        body=text,
        now=ctx.now,
        channel=ctx.chat.channel,
        reopen=intent != "thanks",
    )
    note = ctx.t(
        N_("Pesan diteruskan ke petugas ({ticket})."), ticket=services.ticket_ref(ticket_id)
    )
    menu = await ctx.engine.show_menu(ctx)
    last = menu[-1]
    return [
        *menu[:-1],
        Reply(text=f"{note}\n\n{last.text}", choices=last.choices, step_token=last.step_token),
    ]


# ---------------------------------------------------------------------------------------------
# Register a worker on the spot

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
        return await _no_access(ctx)
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


async def _nik_prompt(ctx: Ctx) -> str:
    text = ctx.t(N_("Berapa NIK pekerja? (16 angka di KTP/KK)"))
    if ctx.data.get("lead_id"):
        text = ctx.t(N_("Daftarkan calon peserta.")) + " " + text
    return text


async def _nik_parse(ctx: Ctx, answer: Answer) -> str:
    if answer.option is not None:
        return answer.option.id
    return parse_nik(answer.text or "", today=ctx.today).value


async def _nik_next(ctx: Ctx, nik: str) -> Outcome:
    if nik == "menu":
        return End()
    existing = await worker_by_nik(ctx.tx, nik)
    if existing is not None:
        await _audit(ctx, "worker.register_duplicate", "worker", existing.id)
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
                status=_status_short(ctx, existing),
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
    return await _advance(ctx, "nik")


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
    shown, more = _page_of(all_desa, page, DESA_PAGE)
    options = [Option(id="d:" + d.code, label=_short(d.name, 20), translate=False) for d in shown]
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
        await _audit(ctx, "worker.register_out_of_scope", "desa", code)
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
        await _audit(ctx, "worker.register_no_consent")
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
        return await _no_access(ctx)
    if not await covers(ctx, d.get("desa_code")):
        await _audit(ctx, "worker.register_out_of_scope", "desa", d.get("desa_code"))
        raise Invalid(N_("Desa itu di luar wilayah Bapak/Ibu. Mohon pilih dari daftar."))
    if not d.get("consent_at"):
        return "consent"
    if await worker_by_nik(ctx.tx, d["nik"]) is not None:
        # Registered meanwhile (another facilitator, an import): never a second record.
        return End(
            (
                ctx.t(
                    N_("NIK {nik} baru saja terdaftar. Tidak disimpan dua kali."),
                    nik=masked(d["nik"]),
                ),
            )
        )
    worker_id = await ctx.tx.execute(
        "INSERT INTO workers (nik, name, birth_date, sex, desa_code, sector, occupation, phone, "
        "registration_status, registered_by, consent_at, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'registered', ?, ?, ?, ?)",
        (
            d["nik"],
            d["name"],
            d["dob"],
            d["sex"],
            d["desa_code"],
            d["sector"],
            d.get("occupation"),
            d.get("phone"),
            f.id,
            d["consent_at"],
            ctx.now.isoformat(),
            ctx.now.isoformat(),
        ),
    )
    await _audit(
        ctx,
        "worker.register",
        "worker",
        worker_id,
        desa_code=d["desa_code"],
        sector=d["sector"],
        dob_mismatch=bool(d.get("dob_mismatch")),
    )
    lead_id = d.get("lead_id")
    if lead_id:
        clause, params = scope_clause(f, "desa_code")
        changed = await ctx.tx.execute_rowcount(
            f"UPDATE leads SET status = 'registered', updated_at = ? WHERE id = ? AND {clause}",
            (ctx.now.isoformat(), int(lead_id), *params),
        )
        if changed:
            await _audit(ctx, "lead.registered", "lead", int(lead_id), worker_id=worker_id)
    worker = await worker_by_id(ctx.tx, worker_id)
    assert worker is not None
    logger.info("worker registered", extra={"worker_id": worker_id, "facilitator_id": f.id})
    ctx.data.clear()
    ctx.data["saved"] = ctx.t(
        N_("Tersimpan. Pemkab akan mengecek. {who} belum dilindungi sampai disetujui."),
        who=honorific(ctx, worker),
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
    return str(ctx.data.get("saved") or ctx.t(N_("Tersimpan.")))


async def _done_next(ctx: Ctx, value: str) -> Outcome:
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
            next=_done_next,
        ),
    ),
)


# ---------------------------------------------------------------------------------------------
# Find a worker


def _status_short(ctx: Ctx, worker: Worker) -> str:
    key = worker_status_key(ctx, worker)
    return ctx.t(STATUS_LABELS[key]).capitalize() + "."


STATUS_LABELS: dict[str, str] = {
    "registered": N_("menunggu dicek Pemkab"),
    "rejected": N_("pendaftaran belum disetujui"),
    CoverageStatus.PROTECTED: N_("dilindungi"),
    CoverageStatus.ARREARS: N_("iuran belum tercatat"),
    CoverageStatus.NOT_STARTED: N_("perlindungan belum mulai"),
    CoverageStatus.NON_ACTIVE: N_("kepesertaan tidak aktif"),
    CoverageStatus.NOT_ENROLLED: N_("belum terdaftar"),
}


def worker_status_key(ctx: Ctx, worker: Worker) -> str:
    """``registered`` / ``rejected`` or the coverage status of a verified worker."""
    if worker.registration_status in ("registered", "rejected"):
        return worker.registration_status
    return str(worker_coverage(worker, ctx).status)


async def _scoped_worker(ctx: Ctx, worker_id: object) -> Worker | None:
    """A worker by id, only when in this facilitator's scope."""
    try:
        wid = int(str(worker_id))
    except ValueError:
        return None
    worker = await worker_by_id(ctx.tx, wid)
    if worker is None or not await covers(ctx, worker.desa_code):
        if worker is not None:
            logger.warning("worker outside scope refused", extra={"chat_id": ctx.chat.id})
            await _audit(ctx, "worker.refused", "worker", wid)
        return None
    return worker


async def _find_start(ctx: Ctx) -> Outcome | None:
    if await current_facilitator(ctx) is None:
        return await _no_access(ctx)
    return None


async def _query_parse(ctx: Ctx, answer: Answer) -> list[int]:
    f = await current_facilitator(ctx)
    if f is None:
        raise Invalid(NO_ACCESS)
    query = " ".join((answer.text or "").split())
    digits = re.sub(r"[\s.\-]", "", query)
    if digits.isdigit():
        nik = parse_nik(digits, today=ctx.today).value
        worker = await worker_by_nik(ctx.tx, nik)
        found = [worker.id] if worker is not None and await covers(ctx, worker.desa_code) else []
        await _audit(ctx, "worker.search", by="nik", nik=masked(nik), found=len(found))
        if not found:
            raise Invalid(
                N_("Tidak ada pekerja dengan NIK {nik} di wilayah Bapak/Ibu."), nik=masked(nik)
            )
        return found
    if sum(ch.isalpha() for ch in query) < 2:
        raise Invalid(N_("Mohon ketik NIK (16 angka) atau nama pekerja."))
    clause, params = scope_clause(f, "desa_code")
    rows = await ctx.tx.all(f"SELECT id, name FROM workers WHERE {clause}", params)
    names = {r["id"]: r["name"].casefold() for r in rows}
    matches = process.extract(
        query.casefold(),
        names,
        scorer=fuzz.WRatio,
        limit=50,
        score_cutoff=NAME_SCORE_CUTOFF,
    )
    ordered = sorted(matches, key=lambda m: (-m[1], m[0]))
    found = [int(m[2]) for m in ordered]
    await _audit(ctx, "worker.search", by="name", found=len(found))
    if not found:
        raise Invalid(N_('Tidak ada pekerja bernama "{name}" di wilayah Bapak/Ibu.'), name=query)
    return found


async def _query_next(ctx: Ctx, found: list[int]) -> Outcome:
    ctx.data["results"] = found
    ctx.data["page"] = 0
    if len(found) == 1:
        ctx.data["worker_id"] = found[0]
        return "detail"
    return "results"


async def _results_prompt(ctx: Ctx) -> str:
    n = len(ctx.data.get("results") or [])
    page = int(ctx.data.get("page", 0))
    pages = max((n + PAGE - 1) // PAGE, 1)
    return ctx.t(
        N_("Ditemukan {n} pekerja (halaman {page} dari {pages}). Pilih satu:"),
        n=n,
        page=page + 1,
        pages=pages,
    )


async def _results_choices(ctx: Ctx) -> list[Option]:
    ids = list(ctx.data.get("results") or [])
    shown, more = _page_of(ids, int(ctx.data.get("page", 0)), PAGE)
    options: list[Option] = []
    for wid in shown:
        worker = await _scoped_worker(ctx, wid)
        if worker is None:
            continue
        desa, _ = place_of(worker.desa_code)
        options.append(
            Option(
                id=f"w:{worker.id}",
                label=_short(worker.name, 20),
                description=f"{masked(worker.nik)}, {desa}",
                translate=False,
            )
        )
    if more:
        options.append(NEXT_PAGE)
    options.append(Option(id="again", label=N_("Cari lagi"), aliases=("cari", "cari lagi")))
    options.append(MENU)
    return options


def _paging(ctx: Ctx, value: str) -> Outcome | None:
    """The "Berikutnya" and "Menu pendamping" rows every scoped list ends with."""
    if value == "more":
        ctx.data["page"] = int(ctx.data.get("page", 0)) + 1
        return Stay()
    if value == "menu":
        return End()
    return None


async def _results_next(ctx: Ctx, value: str) -> Outcome:
    if value == "again":
        return "query"
    if (paged := _paging(ctx, value)) is not None:
        return paged
    worker = await _scoped_worker(ctx, value.removeprefix("w:"))
    if worker is None:
        raise Invalid(N_("Pekerja itu tidak ada di wilayah Bapak/Ibu."))
    ctx.data["worker_id"] = worker.id
    return "detail"


async def _open_claims_of(ctx: Ctx, worker: Worker) -> list[Claim]:
    finals = [str(s) for s in FINAL_STATES]
    marks = ", ".join("?" for _ in finals)
    rows = await ctx.tx.all(
        f"SELECT {CLAIM_COLS} FROM claims WHERE worker_id = ? AND status NOT IN ({marks}) "
        "ORDER BY id DESC",
        (worker.id, *finals),
    )
    return [claim_from_row(r) for r in rows]


async def worker_card(ctx: Ctx, worker: Worker) -> str:
    """What a facilitator sees of a worker of their scope (NIK and phone masked)."""
    from handlers.my_claims import status_words, type_words

    t = ctx.t
    desa, kec = place_of(worker.desa_code)
    work = sector_label(ctx, worker.sector)
    if worker.occupation:
        work += f" ({worker.occupation})"
    lines = [
        f"{honorific(ctx, worker)}, NIK {masked(worker.nik)}",
        t(
            N_("Lahir {dob}. Desa {desa}, Kec. {kec}."),
            dob=t.date(worker.birth_date),
            desa=desa,
            kec=kec,
        ),
        t(N_("Pekerjaan: {work}."), work=work),
        t(
            N_("HP: {phone}."),
            phone=mask_phone(worker.phone) if worker.phone else t(N_("belum ada")),
        ),
        coverage_text(ctx, worker, worker_coverage(worker, ctx)),
    ]
    claims = await _open_claims_of(ctx, worker)
    if claims:
        lines.append(t(N_("Laporan yang masih berjalan:")))
        lines += [
            f"- {c.ref} ({type_words(ctx, c).lower()}): {status_words(ctx, c.status)}"
            for c in claims[:5]
        ]
    else:
        lines.append(t(N_("Tidak ada laporan yang masih berjalan.")))
    return "\n".join(lines)


async def _detail_prompt(ctx: Ctx) -> str:
    worker = await _scoped_worker(ctx, ctx.data.get("worker_id"))
    if worker is None:
        return ctx.t(N_("Pekerja itu tidak ada di wilayah Bapak/Ibu."))
    await _audit(ctx, "worker.view", "worker", worker.id)
    return await worker_card(ctx, worker)


async def _detail_choices(ctx: Ctx) -> list[Option]:
    options: list[Option] = []
    if len(ctx.data.get("results") or []) > 1:
        options.append(BACK)
    options.append(Option(id="again", label=N_("Cari lagi"), aliases=("cari", "cari lagi")))
    options.append(MENU)
    return options


async def _detail_next(ctx: Ctx, value: str) -> Outcome:
    if value == "back_list":
        return "results"
    if value == "again":
        return "query"
    return End()


FAC_FIND = Flow(
    name="fac_find",
    roles=ROLES,
    on_start=_find_start,
    steps=(
        Step(
            name="query",
            prompt=N_("Ketik NIK (16 angka) atau nama pekerja."),
            parse=_query_parse,
            next=_query_next,
            max_len=80,
        ),
        Step(name="results", prompt=_results_prompt, choices=_results_choices, next=_results_next),
        Step(name="detail", prompt=_detail_prompt, choices=_detail_choices, next=_detail_next),
    ),
)


# ---------------------------------------------------------------------------------------------
# Summary of the scope


async def _scope_workers(ctx: Ctx) -> list[Worker]:
    f = await current_facilitator(ctx)
    if f is None:
        return []
    clause, params = scope_clause(f, "desa_code")
    rows = await ctx.tx.all(
        f"SELECT {WORKER_COLS} FROM workers WHERE {clause} AND deceased_on IS NULL "
        "ORDER BY name, id",
        params,
    )
    return [worker_from_row(r) for r in rows]


def _worker_line(ctx: Ctx, i: int, worker: Worker) -> str:
    desa, _ = place_of(worker.desa_code)
    return f"{i}. {honorific(ctx, worker)} ({masked(worker.nik)}), {desa}"


async def _summary_lists(ctx: Ctx) -> dict[str, list[Worker]]:
    workers = await _scope_workers(ctx)
    return {
        "arrears": [w for w in workers if worker_status_key(ctx, w) == CoverageStatus.ARREARS],
        "nophone": [w for w in workers if not w.phone],
        "all": workers,
    }


async def _summary_start(ctx: Ctx) -> Outcome | None:
    if await current_facilitator(ctx) is None:
        return await _no_access(ctx)
    await _audit(ctx, "scope.summary")
    return None


async def _summary_prompt(ctx: Ctx) -> str:
    t = ctx.t
    f = await current_facilitator(ctx)
    if f is None:
        return t(NO_ACCESS)
    lists = await _summary_lists(ctx)
    workers = lists["all"]
    lines = [
        t(
            N_("Ringkasan {scope} ({date}): {n} pekerja."),
            scope=scope_name(ctx, f),
            date=t.date(ctx.today),
            n=len(workers),
        )
    ]
    if not workers:
        return lines[0]
    by_sector: dict[str, int] = {}
    by_status: dict[str, int] = {}
    for w in workers:
        by_sector[w.sector] = by_sector.get(w.sector, 0) + 1
        key = worker_status_key(ctx, w)
        by_status[key] = by_status.get(key, 0) + 1
    lines.append(t(N_("Per pekerjaan:")))
    lines += [
        f"- {sector_label(ctx, s)}: {n}" for s, n in sorted(by_sector.items(), key=lambda i: -i[1])
    ]
    lines.append(t(N_("Perlindungan:")))
    lines += [f"- {t(STATUS_LABELS[k])}: {n}" for k, n in by_status.items()]
    for kind, heading in (
        ("arrears", N_("Iuran belum tercatat: {n} pekerja.")),
        ("nophone", N_("Belum ada nomor HP: {n} pekerja.")),
    ):
        listed = lists[kind]
        lines.append(t(heading, n=len(listed)))
        lines += [_worker_line(ctx, i, w) for i, w in enumerate(listed[:PAGE], 1)]
    return "\n".join(lines)


async def _summary_choices(ctx: Ctx) -> list[Option]:
    lists = await _summary_lists(ctx)
    options: list[Option] = []
    if len(lists["arrears"]) > PAGE:
        options.append(Option(id="arrears", label=N_("Semua iuran blm ada")))
    if len(lists["nophone"]) > PAGE:
        options.append(Option(id="nophone", label=N_("Semua tanpa HP")))
    options.append(MENU)
    return options


async def _summary_next(ctx: Ctx, value: str) -> Outcome:
    if value == "menu":
        return End()
    ctx.data["list"] = value
    ctx.data["page"] = 0
    return "list"


async def _list_prompt(ctx: Ctx) -> str:
    kind = str(ctx.data.get("list", "arrears"))
    listed = (await _summary_lists(ctx)).get(kind, [])
    page = int(ctx.data.get("page", 0))
    shown, _ = _page_of(listed, page, PAGE)
    heading = (
        N_("Iuran belum tercatat: {n} pekerja.")
        if kind == "arrears"
        else N_("Belum ada nomor HP: {n} pekerja.")
    )
    lines = [ctx.t(heading, n=len(listed))]
    lines += [_worker_line(ctx, page * PAGE + i, w) for i, w in enumerate(shown, 1)]
    return "\n".join(lines)


async def _list_choices(ctx: Ctx) -> list[Option]:
    kind = str(ctx.data.get("list", "arrears"))
    listed = (await _summary_lists(ctx)).get(kind, [])
    _, more = _page_of(listed, int(ctx.data.get("page", 0)), PAGE)
    options = [NEXT_PAGE] if more else []
    return [*options, Option(id="summary", label=N_("Ringkasan")), MENU]


async def _list_next(ctx: Ctx, value: str) -> Outcome:
    if value == "summary":
        return "summary"
    return _paging(ctx, value) or End()


FAC_SUMMARY = Flow(
    name="fac_summary",
    roles=ROLES,
    on_start=_summary_start,
    steps=(
        Step(name="summary", prompt=_summary_prompt, choices=_summary_choices, next=_summary_next),
        Step(name="list", prompt=_list_prompt, choices=_list_choices, next=_list_next),
    ),
)


# ---------------------------------------------------------------------------------------------
# Leads (self-screened people who agreed to be contacted)

LEAD_STATUS = {"open": N_("belum dihubungi"), "contacted": N_("sudah dihubungi")}
CLOSE_REASONS = (
    Option(id="already_member", label=N_("Sudah jadi peserta")),
    Option(id="unreachable", label=N_("Tidak bisa dihubungi")),
    Option(id="declined", label=N_("Tidak berminat")),
    Option(id="moved", label=N_("Pindah / bukan warga")),
    Option(id="cannot_join", label=N_("Belum bisa ikut")),
)


async def _scoped_leads(ctx: Ctx) -> list[Any]:
    f = await current_facilitator(ctx)
    if f is None:
        return []
    clause, params = scope_clause(f, "desa_code")
    return await ctx.tx.all(
        "SELECT id, desa_code, phone, name, answers, status, created_at FROM leads "
        f"WHERE status IN ('open', 'contacted') AND {clause} ORDER BY status DESC, id",
        params,
    )


async def _scoped_lead(ctx: Ctx, lead_id: object) -> Any | None:
    f = await current_facilitator(ctx)
    if f is None:
        return None
    try:
        lid = int(str(lead_id))
    except ValueError:
        return None
    clause, params = scope_clause(f, "desa_code")
    row = await ctx.tx.one(
        "SELECT id, desa_code, phone, name, answers, status, created_at FROM leads "
        f"WHERE id = ? AND status IN ('open', 'contacted') AND {clause}",
        (lid, *params),
    )
    if row is None:
        await _audit(ctx, "lead.refused", "lead", lid)
    return row


def _lead_title(ctx: Ctx, row: Any) -> str:
    return str(row["name"] or ctx.t(N_("Calon peserta {n}"), n=row["id"]))


async def _leads_start(ctx: Ctx) -> Outcome | None:
    if await current_facilitator(ctx) is None:
        return await _no_access(ctx)
    await _audit(ctx, "lead.list")
    if not await _scoped_leads(ctx):
        return End((ctx.t(N_("Tidak ada calon peserta yang menunggu dihubungi.")),))
    return None


async def _leads_prompt(ctx: Ctx) -> str:
    n = len(await _scoped_leads(ctx))
    return ctx.t(N_("Calon peserta yang menunggu: {n}. Pilih satu:"), n=n)


async def _leads_choices(ctx: Ctx) -> list[Option]:
    rows = await _scoped_leads(ctx)
    shown, more = _page_of(rows, int(ctx.data.get("page", 0)), LIST_PAGE)
    options: list[Option] = []
    for r in shown:
        answers = loads(r["answers"]) or {}
        desa, _ = place_of(r["desa_code"])
        options.append(
            Option(
                id=f"l:{r['id']}",
                label=_short(_lead_title(ctx, r), 20),
                description=_short(
                    f"{sector_label(ctx, answers.get('sector'))}, {desa}, "
                    f"{ctx.t(LEAD_STATUS[r['status']])}",
                    72,
                ),
                translate=False,
            )
        )
    if more:
        options.append(NEXT_PAGE)
    options.append(MENU)
    return options


async def _leads_next(ctx: Ctx, value: str) -> Outcome:
    if (paged := _paging(ctx, value)) is not None:
        return paged
    lead = await _scoped_lead(ctx, value.removeprefix("l:"))
    if lead is None:
        raise Invalid(N_("Calon peserta itu tidak ada di wilayah Bapak/Ibu."))
    ctx.data["lead_id"] = lead["id"]
    return "lead"


TRI_WORDS = {"yes": N_("ya"), "no": N_("tidak"), "unknown": N_("tidak tahu")}


async def _lead_prompt(ctx: Ctx) -> str:
    t = ctx.t
    lead = await _scoped_lead(ctx, ctx.data.get("lead_id"))
    if lead is None:
        return t(N_("Calon peserta itu tidak ada di wilayah Bapak/Ibu."))
    await _audit(ctx, "lead.view", "lead", lead["id"])
    a = loads(lead["answers"]) or {}
    desa, kec = place_of(lead["desa_code"])
    lines = [
        t(
            N_("{who}, Desa {desa}, Kec. {kec}. Cek mandiri {date}."),
            who=_lead_title(ctx, lead),
            desa=desa,
            kec=kec,
            date=t.date(datetime.fromisoformat(lead["created_at"]).astimezone(TZ).date()),
        ),
        t(
            N_("Umur {age}, {work}. Sudah peserta BPJS TK: {member}. Terdata DTSEN: {dtsen}."),
            age=a.get("age", "-"),
            work=sector_label(ctx, a.get("sector")).lower(),
            member=t(TRI_WORDS.get(str(a.get("other_bpjs")), N_("tidak tahu"))),
            dtsen=t(TRI_WORDS.get(str(a.get("in_dtsen")), N_("tidak tahu"))),
        ),
        # The person agreed to share the number with the desa facilitator: shown in full.
        t(N_("HP: {phone}"), phone=lead["phone"] or t(N_("tidak ada"))),
        t(N_("Status: {status}."), status=t(LEAD_STATUS[lead["status"]])),
    ]
    return "\n".join(lines)


LEAD_ACTIONS = (
    Option(id="contacted", label=N_("Sudah dihubungi"), aliases=("dihubungi",)),
    Option(id="register", label=N_("Daftarkan"), aliases=("daftar",)),
    Option(id="close", label=N_("Tutup"), aliases=("tutup",)),
    BACK,
)


async def _lead_next(ctx: Ctx, value: str) -> Outcome:
    if value == "back_list":
        return "leads"
    lead = await _scoped_lead(ctx, ctx.data.get("lead_id"))
    if lead is None:
        return End((ctx.t(N_("Calon peserta itu tidak ada di wilayah Bapak/Ibu.")),))
    if value == "close":
        return "close_reason"
    if value == "register":
        answers = loads(lead["answers"]) or {}
        data: dict[str, Any] = {"lead_id": lead["id"], "desa_code": lead["desa_code"]}
        if answers.get("sector") in {o.id for o in sector_options(with_other=False)}:
            data["sector"] = answers["sector"]
        if lead["phone"]:
            data["phone"] = lead["phone"]
        await _audit(ctx, "lead.register_started", "lead", lead["id"])
        return Goto("fac_register", data=data)
    await ctx.tx.execute(
        "UPDATE leads SET status = 'contacted', updated_at = ? WHERE id = ?",
        (ctx.now.isoformat(), lead["id"]),
    )
    await _audit(ctx, "lead.contacted", "lead", lead["id"])
    return Next("lead", (ctx.t(N_("Dicatat: sudah dihubungi.")),))


async def _close_reason_next(ctx: Ctx, value: str) -> Outcome:
    lead = await _scoped_lead(ctx, ctx.data.get("lead_id"))
    if lead is None:
        return End((ctx.t(N_("Calon peserta itu tidak ada di wilayah Bapak/Ibu.")),))
    await ctx.tx.execute(
        "UPDATE leads SET status = 'closed', close_reason = ?, updated_at = ? WHERE id = ?",
        (value, ctx.now.isoformat(), lead["id"]),
    )
    await _audit(ctx, "lead.close", "lead", lead["id"], reason=value)
    done = ctx.t(N_("Calon peserta ditutup."))
    if not await _scoped_leads(ctx):
        return End((done,))
    ctx.data["page"] = 0
    return Next("leads", (done,))


FAC_LEADS = Flow(
    name="fac_leads",
    roles=ROLES,
    on_start=_leads_start,
    steps=(
        Step(name="leads", prompt=_leads_prompt, choices=_leads_choices, next=_leads_next),
        Step(name="lead", prompt=_lead_prompt, choices=LEAD_ACTIONS, next=_lead_next),
        Step(
            name="close_reason",
            prompt=N_("Alasan menutup?"),
            choices=CLOSE_REASONS,
            next=_close_reason_next,
        ),
    ),
)


# ---------------------------------------------------------------------------------------------
# Claims of the scope: open ones, with missing documents first


async def _scoped_claims(ctx: Ctx) -> list[tuple[Claim, list[str]]]:
    f = await current_facilitator(ctx)
    if f is None:
        return []
    finals = [str(s) for s in FINAL_STATES]
    marks = ", ".join("?" for _ in finals)
    # A claim about a roster worker may carry no desa of its own: the worker's desa counts.
    clause, params = scope_clause(f, "COALESCE(c.desa_code, w.desa_code)")
    cols = ", ".join(f"c.{col.strip()}" for col in CLAIM_COLS.split(","))
    rows = await ctx.tx.all(
        f"SELECT {cols} FROM claims c LEFT JOIN workers w ON w.id = c.worker_id "
        f"WHERE {clause} AND c.status NOT IN ({marks}) ORDER BY c.id",
        (*params, *finals),
    )
    out: list[tuple[Claim, list[str]]] = []
    for r in rows:
        claim = claim_from_row(r)
        out.append(
            (claim, services.missing_documents(claim, await received_kinds(ctx.tx, claim.id)))
        )
    out.sort(key=lambda cm: (not cm[1], cm[0].id))
    return out


async def _scoped_claim(ctx: Ctx, ref: object) -> Claim | None:
    claim = await claim_by_ref(ctx.tx, str(ref or ""))
    desa = claim.desa_code if claim is not None else None
    if claim is not None and desa is None and claim.worker_id is not None:
        worker = await worker_by_id(ctx.tx, claim.worker_id)
        desa = worker.desa_code if worker is not None else None
    if claim is None or not await covers(ctx, desa):
        if claim is not None:
            await _audit(ctx, "claim.refused", "claim", claim.ref)
        return None
    return claim


async def _claims_start(ctx: Ctx) -> Outcome | None:
    if await current_facilitator(ctx) is None:
        return await _no_access(ctx)
    await _audit(ctx, "claim.list")
    if not await _scoped_claims(ctx):
        return End((ctx.t(N_("Tidak ada laporan yang masih berjalan di wilayah Bapak/Ibu.")),))
    return None


async def _claims_prompt(ctx: Ctx) -> str:
    items = await _scoped_claims(ctx)
    lacking = sum(1 for _, m in items if m)
    return ctx.t(
        N_("Laporan yang masih berjalan: {n} ({k} kurang dokumen). Pilih satu:"),
        n=len(items),
        k=lacking,
    )


async def _claims_choices(ctx: Ctx) -> list[Option]:
    from handlers.my_claims import type_words

    items = await _scoped_claims(ctx)
    shown, more = _page_of(items, int(ctx.data.get("page", 0)), LIST_PAGE)
    options: list[Option] = []
    for claim, missing in shown:
        who = claim.subject_name or "-"
        extra = (
            ctx.t(N_("kurang {n} dokumen"), n=len(missing))
            if missing
            else ctx.t(N_("dokumen lengkap"))
        )
        options.append(
            Option(
                id=f"c:{claim.ref}",
                label=claim.ref,
                description=_short(f"{type_words(ctx, claim)}, {who}, {extra}", 72),
                translate=False,
            )
        )
    if more:
        options.append(NEXT_PAGE)
    options.append(MENU)
    return options


async def _claims_next(ctx: Ctx, value: str) -> Outcome:
    if (paged := _paging(ctx, value)) is not None:
        return paged
    claim = await _scoped_claim(ctx, value.removeprefix("c:"))
    if claim is None:
        raise Invalid(N_("Laporan itu tidak ada di wilayah Bapak/Ibu."))
    ctx.data["ref"] = claim.ref
    return "claim"


async def _claim_prompt(ctx: Ctx) -> str:
    from handlers.docs import doc_list
    from handlers.my_claims import status_words, type_words

    t = ctx.t
    claim = await _scoped_claim(ctx, ctx.data.get("ref"))
    if claim is None:
        return t(N_("Laporan itu tidak ada di wilayah Bapak/Ibu."))
    await _audit(ctx, "claim.view", "claim", claim.ref)
    lines = [
        t(
            N_("{ref} ({kind}, {date}): {status}."),
            ref=claim.ref,
            kind=type_words(ctx, claim).lower(),
            date=t.date(claim.event_date),
            status=status_words(ctx, claim.status),
        ),
        t(
            N_("Tentang: {name}, NIK {nik}."),
            name=claim.subject_name or "-",
            nik=masked(claim.subject_nik),
        ),
    ]
    missing = services.missing_documents(claim, await received_kinds(ctx.tx, claim.id))
    if missing:
        lines.append(t(N_("Masih kurang {n} dokumen:"), n=len(missing)))
        lines.append(doc_list(ctx, missing))
    else:
        lines.append(t(N_("Dokumen sudah lengkap.")))
    return "\n".join(lines)


async def _claim_choices(ctx: Ctx) -> list[Option]:
    claim = await _scoped_claim(ctx, ctx.data.get("ref"))
    options: list[Option] = []
    if claim is not None and services.missing_documents(
        claim, await received_kinds(ctx.tx, claim.id)
    ):
        options.append(Option(id="docs", label=N_("Kirim dokumen"), aliases=("kirim", "foto")))
    return [*options, BACK, MENU]


async def _claim_next(ctx: Ctx, value: str) -> Outcome:
    if value == "back_list":
        return "claims"
    if value == "menu":
        return End()
    claim = await _scoped_claim(ctx, ctx.data.get("ref"))
    if claim is None:
        return End((ctx.t(N_("Laporan itu tidak ada di wilayah Bapak/Ibu.")),))
    await _audit(ctx, "claim.documents_started", "claim", claim.ref)
    return Goto("docs", data={"ref": claim.ref})


FAC_CLAIMS = Flow(
    name="fac_claims",
    roles=ROLES,
    on_start=_claims_start,
    steps=(
        Step(name="claims", prompt=_claims_prompt, choices=_claims_choices, next=_claims_next),
        Step(name="claim", prompt=_claim_prompt, choices=_claim_choices, next=_claim_next),
    ),
)


# ---------------------------------------------------------------------------------------------
# Tickets: shared by the facilitator desk and the admin CLI

SENDER_WORDS = {
    "user": N_("Warga"),
    "facilitator": N_("Pendamping"),
    "admin": N_("Petugas Pemkab"),
}


async def reply_to_ticket(
    tx: Tx,
    *,
    ticket_id: int,
    body: str,
    sender: str,
    actor_id: str | int | None,
    now: datetime,
    channel: str | None,
    facilitator_id: int | None = None,
) -> str:
    """Store a staff reply, mark the ticket answered and queue ``ticket.reply`` to the worker."""
    ticket = await tx.one("SELECT id, chat_id, status FROM tickets WHERE id = ?", (ticket_id,))
    if ticket is None:
        raise NotFound("ticket.not_found", ticket=services.ticket_ref(ticket_id))
    ref = services.ticket_ref(ticket_id)
    if ticket["status"] == "closed":
        raise Conflict("ticket.closed", ticket=ref)
    message_id = await tx.execute(
        "INSERT INTO ticket_messages (ticket_id, sender, body, at) VALUES (?, ?, ?, ?)",
        (ticket_id, sender, body, now.isoformat()),
    )
    await tx.execute(
        "UPDATE tickets SET status = 'answered', updated_at = ?, "
        "facilitator_id = COALESCE(?, facilitator_id) WHERE id = ?",
        (now.isoformat(), facilitator_id, ticket_id),
    )
    await services.enqueue_to_chat(
        tx,
        ticket["chat_id"],
        now=now,
        msg_key="ticket.reply",
        params={"ticket": ref, "body": body},
        msg_class="transactional",
        dedupe_key=f"ticket-reply:{message_id}",
        priority=2,
    )
    await services.audit(
        tx,
        now=now,
        actor_kind=sender,
        actor_id=actor_id,
        action="ticket.reply",
        target_kind="ticket",
        target_id=ref,
        channel=channel,
        details={"length": len(body)},
    )
    return ref


async def close_ticket(
    tx: Tx,
    *,
    ticket_id: int,
    actor_kind: str,
    actor_id: str | int | None,
    now: datetime,
    channel: str | None,
) -> str:
    """Close a ticket (``closed_at`` set); closing twice changes nothing."""
    ref = services.ticket_ref(ticket_id)
    changed = await tx.execute_rowcount(
        "UPDATE tickets SET status = 'closed', closed_at = ?, updated_at = ? "
        "WHERE id = ? AND status != 'closed'",
        (now.isoformat(), now.isoformat(), ticket_id),
    )
    if not changed:
        exists = await tx.scalar("SELECT 1 FROM tickets WHERE id = ?", (ticket_id,))
        if exists is None:
            raise NotFound("ticket.not_found", ticket=ref)
        return ref
    await services.audit(
        tx,
        now=now,
        actor_kind=actor_kind,
        actor_id=actor_id,
        action="ticket.close",
        target_kind="ticket",
        target_id=ref,
        channel=channel,
    )
    return ref


async def ticket_messages(tx: Tx, ticket_id: int) -> list[Any]:
    """The messages of a ticket, oldest first."""
    return await tx.all(
        "SELECT sender, body, media, at FROM ticket_messages WHERE ticket_id = ? ORDER BY id",
        (ticket_id,),
    )


_TICKET_SQL = (
    "SELECT t.id, t.chat_id, t.status, t.created_at, t.desa_code, t.escalated_at, "
    "w.name AS worker_name, w.nik AS worker_nik, w.sex AS worker_sex, c.display_name "
    "FROM tickets t LEFT JOIN workers w ON w.id = t.worker_id JOIN chats c ON c.id = t.chat_id "
)


async def _scoped_tickets(ctx: Ctx) -> list[Any]:
    f = await current_facilitator(ctx)
    if f is None:
        return []
    clause, params = scope_clause(f, "t.desa_code")
    return await ctx.tx.all(
        _TICKET_SQL + f"WHERE t.status != 'closed' AND t.desa_code IS NOT NULL AND {clause} "
        "ORDER BY CASE t.status WHEN 'open' THEN 0 ELSE 1 END, t.id",
        params,
    )


async def _scoped_ticket(ctx: Ctx, ticket_id: object) -> Any | None:
    f = await current_facilitator(ctx)
    if f is None:
        return None
    try:
        tid = int(str(ticket_id))
    except ValueError:
        return None
    clause, params = scope_clause(f, "t.desa_code")
    row = await ctx.tx.one(
        _TICKET_SQL + f"WHERE t.id = ? AND t.status != 'closed' AND t.desa_code IS NOT NULL "
        f"AND {clause}",
        (tid, *params),
    )
    if row is None:
        await _audit(ctx, "ticket.refused", "ticket", services.ticket_ref(tid))
    return row


def _ticket_who(ctx: Ctx, row: Any, *, with_nik: bool = True) -> str:
    if row["worker_name"]:
        title = ctx.t(N_("Ibu")) if row["worker_sex"] == "P" else ctx.t(N_("Bapak"))
        who = f"{title} {row['worker_name']}"
        return f"{who} ({masked(row['worker_nik'])})" if with_nik else who
    return str(row["display_name"] or ctx.t(N_("warga")))


async def _tickets_start(ctx: Ctx) -> Outcome | None:
    if await current_facilitator(ctx) is None:
        return await _no_access(ctx)
    await _audit(ctx, "ticket.list")
    if not await _scoped_tickets(ctx):
        return End((ctx.t(N_("Tidak ada tiket terbuka di wilayah Bapak/Ibu.")),))
    return None


async def _tickets_prompt(ctx: Ctx) -> str:
    n = len(await _scoped_tickets(ctx))
    return ctx.t(N_("Tiket terbuka: {n}. Pilih satu:"), n=n)


async def _tickets_choices(ctx: Ctx) -> list[Option]:
    rows = await _scoped_tickets(ctx)
    shown, more = _page_of(rows, int(ctx.data.get("page", 0)), LIST_PAGE)
    options: list[Option] = []
    for r in shown:
        state = (
            ctx.t(N_("menunggu jawaban")) if r["status"] == "open" else ctx.t(N_("sudah dibalas"))
        )
        options.append(
            Option(
                id=f"t:{r['id']}",
                label=services.ticket_ref(r["id"]),
                description=_short(
                    f"{r['worker_name'] or '-'}, {_ago(ctx, r['created_at'])}, {state}", 72
                ),
                translate=False,
            )
        )
    if more:
        options.append(NEXT_PAGE)
    options.append(MENU)
    return options


async def _tickets_next(ctx: Ctx, value: str) -> Outcome:
    if (paged := _paging(ctx, value)) is not None:
        return paged
    ticket = await _scoped_ticket(ctx, value.removeprefix("t:"))
    if ticket is None:
        raise Invalid(N_("Tiket itu tidak ada di wilayah Bapak/Ibu."))
    ctx.data["ticket_id"] = ticket["id"]
    return "ticket"


async def _ticket_prompt(ctx: Ctx) -> str:
    t = ctx.t
    row = await _scoped_ticket(ctx, ctx.data.get("ticket_id"))
    if row is None:
        return t(N_("Tiket itu tidak ada di wilayah Bapak/Ibu."))
    await _audit(ctx, "ticket.view", "ticket", services.ticket_ref(row["id"]))
    messages = await ticket_messages(ctx.tx, row["id"])
    first = next((m for m in messages if m["sender"] == "user"), None)
    lines = [
        t(
            N_('{ticket} dari {who}, {ago}: "{body}"'),
            ticket=services.ticket_ref(row["id"]),
            who=_ticket_who(ctx, row),
            ago=_ago(ctx, row["created_at"]),
            body=_short((first["body"] if first else "") or "-", 200),
        )
    ]
    later = [m for m in messages if m is not first][-4:]
    for m in later:
        lines.append(
            f"- {t(SENDER_WORDS.get(m['sender'], m['sender']))}, {_ago(ctx, m['at'])}: "
            f"{_short(m['body'] or '-', 160)}"
        )
    return "\n".join(lines)


TICKET_ACTIONS = (
    Option(id="reply", label=N_("Balas"), aliases=("balas", "jawab")),
    Option(id="close", label=N_("Tutup tiket"), aliases=("tutup",)),
    BACK,
)


async def _ticket_next(ctx: Ctx, value: str) -> Outcome:
    if value == "back_list":
        return await _back_to_tickets(ctx)
    row = await _scoped_ticket(ctx, ctx.data.get("ticket_id"))
    if row is None:
        return End((ctx.t(N_("Tiket itu tidak ada di wilayah Bapak/Ibu.")),))
    if value == "reply":
        return "reply"
    return await _close(ctx, row)


async def _back_to_tickets(ctx: Ctx, *messages: str) -> Outcome:
    if not await _scoped_tickets(ctx):
        return End((*messages, ctx.t(N_("Tidak ada tiket terbuka lagi."))))
    ctx.data["page"] = 0
    return Next("tickets", messages)


async def _close(ctx: Ctx, row: Any) -> Outcome:
    ref = await close_ticket(
        ctx.tx,
        ticket_id=row["id"],
        actor_kind="facilitator",
        actor_id=ctx.chat.facilitator_id,
        now=ctx.now,
        channel=ctx.chat.channel,
    )
    return await _back_to_tickets(ctx, ctx.t(N_("Tiket {ticket} ditutup."), ticket=ref))


async def _reply_prompt(ctx: Ctx) -> str:
    row = await _scoped_ticket(ctx, ctx.data.get("ticket_id"))
    if row is None:
        return ctx.t(N_("Tiket itu tidak ada di wilayah Bapak/Ibu."))
    who = _ticket_who(ctx, row, with_nik=False)
    return ctx.t(N_("Tulis balasan untuk {who}."), who=who)


async def _reply_parse(ctx: Ctx, answer: Answer) -> str:
    text = (answer.text or "").strip()
    if len(text) < 2:
        raise Invalid(N_("Mohon tulis balasan dengan sedikit lebih jelas."))
    return text


async def _reply_next(ctx: Ctx, body: str) -> Outcome:
    row = await _scoped_ticket(ctx, ctx.data.get("ticket_id"))
    if row is None:
        return End((ctx.t(N_("Tiket itu tidak ada di wilayah Bapak/Ibu.")),))
    await reply_to_ticket(
        ctx.tx,
        ticket_id=row["id"],
        body=body,
        sender="facilitator",
        actor_id=ctx.chat.facilitator_id,
        now=ctx.now,
        channel=ctx.chat.channel,
        facilitator_id=ctx.chat.facilitator_id,
    )
    return "replied"


async def _replied_next(ctx: Ctx, value: str) -> Outcome:
    if value == "close":
        row = await _scoped_ticket(ctx, ctx.data.get("ticket_id"))
        if row is None:
            return End((ctx.t(N_("Tiket itu tidak ada di wilayah Bapak/Ibu.")),))
        return await _close(ctx, row)
    return await _back_to_tickets(ctx)


FAC_TICKETS = Flow(
    name="fac_tickets",
    roles=ROLES,
    on_start=_tickets_start,
    steps=(
        Step(name="tickets", prompt=_tickets_prompt, choices=_tickets_choices, next=_tickets_next),
        Step(name="ticket", prompt=_ticket_prompt, choices=TICKET_ACTIONS, next=_ticket_next),
        Step(
            name="reply",
            prompt=_reply_prompt,
            choices=(CANCEL,),
            free_text=True,
            parse=_reply_parse,
            next=_reply_next,
            max_len=MAX_MESSAGE,
        ),
        Step(
            name="replied",
            prompt=N_("Balasan terkirim. Tutup tiket?"),
            choices=(
                Option(id="close", label=N_("Tutup tiket"), aliases=("tutup", "ya")),
                Option(id="keep", label=N_("Biarkan terbuka"), aliases=("biarkan", "tidak")),
            ),
            next=_replied_next,
        ),
    ),
)

FLOW_NAMES = frozenset(
    f.name for f in (FAC_REGISTER, FAC_FIND, FAC_SUMMARY, FAC_LEADS, FAC_CLAIMS, FAC_TICKETS)
)


# ---------------------------------------------------------------------------------------------
# Escalation of unanswered tickets (called hourly by the scheduler)


def add_working_days(start: datetime, days: int) -> datetime:
    """``start`` plus ``days`` working days (Mon–Fri, Jember time); weekends do not count."""
    local = start.astimezone(TZ)
    if local.weekday() >= 5:
        # A weekend message starts waiting on Monday morning.
        monday = local.date() + timedelta(days=7 - local.weekday())
        local = datetime.combine(monday, time(0), tzinfo=TZ)
    left = days
    while left > 0:
        local += timedelta(days=1)
        if local.weekday() < 5:
            left -= 1
    return local


async def escalate_tickets(tx: Tx, now: datetime) -> int:
    """Escalate tickets unanswered for 2 working days: admin queue + tell the worker. Count."""
    rows = await tx.all(
        "SELECT t.id, t.chat_id, t.desa_code, ("
        "  SELECT MIN(m.at) FROM ticket_messages m WHERE m.ticket_id = t.id AND m.sender = 'user'"
        "  AND m.id > COALESCE((SELECT MAX(s.id) FROM ticket_messages s WHERE s.ticket_id = t.id "
        "  AND s.sender != 'user'), 0)) AS waiting_since "
        "FROM tickets t WHERE t.status = 'open' AND t.escalated_at IS NULL ORDER BY t.id"
    )
    count = 0
    for r in rows:
        since = r["waiting_since"]
        if since is None:
            continue
        if add_working_days(datetime.fromisoformat(since), ESCALATE_AFTER_WORKING_DAYS) > now:
            continue
        ref = services.ticket_ref(r["id"])
        await tx.execute(
            "UPDATE tickets SET escalated_at = ?, updated_at = ? WHERE id = ?",
            (now.isoformat(), now.isoformat(), r["id"]),
        )
        await services.alert_admin(
            tx,
            now=now,
            msg_key="admin.ticket_escalated",
            params={"ticket": ref, "desa_code": r["desa_code"], "waiting_since": since},
            dedupe_key=f"ticket-escalated:{r['id']}",
        )
        answer_by = add_working_days(now, ESCALATE_AFTER_WORKING_DAYS).date()
        await services.enqueue_to_chat(
            tx,
            r["chat_id"],
            now=now,
            msg_key="ticket.escalated",
            params={"ticket": ref, "answer_by": answer_by.isoformat()},
            msg_class="transactional",
            dedupe_key=f"ticket-escalated-user:{r['id']}",
            priority=3,
        )
        await services.audit(
            tx,
            now=now,
            actor_kind="system",
            actor_id=None,
            action="ticket.escalate",
            target_kind="ticket",
            target_id=ref,
            details={"waiting_since": since},
        )
        count += 1
    if count:
        logger.info("tickets escalated", extra={"count": count})
    return count
