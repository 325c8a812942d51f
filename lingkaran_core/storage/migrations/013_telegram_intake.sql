-- The Telegram intake records every update before it is acknowledged and forgets the payload
-- once processed. Its start-up queries look for rows that still hold a payload: index them
-- (WhatsApp rows keep a reduced payload, under their own channel prefix).
CREATE INDEX inbound_payload ON inbound_messages(channel, status) WHERE payload IS NOT NULL;
