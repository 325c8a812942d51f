"""The console's pages. Each function gets an authorised ``Call`` (see ``guard``) and calls the
same services as the chat and the admin CLI; what it shows goes through ``labels``.

One module per screen (claims, registrations, tickets, facilitators, outbox, roster, reports),
each a mixin over ``shared.ViewsBase``; ``Views`` puts them together. The "Nomor terhubung" page
lives in ``lingkaran.console.links``.
"""

from __future__ import annotations

from lingkaran.console.views.claims import ClaimPages, jkk_clock
from lingkaran.console.views.facilitators import FacilitatorPages
from lingkaran.console.views.outbox import OutboxPages
from lingkaran.console.views.registrations import RegistrationPages
from lingkaran.console.views.reports import ReportPages
from lingkaran.console.views.roster import RosterPages
from lingkaran.console.views.shared import (
    CHANNEL,
    MESSAGES,
    PAGE_SIZE,
    SECURITY_HEADERS,
    ViewsBase,
    file_response,
    render,
)
from lingkaran.console.views.tickets import TicketPages

__all__ = [
    "CHANNEL",
    "MESSAGES",
    "PAGE_SIZE",
    "SECURITY_HEADERS",
    "Views",
    "ViewsBase",
    "file_response",
    "jkk_clock",
    "render",
]


class Views(
    ClaimPages,
    RegistrationPages,
    TicketPages,
    FacilitatorPages,
    OutboxPages,
    RosterPages,
    ReportPages,
):
    """Renders pages; holds the database, the templates and the files folder."""
