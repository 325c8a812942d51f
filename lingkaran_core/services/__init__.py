"""Use cases: each runs inside the caller's transaction and writes its audit and outbox rows.

Flows (handlers), the admin CLI and the scheduler all change the world through these functions,
so a claim status change, say, records its event, audits it and queues the notification the same
way whoever caused it. A use case acting for a facilitator takes the ``Facilitator`` as its actor
and checks the scope itself (``facilitators.check_scope``), so no flow can skip it.

One module per use case; everything is re-exported here (``services.submit_claim(...)``)::

    notify          audit log, outbox enqueue, the OPD's admin queue
    facilitators    bind codes, scope (``check_scope``), the acting facilitator
    claims          file, advance, list a scope's claims
    claim_stages    JKK tahap I/II, the notice forwarded, reports of the same event
    documents       claim documents on disk
    link            link a chat to a worker (NIK + date of birth), with a cool-down
    link_codes      the code factors of a link: a WhatsApp code, the facilitator's desk code
    household       the several workers one chat is linked to; unlinking (issue 22)
    tickets         the human inbox, replies, closing, escalation
    leads           self-screened people for the facilitator
    registrations   a facilitator registers a worker
    workers         a facilitator finds workers of their scope
    whatsapp_identity  a WhatsApp sender's chat by BSUID / number (imported as a module)
"""

from lingkaran_core.services.claim_stages import (
    DoctorOutcome,
    NoticeState,
    OverdueNotices,
    jkk_stage,
    mark_notice_sent,
    notice_state,
    open_tahap_two,
    overdue_notices,
    same_event_claims,
    stage_of_answers,
)
from lingkaran_core.services.claims import (
    NewClaim,
    Payment,
    claim_desa,
    claim_for_facilitator,
    claims_for_facilitator,
    event_coverage,
    missing_documents,
    next_claim_ref,
    open_claims_of_worker,
    subject_worker,
    submit_claim,
    transition_claim,
)
from lingkaran_core.services.documents import (
    ALLOWED_DOCUMENT_MIMES,
    MAX_DOCUMENT_BYTES,
    StoredDocument,
    add_document,
)
from lingkaran_core.services.facilitators import (
    Facilitator,
    active_facilitator,
    bind_attempts_exhausted,
    check_scope,
    clear_bind_failures,
    desk_counts,
    facilitator_chats_for_desa,
    facilitator_covers,
    in_scope,
    note_revocation_told,
    record_bind_failure,
    redeem_code,
)
from lingkaran_core.services.household import (
    ChatLink,
    chats_of_worker,
    check_room,
    has_room,
    kk_counts_for,
    linked_worker,
    linked_worker_ids,
    linked_workers,
    links_of_chat,
    links_of_worker,
    unlink,
)
from lingkaran_core.services.leads import (
    Lead,
    close_lead,
    create_lead,
    lead_for_facilitator,
    leads_for_facilitator,
    mark_lead_contacted,
)
from lingkaran_core.services.limits import check_claim_limit, check_ticket_limit, check_upload_limit
from lingkaran_core.services.link import (
    FAILURE_MEMORY,
    LOCKOUT,
    MAX_LINK_FAILURES,
    LinkMatch,
    filed_by_this_owner,
    forget_link,
    link_account,
    link_locked_until,
    pending_worker,
    refresh_link,
    verify_by_fact,
    verify_by_phone,
)
from lingkaran_core.services.link_codes import (
    PendingLink,
    confirm_by_facilitator,
    issue_desk_code,
    pending_for_desk,
    send_phone_code,
    verify_by_phone_code,
)
from lingkaran_core.services.notify import (
    ADMIN_CHANNEL,
    ADMIN_QUEUE,
    alert_admin,
    audit,
    enqueue,
    enqueue_to_chat,
)
from lingkaran_core.services.registrations import NewWorker, register_worker, request_reregistration
from lingkaran_core.services.tickets import (
    Ticket,
    add_working_days,
    answered_ticket_of_chat,
    close_ticket,
    escalate_tickets,
    keep_voice_note,
    open_ticket,
    open_ticket_of_chat,
    reply_to_ticket,
    ticket_for_facilitator,
    ticket_messages,
    ticket_ref,
    tickets_for_facilitator,
)
from lingkaran_core.services.workers import (
    search_names,
    worker_for_facilitator,
    worker_for_facilitator_by_nik,
    workers_for_facilitator,
    workers_for_facilitator_by_ids,
)

__all__ = [
    "ADMIN_CHANNEL",
    "ADMIN_QUEUE",
    "ALLOWED_DOCUMENT_MIMES",
    "FAILURE_MEMORY",
    "LOCKOUT",
    "MAX_DOCUMENT_BYTES",
    "MAX_LINK_FAILURES",
    "ChatLink",
    "DoctorOutcome",
    "Facilitator",
    "Lead",
    "LinkMatch",
    "NewClaim",
    "NewWorker",
    "NoticeState",
    "OverdueNotices",
    "Payment",
    "PendingLink",
    "StoredDocument",
    "Ticket",
    "active_facilitator",
    "add_document",
    "add_working_days",
    "alert_admin",
    "answered_ticket_of_chat",
    "audit",
    "bind_attempts_exhausted",
    "chats_of_worker",
    "check_claim_limit",
    "check_room",
    "check_scope",
    "check_ticket_limit",
    "check_upload_limit",
    "claim_desa",
    "claim_for_facilitator",
    "claims_for_facilitator",
    "clear_bind_failures",
    "close_lead",
    "close_ticket",
    "confirm_by_facilitator",
    "create_lead",
    "desk_counts",
    "enqueue",
    "enqueue_to_chat",
    "escalate_tickets",
    "event_coverage",
    "facilitator_chats_for_desa",
    "facilitator_covers",
    "filed_by_this_owner",
    "forget_link",
    "has_room",
    "in_scope",
    "issue_desk_code",
    "jkk_stage",
    "keep_voice_note",
    "kk_counts_for",
    "lead_for_facilitator",
    "leads_for_facilitator",
    "link_account",
    "link_locked_until",
    "linked_worker",
    "linked_worker_ids",
    "linked_workers",
    "links_of_chat",
    "links_of_worker",
    "mark_lead_contacted",
    "mark_notice_sent",
    "missing_documents",
    "next_claim_ref",
    "note_revocation_told",
    "notice_state",
    "open_claims_of_worker",
    "open_tahap_two",
    "open_ticket",
    "open_ticket_of_chat",
    "overdue_notices",
    "pending_for_desk",
    "pending_worker",
    "record_bind_failure",
    "redeem_code",
    "refresh_link",
    "register_worker",
    "reply_to_ticket",
    "request_reregistration",
    "same_event_claims",
    "search_names",
    "send_phone_code",
    "stage_of_answers",
    "subject_worker",
    "submit_claim",
    "ticket_for_facilitator",
    "ticket_messages",
    "ticket_ref",
    "tickets_for_facilitator",
    "transition_claim",
    "unlink",
    "verify_by_fact",
    "verify_by_phone",
    "verify_by_phone_code",
    "worker_for_facilitator",
    "worker_for_facilitator_by_nik",
    "workers_for_facilitator",
    "workers_for_facilitator_by_ids",
]
