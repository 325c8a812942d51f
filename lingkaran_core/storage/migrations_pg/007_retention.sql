-- Retention (UU 27/2022: personal data kept only as long as its purpose needs): a claim
-- document whose file was deleted keeps its row (kind, hash, size: the claim's history) with
-- the time it was purged; the file path is emptied.
ALTER TABLE claim_documents ADD COLUMN purged_at TEXT;
CREATE INDEX claims_final ON claims(status, updated_at);
