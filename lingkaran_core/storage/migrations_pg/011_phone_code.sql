-- Link factor (b) (issue 20): a one-time code sent by WhatsApp to the roster phone, typed back in
-- the chat that asked for it. Only its hash is kept, with its expiry and the wrong tries.
ALTER TABLE chat_identity ADD COLUMN phone_code TEXT;
ALTER TABLE chat_identity ADD COLUMN phone_code_until TEXT;
ALTER TABLE chat_identity ADD COLUMN phone_code_tries BIGINT NOT NULL DEFAULT 0;
ALTER TABLE chat_identity ADD COLUMN phone_codes_sent TEXT NOT NULL DEFAULT '[]';
