"""Settings: language, reminders on/off, my data, the household's links on this phone."""

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
    options = [
        Option(id="language", label=N_("Bahasa / Language")),
        toggle,
        Option(id="my_data", label=N_("Data saya"), description=N_("Lihat data, lapor data salah")),
    ]
    if ctx.chat.worker_id is not None:
        # One phone, a whole household (issue 22).
        options += [
            Option(
                id="add_person",
                label=N_("Tambah keluarga"),
                description=N_("Data keluarga di nomor ini"),
            ),
            Option(
                id="unlink",
                label=N_("Lepaskan nomor ini"),
                description=N_("Putuskan dari data pekerja"),
                aliases=("lepaskan", "lepas nomor"),
            ),
        ]
    return options


async def _settings_next(ctx: Ctx, value: str) -> Outcome:
    if value == "language":
        return "language"
    if value == "my_data":
        return Goto("my_data")
    if value == "add_person":
        return Goto("link", data={"add": True})
    if value == "unlink":
        return Goto("unlink")
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
