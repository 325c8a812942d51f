-- 012: WhatsApp business-scoped user ids (issue 17). Since April 2026 Meta names a WhatsApp user
-- by a BSUID ("ID.1502576394655843") besides, or instead of, the phone number. A WhatsApp chat's
-- user_ref is now its BSUID when known, else the phone number's digits (as before); the number
-- itself is the chat's phone attribute (E.164, "+62..."), set only from what Meta sent. The
-- parent BSUID (where enabled) and the username are kept for staff, never used as proof.
ALTER TABLE chats ADD COLUMN parent_user_ref TEXT;
ALTER TABLE chats ADD COLUMN username TEXT;
CREATE INDEX chats_phone ON chats(channel, phone) WHERE phone IS NOT NULL;

-- Every WhatsApp chat so far was keyed by the sender's number: that number is its phone.
UPDATE chats SET phone = '+' || user_ref
WHERE channel = 'whatsapp' AND phone IS NULL AND user_ref NOT LIKE '%.%'
  AND user_ref NOT LIKE 'merged:%';
