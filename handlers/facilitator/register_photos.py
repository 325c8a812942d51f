"""Photos of a worker just registered: sent on the "Tersimpan" screen of ``fac_register``, stored
for the OPD by ``services.registration_photos`` (the console's registration page shows them)."""

from __future__ import annotations

from handlers.engine import Answer, Ctx, Invalid
from handlers.facilitator.common import current_facilitator
from handlers.i18n import N_
from lingkaran_core.errors import Conflict, DomainError, NotAuthorised, NotFound
from lingkaran_core.services import registration_photos

__all__ = ["PHOTO_ERRORS", "photo_parse"]

PHOTO_ERRORS: dict[str, str] = {
    "document.too_large": N_(
        "Berkas terlalu besar (paling besar {max_mb} MB). Mohon kirim foto biasa."
    ),
    "document.bad_type": N_("Mohon kirim foto (JPG atau PNG), bukan berkas lain."),
    "registration.too_many_photos": N_("Sudah {max} foto untuk pendaftaran ini; cukup."),
}


async def photo_parse(ctx: Ctx, answer: Answer) -> str:
    """A button, or a photo of the worker just registered (stored for the OPD to see)."""
    if answer.option is not None or answer.media is None:
        return answer.value
    f = await current_facilitator(ctx)
    worker_id = ctx.data.get("worker_id")
    if f is None or not worker_id:
        raise Invalid(N_("Foto tidak bisa disimpan untuk pendaftaran ini."))
    try:
        stored = await registration_photos.add_registration_photo(
            ctx.tx,
            f,
            int(worker_id),
            data=answer.media.data,
            mime=answer.media.mime,
            files_dir=ctx.db.files_dir,
            now=ctx.now,
            chat_id=ctx.chat.id,
            channel=ctx.chat.channel,
        )
    except (NotAuthorised, NotFound, Conflict):
        raise Invalid(N_("Foto tidak bisa disimpan untuk pendaftaran ini.")) from None
    except DomainError as err:
        msgid = PHOTO_ERRORS.get(err.code)
        if msgid is None:
            raise
        raise Invalid(msgid, **err.params) from err
    if stored.duplicate:
        raise Invalid(N_("Foto ini sudah diterima. Kirim foto lain bila perlu."))
    ctx.data["photos"] = stored.count
    return "photo"
