-- Telling the truth on the day (issue 14).
-- What the roster said about protection on the event date when the report came in
-- (lingkaran_core.coverage.EventCoverage): anything but 'protected' is a case staff check.
ALTER TABLE claims ADD COLUMN event_coverage TEXT;
-- When the OPD forwarded the JKK tahap I notice to BPJS TK (the 2×24 h alert tracks this, not
-- the claim's status).
ALTER TABLE claims ADD COLUMN notice_sent_at TEXT;
-- A document replaced by a newer photo, or sent back by staff ("foto KTP buram"): kept for the
-- record, no longer counted as received.
ALTER TABLE claim_documents ADD COLUMN replaced_at TEXT;
