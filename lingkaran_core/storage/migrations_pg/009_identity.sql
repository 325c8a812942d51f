-- Identity that proves something (issue 20).
--
-- NIK + date of birth is ONE factor (the date is digits 7-12 of the NIK), so a chat that gave
-- only those holds a *pending* link here and chats.worker_id stays NULL: every screen that shows
-- personal data reads chats.worker_id, which now means "verified". A factor the NIK does not
-- contain (the roster phone proven by the channel, the KPJ or KK number, a facilitator in
-- person) moves the link into chats.worker_id.

-- The KK (Kartu Keluarga) number: optional roster column, a fact the NIK does not contain.
ALTER TABLE workers ADD COLUMN kk TEXT;

CREATE TABLE chat_identity (
    chat_id        BIGINT PRIMARY KEY REFERENCES chats(id) ON DELETE CASCADE,
    worker_id      BIGINT NOT NULL REFERENCES workers(id) ON DELETE CASCADE,
    matched_at     TEXT NOT NULL,          -- NIK + date of birth matched
    verified_at    TEXT,                   -- NULL: pending, nothing personal is shown
    factor         TEXT,                   -- channel_phone | kpj | kk | facilitator | legacy
    last_active_at TEXT NOT NULL,          -- inactivity expiry (recycled numbers)
    desk_code      TEXT,                   -- code the worker shows the facilitator
    desk_code_until TEXT
);
CREATE UNIQUE INDEX chat_identity_desk_code ON chat_identity(desk_code)
    WHERE desk_code IS NOT NULL;
CREATE INDEX chat_identity_worker ON chat_identity(worker_id);

-- Every link made before today was NIK + date of birth only. A WhatsApp chat whose sender number
-- is the roster phone keeps its link (factor a); every other link becomes pending.
INSERT INTO chat_identity (chat_id, worker_id, matched_at, verified_at, factor, last_active_at)
SELECT c.id, c.worker_id, c.created_at,
       CASE WHEN c.channel = 'whatsapp' AND w.phone = '+' || c.user_ref
            THEN COALESCE(c.last_inbound_at, c.created_at) END,
       CASE WHEN c.channel = 'whatsapp' AND w.phone = '+' || c.user_ref
            THEN 'channel_phone' END,
       COALESCE(c.last_inbound_at, c.created_at)
FROM chats c JOIN workers w ON w.id = c.worker_id
WHERE c.worker_id IS NOT NULL;
UPDATE chats SET worker_id = NULL,
       active_role = CASE WHEN active_role = 'worker' THEN 'public' ELSE active_role END
WHERE worker_id IS NOT NULL
  AND id IN (SELECT chat_id FROM chat_identity WHERE verified_at IS NULL);
