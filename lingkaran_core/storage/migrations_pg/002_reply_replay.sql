-- 002: remember the replies to the last message of each chat until the channel confirms they
-- were sent, so a message redelivered after a crash gets its replies again (its effects are
-- not repeated: the inbound id is already recorded).
ALTER TABLE conversations ADD COLUMN last_message_id TEXT;
ALTER TABLE conversations ADD COLUMN last_replies TEXT;
ALTER TABLE conversations ADD COLUMN replies_sent BIGINT NOT NULL DEFAULT 1;
