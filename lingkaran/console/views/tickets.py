"""Questions (tickets) from citizens and facilitators: list, thread, reply, close."""

from __future__ import annotations

from starlette.responses import RedirectResponse, Response

from lingkaran.console import labels
from lingkaran.console.guard import Call, not_found
from lingkaran.console.views.shared import CHANNEL, ViewsBase, _int, _wib
from lingkaran_core import services
from lingkaran_core.errors import DomainError
from lingkaran_core.storage import admin_repo, console_repo


class TicketPages(ViewsBase):
    """Tickets and their replies."""

    async def tickets(self, c: Call) -> Response:
        include_closed = c.request.query_params.get("all") == "1"
        async with self.db.read() as r:
            rows = await console_repo.tickets_in_scope(
                r, kecamatan=c.staff.kecamatan, include_closed=include_closed
            )
        items = [
            {
                "id": x["id"],
                "ref": services.ticket_ref(x["id"]),
                "status": labels.label(c.t, labels.TICKET_STATUS, x["status"]),
                "escalated": x["escalated_at"] is not None,
                "who": x["worker_name"] or x["display_name"] or "-",
                "channel": labels.label(c.t, labels.CHANNEL, x["channel"]),
                "desa": self.desa_text(x["desa_code"]),
                "last": (x["last_body"] or "")[:140],
                "at": c.t.datetime(_wib(x["updated_at"])),  # type: ignore[arg-type]
            }
            for x in rows
        ]
        return self.page(c, "tickets.html", items=items, include_closed=include_closed)

    async def ticket(self, c: Call, *, status: int = 200, message: str | None = None) -> Response:
        ticket_id = _int(c.path("id"), 0)
        async with self.db.read() as r:
            row = await admin_repo.ticket_row(r, ticket_id)
            if row is None:
                return not_found(c.t)
            messages = await services.ticket_messages(r, ticket_id)
        sender = {"user": c.t("Warga"), "facilitator": c.t("Pendamping"), "admin": c.t("Petugas")}
        return self.page(
            c,
            "ticket.html",
            status=status,
            ticket={
                "id": ticket_id,
                "ref": services.ticket_ref(ticket_id),
                "status": labels.label(c.t, labels.TICKET_STATUS, row["status"]),
                "closed": row["status"] == "closed",
                "who": row["worker_name"] or row["display_name"] or "-",
                "channel": labels.label(c.t, labels.CHANNEL, row["channel"]),
                "desa": self.desa_text(row["desa_code"]),
            },
            messages=[
                {
                    "who": sender.get(m["sender"], m["sender"]),
                    "mine": m["sender"] != "user",
                    "body": m["body"] or c.t("(foto atau berkas)"),
                    "at": c.t.datetime(_wib(m["at"])),  # type: ignore[arg-type]
                }
                for m in messages
            ],
            message=message,
        )

    async def ticket_reply(self, c: Call) -> Response:
        ticket_id = _int(c.path("id"), 0)
        body = c.field("message")
        if not body:
            return await self.ticket(c, status=400, message=c.t("Tulis jawabannya dulu."))
        try:
            async with self.db.tx() as tx:
                await services.reply_to_ticket(
                    tx,
                    ticket_id=ticket_id,
                    body=body,
                    sender="admin",
                    actor_id=c.staff.actor_ref,
                    now=c.now,
                    channel=CHANNEL,
                )
        except DomainError as exc:
            return await self.ticket(c, status=409, message=labels.error_text(c.t, exc.code))
        return RedirectResponse(f"/console/tickets/{ticket_id}?msg=replied", status_code=303)

    async def ticket_close(self, c: Call) -> Response:
        ticket_id = _int(c.path("id"), 0)
        try:
            async with self.db.tx() as tx:
                await services.close_ticket(
                    tx,
                    ticket_id=ticket_id,
                    actor_kind="admin",
                    actor_id=c.staff.actor_ref,
                    now=c.now,
                    channel=CHANNEL,
                )
        except DomainError as exc:
            return self.error(c, exc)
        return RedirectResponse("/console/tickets?msg=closed", status_code=303)
