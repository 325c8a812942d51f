"""Settings: language, reminders on/off."""

from __future__ import annotations

from handlers.engine import Ctx, End, Flow, Goto, Option, Outcome, Step
from handlers.i18n import N_, translator
from lingkaran_core.storage import chats as chat_store


async def _settings_prompt(ctx: Ctx) -> str:
    state = (
        ctx.t(N_("Pengingat: mati (Bapak/Ibu sudah ketik BERHENTI)."))
        if ctx.chat.opted_out
        else ctx.t(N_("Pengingat: hidup."))
    )
    return ctx.t(N_("Pengaturan. {reminders} Pilih yang ingin diubah."), reminders=state)


async def _settings_choices(ctx: Ctx) -> list[Option]:
    toggle = (
        Option(id="optin", label=N_("Hidupkan pengingat"))
        if ctx.chat.opted_out
        else Option(id="optout", label=N_("Matikan pengingat"))
    )
    return [
        Option(id="language", label=N_("Bahasa / Language")),
        toggle,
        Option(id="my_data", label=N_("Data saya"), description=N_("Lihat data, lapor data salah")),
    ]


async def _settings_next(ctx: Ctx, value: str) -> Outcome:
    if value == "language":
        return "language"
    if value == "my_data":
        return Goto("my_data")
    opted_out = value == "optout"
    await chat_store.update_chat(ctx.tx, ctx.chat.id, opted_out=int(opted_out))
    ctx.chat.opted_out = opted_out
    if opted_out:
        return End(
            (
                ctx.t(
                    N_(
                        "Baik. Pengingat dan pengumuman tidak kami kirim lagi. Kabar klaim "
                        "Bapak/Ibu tetap dikirim. Ketik MULAI untuk menerima pengingat lagi."
                    )
                ),
            )
        )
    return End((ctx.t(N_("Terima kasih. Pengingat akan kami kirim lagi.")),))


async def _language_next(ctx: Ctx, value: str) -> Outcome:
    await chat_store.update_chat(ctx.tx, ctx.chat.id, language=value)
    ctx.chat.language = value
    ctx.t = translator(value)
    return End((ctx.t(N_("Bahasa diganti ke Bahasa Indonesia.")),))


SETTINGS = Flow(
    name="settings",
    steps=(
        Step(name="main", prompt=_settings_prompt, choices=_settings_choices, next=_settings_next),
        Step(
            name="language",
            prompt=N_("Pilih bahasa / Choose a language:"),
            choices=(
                Option(id="id", label="Bahasa Indonesia", translate=False, aliases=("indonesia",)),
                Option(id="en", label="English", translate=False, aliases=("inggris",)),
                Option(
                    id="jv",
                    label="Basa Jawa",
                    translate=False,
                    aliases=("jawa", "bahasa jawa", "boso jowo", "jowo"),
                ),
                Option(
                    id="mad",
                    label="Bhâsa Madhurâ",
                    translate=False,
                    aliases=("madura", "bahasa madura", "basa madura", "bhasa madhura", "madhura"),
                ),
            ),
            next=_language_next,
        ),
    ),
)
