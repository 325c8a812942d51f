"""Facilitators (pendamping desa, Perisai agents): bind codes and the facilitator's desk.

The desk: register a worker on the spot, find workers, read the scope's summary, follow up leads,
claims with missing documents and tickets, and reply to tickets. One module per screen; the use
cases and the scope checks are services (``lingkaran_core.services``), which these screens only
ask and translate. Everything a facilitator does is audited (who, what, which record, channel,
when).

    common      the acting facilitator, list paging, audit of views and refusals
    bind        the before-every-message hook: bind codes, revocation, answers to tickets
    register    fac_register        lookup   fac_find         summary  fac_summary
    leads       fac_leads           claims   fac_claims       tickets  fac_tickets
    verify      fac_verify (confirm a worker's identity in person: link factor d)
"""

from handlers.facilitator.bind import bind_code_hook, code_candidate
from handlers.facilitator.claims import FAC_CLAIMS
from handlers.facilitator.common import FLOW_NAMES, current_facilitator, scope_name
from handlers.facilitator.leads import FAC_LEADS
from handlers.facilitator.lookup import FAC_FIND, worker_card
from handlers.facilitator.register import FAC_REGISTER
from handlers.facilitator.summary import FAC_SUMMARY
from handlers.facilitator.tickets import FAC_TICKETS
from handlers.facilitator.verify import FAC_VERIFY

# Kept for callers of the former module (the admin CLI's tickets, tests): services now.
from lingkaran_core.services import (
    add_working_days,
    close_ticket,
    escalate_tickets,
    reply_to_ticket,
    ticket_messages,
)

assert {
    f.name
    for f in (FAC_REGISTER, FAC_FIND, FAC_SUMMARY, FAC_LEADS, FAC_CLAIMS, FAC_TICKETS, FAC_VERIFY)
} == FLOW_NAMES

__all__ = [
    "FAC_CLAIMS",
    "FAC_FIND",
    "FAC_LEADS",
    "FAC_REGISTER",
    "FAC_SUMMARY",
    "FAC_TICKETS",
    "FAC_VERIFY",
    "FLOW_NAMES",
    "add_working_days",
    "bind_code_hook",
    "close_ticket",
    "code_candidate",
    "current_facilitator",
    "escalate_tickets",
    "reply_to_ticket",
    "scope_name",
    "ticket_messages",
    "worker_card",
]
