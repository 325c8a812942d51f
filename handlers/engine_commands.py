"""Global commands, the welcome, the stale restart (``EngineCommands``, a mixin of ``Engine``).

``_command`` carries out menu, batal, kembali, bantuan, bahasa, berhenti and mulai wherever the
chat is (``engine_reading.command_of`` recognises them). A first message gets the welcome and
the anti-fraud note; a flow untouched for ``STALE_AFTER`` starts again from the menu, keeping a
half-filled report as the draft the menu offers to resume.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from handlers.i18n import N_
from handlers.sources import states
from handlers.steps import Flow, Outcome, Reply, Step
from lingkaran_core.storage import chats as chat_store

if TYPE_CHECKING:
    from handlers.engine import Ctx

STALE_AFTER = timedelta(hours=24)
STOPPED = states(
    N_(
        "Baik. Pengingat dan pengumuman tidak kami kirim lagi. Kabar klaim "
        "Bapak/Ibu tetap dikirim. Perlindungan Bapak/Ibu tidak berubah. "
        "Ketik MULAI untuk menerima pengingat lagi."
    ),
    "protected_while_paid",
)
HELP = states(
    N_(
        'Jawab dengan menekan tombol atau mengetik angkanya. Ketik "kembali" untuk '
        'mengubah jawaban sebelumnya, "batal" untuk berhenti, "menu" untuk menu '
        'utama. Bantuan petugas: pilih "Bicara dengan petugas" di menu, atau '
        "telepon BPJS Ketenagakerjaan di 175 (gratis)."
    ),
    "official_checks",
    "official_services_free",
)
FREE_WARNING = states(
    N_(
        "Penting: layanan ini GRATIS. Kami tidak pernah meminta uang, kata sandi, "
        "PIN, atau kode OTP lewat telepon atau orang lain. Kode dari kami hanya "
        "Bapak/Ibu ketik sendiri di chat ini. Jika ada yang meminta, itu penipuan."
    ),
    "service_free",
)


class EngineCommands:
    """Global commands, the welcome and the stale restart (``Engine`` inherits them)."""

    if TYPE_CHECKING:
        flows: dict[str, Flow]
        menu_flow: str

        async def show_menu(self, ctx: Ctx, *, keep_draft: bool = False) -> list[Reply]: ...

        async def start_flow(
            self, ctx: Ctx, name: str, *, step: str | None = None
        ) -> list[Reply]: ...

        async def prompt(self, ctx: Ctx) -> list[Reply]: ...

        async def _apply(
            self, ctx: Ctx, flow: Flow, step: Step | None, outcome: Outcome
        ) -> list[Reply]: ...

        def _bump(self, ctx: Ctx) -> None: ...

        def _current_step(self, ctx: Ctx) -> Step | None: ...

        def _draft_of(self, ctx: Ctx) -> dict[str, Any]: ...

        async def _pending_question(self, ctx: Ctx) -> list[Reply]: ...

    def _welcome(self, ctx: Ctx) -> list[Reply]:
        t = ctx.t
        return [
            Reply(
                text=t(
                    N_(
                        "Selamat datang, Bapak/Ibu. Ini layanan Lingkaran Cinta dari Pemkab "
                        "Jember: cek perlindungan BPJS Ketenagakerjaan, lapor kecelakaan kerja "
                        "atau kematian, dan melihat kabar klaim."
                    )
                )
            ),
            Reply(text=t(FREE_WARNING)),
        ]

    def _is_stale(self, ctx: Ctx) -> bool:
        st = ctx.state
        if st.flow == self.menu_flow or st.updated_at is None:
            return False
        return ctx.now - datetime.fromisoformat(st.updated_at) > STALE_AFTER

    async def _restart_stale(self, ctx: Ctx) -> list[Reply]:
        flow = self.flows.get(ctx.state.flow)
        note = ctx.t(
            N_("Percakapan sebelumnya sudah lama berhenti, jadi kita mulai lagi dari menu.")
        )
        if flow is not None and flow.keeps_draft and ctx.state.data:
            ctx.state.draft = {
                "flow": ctx.state.flow,
                "step": ctx.state.step,
                "data": ctx.state.data,
            }
            note += "\n" + ctx.t(N_("Laporan yang belum selesai sudah kami simpan."))
        return [Reply(text=note), *await self.show_menu(ctx, keep_draft=True)]

    async def _command(self, ctx: Ctx, cmd: str) -> list[Reply]:
        t = ctx.t
        flow = self.flows.get(ctx.state.flow)
        if cmd in ("menu", "start"):
            return await self.show_menu(ctx, keep_draft=True)
        if cmd == "cancel":
            if flow is not None and flow.on_cancel is not None:
                outcome = await flow.on_cancel(ctx)
                if outcome is not None:
                    return await self._apply(ctx, flow, None, outcome)
            in_flow = ctx.state.flow != self.menu_flow
            if flow is not None and flow.keeps_draft:
                ctx.state.draft = None
            if in_flow:
                msg = N_('Baik, dibatalkan. Tidak ada yang dikirim. Ketik "menu" kapan saja.')
            elif ctx.state.draft:
                ctx.state.draft = None  # the unfinished report the menu was offering
                msg = N_("Baik, laporan yang belum selesai sudah dihapus.")
            else:
                msg = N_("Tidak ada yang perlu dibatalkan.")
            return [Reply(text=t(msg)), *await self.show_menu(ctx)]
        if cmd == "back":
            if ctx.state.stack:
                ctx.state.step = ctx.state.stack.pop()
                self._bump(ctx)
                return await self.prompt(ctx)
            return await self.show_menu(ctx, keep_draft=True)
        if cmd == "help":
            step = self._current_step(ctx)
            text = t(step.help) if step is not None and step.help else t(HELP)
            return [Reply(text=text), *await self.prompt(ctx)]
        if cmd == "language":
            if flow is not None and flow.keeps_draft and ctx.state.data:
                ctx.state.draft = self._draft_of(ctx)
            return await self.start_flow(ctx, "settings", step="language")
        if cmd == "optout":
            await chat_store.update_chat(ctx.tx, ctx.chat.id, opted_out=1)
            ctx.chat.opted_out = True
            return [
                Reply(text=t(STOPPED)),
                *await self._pending_question(ctx),
            ]
        if cmd == "optin":
            await chat_store.update_chat(ctx.tx, ctx.chat.id, opted_out=0)
            ctx.chat.opted_out = False
            return [
                Reply(
                    text=t(
                        N_(
                            "Terima kasih. Pengingat akan kami kirim lagi. Ketik BERHENTI kapan saja."
                        )
                    )
                ),
                *await self._pending_question(ctx),
            ]
        return await self.prompt(ctx)
