-- 019: optional TOTP (RFC 6238) for console staff accounts. ``totp_secret`` is the base32 key
-- (NULL: not enrolled); ``totp_last_step`` is the last 30-second step accepted, so a code is
-- never accepted twice. A login whose password was right waits in ``staff_login_pending`` (by
-- the hash of a short-lived cookie token) until its code is typed.

ALTER TABLE staff ADD COLUMN totp_secret TEXT;
ALTER TABLE staff ADD COLUMN totp_last_step INTEGER;

CREATE TABLE staff_login_pending (
    token_hash TEXT PRIMARY KEY,
    staff_id   INTEGER NOT NULL REFERENCES staff(id) ON DELETE CASCADE,
    created_at TEXT NOT NULL
);
CREATE INDEX staff_login_pending_staff ON staff_login_pending(staff_id);
