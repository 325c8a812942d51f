-- 005: what the facilitator desk needs. A revoked facilitator's chat is told once that access
-- ended; failed bind-code attempts are counted per chat (rate limit); tickets are scanned by
-- status for escalation and their messages read in order.
ALTER TABLE facilitators ADD COLUMN revoke_notified_at TEXT;

CREATE TABLE bind_code_failures (
    id      INTEGER PRIMARY KEY,
    chat_id INTEGER NOT NULL,
    at      TEXT NOT NULL
);
CREATE INDEX bind_code_failures_chat ON bind_code_failures(chat_id, at);

CREATE INDEX tickets_status ON tickets(status, escalated_at);
CREATE INDEX ticket_messages_ticket ON ticket_messages(ticket_id, id);
CREATE INDEX workers_registered_by ON workers(registered_by);
