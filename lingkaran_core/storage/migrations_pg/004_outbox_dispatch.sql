-- 004: what the outbox dispatcher needs. `via_template` names the WhatsApp template a row went
-- out as (a business-initiated message, counted against the messaging limit per rolling 24 h);
-- the indexes serve the status counts of `admin outbox`, that 24 h count, and re-queueing held
-- rows of one user when they write again.
ALTER TABLE outbox ADD COLUMN via_template TEXT;
CREATE INDEX outbox_status ON outbox(status, channel);
CREATE INDEX outbox_business_sent ON outbox(channel, sent_at) WHERE via_template IS NOT NULL;
CREATE INDEX outbox_user ON outbox(channel, user_ref, status);
