"""The outbox: counts per channel, class and status, dead letters, requeue."""

from __future__ import annotations

from starlette.responses import RedirectResponse, Response

from lingkaran.console import labels
from lingkaran.console.guard import Call
from lingkaran.console.views.shared import ViewsBase, _audit
from lingkaran_core.storage import admin_repo, outbox_repo


class OutboxPages(ViewsBase):
    """The outbox's state and the requeue action."""

    async def outbox(self, c: Call) -> Response:
        async with self.db.read() as r:
            counts = await admin_repo.outbox_counts(r)
            dead = await outbox_repo.dead_letters(r, limit=50)
        by_status: dict[str, int] = {}
        rows = []
        for channel, msg_class, status, n in sorted(counts):
            by_status[status] = by_status.get(status, 0) + n
            rows.append(
                [
                    labels.label(c.t, labels.CHANNEL, channel),
                    msg_class,
                    labels.label(c.t, labels.OUTBOX_STATUS, status),
                    n,
                ]
            )
        return self.page(
            c,
            "outbox.html",
            rows=rows,
            summary=[
                (labels.label(c.t, labels.OUTBOX_STATUS, s), n)
                for s, n in sorted(by_status.items())
            ],
            dead=[
                {
                    "id": x.id,
                    "channel": labels.label(c.t, labels.CHANNEL, x.channel),
                    "status": labels.label(c.t, labels.OUTBOX_STATUS, x.status),
                    "attempts": x.attempts,
                    "error": (x.last_error or "")[:160],
                }
                for x in dead
            ],
        )

    async def outbox_requeue(self, c: Call) -> Response:
        async with self.db.tx() as tx:
            n = await admin_repo.requeue_outbox(tx, now=c.now, statuses=("failed", "dead"))
            await _audit(tx, c, "outbox.requeue", "outbox", details={"rows": n})
        return RedirectResponse("/console/outbox?msg=requeued", status_code=303)
