-- 006: what the channel edges need. A chat that blocked the bot (Telegram `my_chat_member`
-- "kicked", or a 403 "bot was blocked") is marked: its outbox rows wait as `held` until the user
-- unblocks, instead of failing one 403 at a time. Updates no library could parse are recorded
-- for staff (NIKs masked, size-capped). A WhatsApp message whose processing failed is retried
-- at the next start up to a few attempts, its last error kept.
ALTER TABLE chats ADD COLUMN blocked_at TEXT;

CREATE TABLE unparsed_updates (
    id          INTEGER PRIMARY KEY,
    channel     TEXT NOT NULL,
    update_id   TEXT NOT NULL,
    kind        TEXT NOT NULL,
    error       TEXT NOT NULL,
    received_at TEXT NOT NULL,
    payload     TEXT,
    UNIQUE (channel, update_id)
);

ALTER TABLE inbound_messages ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE inbound_messages ADD COLUMN last_error TEXT;
CREATE INDEX inbound_failed ON inbound_messages(channel, status) WHERE status = 'failed';
