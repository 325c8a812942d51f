-- 008: the OPD web console: staff accounts, their sessions, failed logins (throttling), and the
-- photos a facilitator took for a registration (shown to the OPD before verifying it).

CREATE TABLE staff (
    id             INTEGER PRIMARY KEY,
    username       TEXT NOT NULL UNIQUE,
    name           TEXT NOT NULL,
    role           TEXT NOT NULL CHECK (role IN ('admin', 'opd', 'viewer')),
    kecamatan_code TEXT,
    password_hash  TEXT NOT NULL,
    disabled_at    TEXT,
    last_login_at  TEXT,
    created_at     TEXT NOT NULL,
    CHECK (role != 'viewer' OR kecamatan_code IS NOT NULL)
);

CREATE TABLE staff_sessions (
    token_hash   TEXT PRIMARY KEY,
    staff_id     INTEGER NOT NULL REFERENCES staff(id) ON DELETE CASCADE,
    csrf_token   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    ended_at     TEXT
);
CREATE INDEX staff_sessions_staff ON staff_sessions(staff_id);

CREATE TABLE staff_login_failures (
    id       INTEGER PRIMARY KEY,
    username TEXT NOT NULL,
    remote   TEXT NOT NULL,
    at       TEXT NOT NULL
);
CREATE INDEX staff_login_failures_user ON staff_login_failures(username, at);
CREATE INDEX staff_login_failures_remote ON staff_login_failures(remote, at);

CREATE TABLE registration_documents (
    id          INTEGER PRIMARY KEY,
    worker_id   INTEGER NOT NULL REFERENCES workers(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    path        TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    mime        TEXT NOT NULL,
    size        INTEGER NOT NULL,
    received_at TEXT NOT NULL,
    UNIQUE (worker_id, sha256)
);

CREATE INDEX claims_reported ON claims(reported_at);

-- The console's reports count the 82k roster by sector and by coverage: covering indexes make
-- them index scans (the kecamatan viewer's desa_code filter included).
CREATE INDEX workers_report_sector ON workers(sector, registration_status, desa_code);
CREATE INDEX workers_report_coverage
    ON workers(coverage_start, paid_through, registration_status, desa_code);
