-- 017: leases, so that work meant to happen once (a reminder sweep, a digest, the Telegram
-- poller) happens once when several instances share one database. A lease names its holder
-- (one process) and lapses at `until`; another instance may take it only after that.
CREATE TABLE leases (
    name   TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    until  TEXT NOT NULL,
    taken_at TEXT NOT NULL
);
