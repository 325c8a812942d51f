"""Kind answers for what people ask that is not one of our reports.

- ``health_insurance``: a dead or inactive KIS/BPJS Kesehatan card is another agency's matter
  (DOMAIN.md §7.2: care center 165, WhatsApp PANDAWA 0811-8-165-165 on weekdays 08:00-15:00,
  Mobile JKN); it must never be answered with condolences.
- ``scam``: someone asked for money, a transfer or a code in the programme's name. What the
  user says is kept on a ticket that also goes to the OPD's queue, and the user is told plainly
  that the service is free (DOMAIN.md §7.1: official services never ask for money or OTPs).
- ``hospital_answer``: which hospital treats a work accident (the PLKK answer of "Tentang").
"""

from __future__ import annotations

from handlers.common import CANCEL
from handlers.engine import Answer, Ctx, End, Flow, Goto, Invalid, Option, Outcome, Reply, Step
from handlers.i18n import N_
from handlers.sources import states
from lingkaran_core import services

MENU = Option(id="menu", label=N_("Menu utama"), aliases=("menu",))
MAX_MESSAGE = 1000


async def _health_next(ctx: Ctx, value: str) -> Outcome:
    if value == "coverage":
        return Goto("coverage")
    return End()


HEALTH_INSURANCE = Flow(
    name="health_insurance",
    steps=(
        Step(
            name="main",
            prompt=states(
                N_(
                    "Kartu KIS / BPJS Kesehatan (untuk berobat) diurus BPJS Kesehatan, lembaga "
                    "yang berbeda dengan BPJS Ketenagakerjaan. Jika kartu tidak aktif atau ada "
                    "tunggakan: telepon BPJS Kesehatan 165, WhatsApp PANDAWA 0811-8-165-165 (hari "
                    "kerja 08.00-15.00), atau aplikasi Mobile JKN. Jika iurannya dibayar "
                    "pemerintah (PBI), tanyakan juga ke kantor desa.\n"
                    "Layanan kami untuk BPJS Ketenagakerjaan: kecelakaan kerja dan kematian."
                ),
                "bpjs_kesehatan_channels",
            ),
            choices=(
                Option(id="coverage", label=N_("Cek kepesertaan"), description=N_("BPJS TK saya")),
                MENU,
            ),
            next=_health_next,
        ),
    ),
)


# ---------------------------------------------------------------------------------------------
# Scam reports

_WARNING = states(
    N_(
        "Terima kasih sudah waspada. Layanan ini GRATIS: petugas tidak pernah meminta uang, "
        "transfer, pulsa, atau kode OTP. Jangan kirim apa pun."
    ),
    "service_free",
)
SCAM_RECORDED = states(
    N_(
        "Laporan penipuan dicatat (tiket {ticket}) dan diteruskan ke petugas Pemkab "
        "Jember. Jika sudah terlanjur mengirim uang, segera hubungi bank Bapak/Ibu dan "
        "laporkan ke polisi. Kabar resmi BPJS Ketenagakerjaan: telepon 175."
    ),
    "official_checks",
)


async def _record(ctx: Ctx, text: str) -> None:
    ticket = await services.open_ticket(
        ctx.tx,
        chat_id=ctx.chat.id,
        body=text,
        now=ctx.now,
        topic="scam",
        channel=ctx.chat.channel,
        for_opd=True,
    )
    ctx.data["ticket"] = services.ticket_ref(ticket)


async def _scam_start(ctx: Ctx) -> Outcome | None:
    said = ctx.data.pop("said", None)
    if not said:
        return None
    await _record(ctx, str(said))
    return "more"


async def _tell_prompt(ctx: Ctx) -> str:
    return (
        ctx.t(_WARNING)
        + "\n"
        + ctx.t(
            N_(
                "Ceritakan singkat: siapa yang meminta, berapa, lewat nomor atau akun apa? "
                "Laporan ini kami teruskan ke petugas Pemkab Jember."
            )
        )
    )


async def _text_parse(ctx: Ctx, answer: Answer) -> str:
    if answer.option is not None:
        return answer.option.id
    text = (answer.text or "").strip()
    if len(text) < 2:
        raise Invalid(N_("Mohon tulis sedikit lebih jelas."))
    return text


async def _tell_next(ctx: Ctx, text: str) -> Outcome:
    await _record(ctx, text)
    return "more"


async def _more_prompt(ctx: Ctx) -> Reply:
    t = ctx.t
    lines = [
        t(_WARNING),
        t(
            SCAM_RECORDED,
            ticket=ctx.data.get("ticket", "-"),
        ),
        t(N_('Ada tambahan, misalnya nomor HP orang itu? Tulis di sini, atau pilih "Menu utama".')),
    ]
    if ctx.data.get("added"):
        lines = [t(N_("Tambahan dicatat di tiket {ticket}."), ticket=ctx.data["ticket"]), lines[-1]]
    return Reply(text="\n".join(lines))


async def _more_next(ctx: Ctx, value: str) -> Outcome:
    if value == "menu":
        return End()
    await _record(ctx, value)
    ctx.data["added"] = True
    return "more"


SCAM = Flow(
    name="scam",
    on_start=_scam_start,
    steps=(
        Step(
            name="tell",
            prompt=_tell_prompt,
            choices=(CANCEL,),
            free_text=True,
            parse=_text_parse,
            next=_tell_next,
            max_len=MAX_MESSAGE,
        ),
        Step(
            name="more",
            prompt=_more_prompt,
            choices=(MENU,),
            free_text=True,
            parse=_text_parse,
            next=_more_next,
            max_len=MAX_MESSAGE,
        ),
    ),
)


def hospital_answer(ctx: Ctx) -> Goto:
    """Which hospital: the partner-hospital (PLKK) answer, under the "Tentang" topics."""
    from handlers.info import ABOUT_TOPICS

    return Goto("about", data={"seen": True}, before=(ABOUT_TOPICS["treatment"](ctx),))
