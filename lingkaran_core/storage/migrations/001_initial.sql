-- 001: the whole first schema. Dates are ISO text (YYYY-MM-DD), instants are ISO text with
-- offset (UTC), JSON columns hold dicts. Money is integer rupiah.

CREATE TABLE facilitators (
    id              INTEGER PRIMARY KEY,
    name            TEXT NOT NULL,
    phone           TEXT,
    scope_kind      TEXT NOT NULL CHECK (scope_kind IN ('desa', 'kecamatan')),
    scope_code      TEXT NOT NULL,
    code_hash       TEXT,
    code_expires_at TEXT,
    bound_chat_id   INTEGER UNIQUE,
    bound_at        TEXT,
    revoked_at      TEXT,
    created_at      TEXT NOT NULL
);
CREATE UNIQUE INDEX facilitators_code ON facilitators(code_hash) WHERE code_hash IS NOT NULL;

CREATE TABLE workers (
    id                  INTEGER PRIMARY KEY,
    nik                 TEXT NOT NULL UNIQUE,
    name                TEXT NOT NULL,
    birth_date          TEXT NOT NULL,
    sex                 TEXT NOT NULL CHECK (sex IN ('L', 'P')),
    desa_code           TEXT NOT NULL,
    sector              TEXT NOT NULL,
    occupation          TEXT,
    phone               TEXT,
    dtsen_decile        INTEGER,
    kpj                 TEXT,
    coverage_start      TEXT,
    paid_through        TEXT,
    funder              TEXT NOT NULL DEFAULT 'pemkab_jember',
    registration_status TEXT NOT NULL DEFAULT 'verified'
        CHECK (registration_status IN ('registered', 'verified', 'rejected')),
    registered_by       INTEGER REFERENCES facilitators(id),
    rejection_reason    TEXT,
    consent_at          TEXT,
    deceased_on         TEXT,
    protected_notice_at TEXT,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL
);
CREATE INDEX workers_desa ON workers(desa_code, sector);
CREATE INDEX workers_status ON workers(registration_status);
CREATE INDEX workers_paid_through ON workers(paid_through);

CREATE TABLE contributions (
    id          INTEGER PRIMARY KEY,
    worker_id   INTEGER NOT NULL REFERENCES workers(id) ON DELETE CASCADE,
    month       TEXT NOT NULL,
    funder      TEXT NOT NULL,
    amount      INTEGER NOT NULL,
    recorded_at TEXT NOT NULL,
    UNIQUE (worker_id, month)
);

CREATE TABLE chats (
    id              INTEGER PRIMARY KEY,
    channel         TEXT NOT NULL,
    user_ref        TEXT NOT NULL,
    worker_id       INTEGER REFERENCES workers(id),
    facilitator_id  INTEGER REFERENCES facilitators(id),
    active_role     TEXT NOT NULL DEFAULT 'public',
    language        TEXT NOT NULL DEFAULT 'id',
    display_name    TEXT,
    phone           TEXT,
    opted_out       INTEGER NOT NULL DEFAULT 0,
    last_inbound_at TEXT,
    created_at      TEXT NOT NULL,
    UNIQUE (channel, user_ref)
);
CREATE INDEX chats_worker ON chats(worker_id);

CREATE TABLE conversations (
    chat_id    INTEGER PRIMARY KEY REFERENCES chats(id) ON DELETE CASCADE,
    flow       TEXT NOT NULL,
    step       TEXT NOT NULL,
    data       TEXT NOT NULL DEFAULT '{}',
    stack      TEXT NOT NULL DEFAULT '[]',
    version    INTEGER NOT NULL DEFAULT 0,
    draft      TEXT,
    updated_at TEXT NOT NULL
);

CREATE TABLE link_attempts (
    key          TEXT PRIMARY KEY,
    failures     INTEGER NOT NULL DEFAULT 0,
    lockouts     INTEGER NOT NULL DEFAULT 0,
    locked_until TEXT,
    updated_at   TEXT NOT NULL
);

CREATE TABLE claim_counters (
    year INTEGER PRIMARY KEY,
    last INTEGER NOT NULL
);

CREATE TABLE claims (
    id                INTEGER PRIMARY KEY,
    ref               TEXT NOT NULL UNIQUE,
    type              TEXT NOT NULL CHECK (type IN ('JKK', 'JKM', 'BEASISWA')),
    status            TEXT NOT NULL,
    event_date        TEXT NOT NULL,
    event_at          TEXT,
    reported_at       TEXT NOT NULL,
    late_report       INTEGER NOT NULL DEFAULT 0,
    reporter_chat_id  INTEGER REFERENCES chats(id),
    facilitator_id    INTEGER REFERENCES facilitators(id),
    worker_id         INTEGER REFERENCES workers(id),
    subject_nik       TEXT,
    subject_name      TEXT,
    desa_code         TEXT,
    claimant_name     TEXT,
    claimant_nik      TEXT,
    claimant_phone    TEXT,
    relation          TEXT,
    answers           TEXT NOT NULL DEFAULT '{}',
    checklist         TEXT NOT NULL DEFAULT '[]',
    docs_requested_at TEXT,
    idempotency_key   TEXT UNIQUE,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);
CREATE INDEX claims_status ON claims(status);
CREATE INDEX claims_reporter ON claims(reporter_chat_id);
CREATE INDEX claims_worker ON claims(worker_id);
CREATE INDEX claims_desa ON claims(desa_code, status);

CREATE TABLE claim_documents (
    id          INTEGER PRIMARY KEY,
    claim_id    INTEGER NOT NULL REFERENCES claims(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    path        TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    mime        TEXT NOT NULL,
    size        INTEGER NOT NULL,
    chat_id     INTEGER REFERENCES chats(id),
    received_at TEXT NOT NULL,
    UNIQUE (claim_id, sha256)
);

CREATE TABLE claim_events (
    id          INTEGER PRIMARY KEY,
    claim_id    INTEGER NOT NULL REFERENCES claims(id) ON DELETE CASCADE,
    from_status TEXT,
    to_status   TEXT NOT NULL,
    actor       TEXT NOT NULL,
    actor_ref   TEXT,
    channel     TEXT,
    note        TEXT,
    at          TEXT NOT NULL
);
CREATE INDEX claim_events_claim ON claim_events(claim_id, id);

CREATE TABLE leads (
    id           INTEGER PRIMARY KEY,
    desa_code    TEXT NOT NULL,
    chat_id      INTEGER REFERENCES chats(id),
    phone        TEXT,
    name         TEXT,
    answers      TEXT NOT NULL DEFAULT '{}',
    decision     TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'open'
        CHECK (status IN ('open', 'contacted', 'registered', 'closed')),
    close_reason TEXT,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);
CREATE INDEX leads_desa ON leads(desa_code, status);

CREATE TABLE tickets (
    id             INTEGER PRIMARY KEY,
    chat_id        INTEGER NOT NULL REFERENCES chats(id),
    worker_id      INTEGER REFERENCES workers(id),
    desa_code      TEXT,
    facilitator_id INTEGER REFERENCES facilitators(id),
    topic          TEXT NOT NULL DEFAULT 'question',
    status         TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'answered', 'closed')),
    escalated_at   TEXT,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    closed_at      TEXT
);
CREATE INDEX tickets_desa ON tickets(desa_code, status);

CREATE TABLE ticket_messages (
    id        INTEGER PRIMARY KEY,
    ticket_id INTEGER NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    sender    TEXT NOT NULL CHECK (sender IN ('user', 'facilitator', 'admin')),
    body      TEXT,
    media     TEXT,
    at        TEXT NOT NULL
);

CREATE TABLE inbound_messages (
    channel     TEXT NOT NULL,
    message_id  TEXT NOT NULL,
    user_ref    TEXT NOT NULL,
    received_at TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'received'
        CHECK (status IN ('received', 'processed', 'failed')),
    payload     TEXT,
    PRIMARY KEY (channel, message_id)
);
CREATE INDEX inbound_pending ON inbound_messages(status) WHERE status = 'received';

CREATE TABLE outbox (
    id                 INTEGER PRIMARY KEY,
    chat_id            INTEGER REFERENCES chats(id),
    channel            TEXT NOT NULL,
    user_ref           TEXT NOT NULL,
    msg_key            TEXT NOT NULL,
    params             TEXT NOT NULL DEFAULT '{}',
    language           TEXT,
    class              TEXT NOT NULL CHECK (class IN ('reply', 'transactional', 'reminder', 'broadcast')),
    priority           INTEGER NOT NULL DEFAULT 5,
    dedupe_key         TEXT UNIQUE,
    not_before         TEXT NOT NULL,
    attempts           INTEGER NOT NULL DEFAULT 0,
    status             TEXT NOT NULL DEFAULT 'queued',
    claimed_at         TEXT,
    last_error         TEXT,
    channel_message_id TEXT,
    delivery_status    TEXT,
    created_at         TEXT NOT NULL,
    sent_at            TEXT
);
CREATE INDEX outbox_due ON outbox(channel, status, not_before);
CREATE INDEX outbox_channel_msg ON outbox(channel_message_id);

CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY,
    at          TEXT NOT NULL,
    actor_kind  TEXT NOT NULL,
    actor_id    TEXT,
    action      TEXT NOT NULL,
    target_kind TEXT,
    target_id   TEXT,
    channel     TEXT,
    details     TEXT NOT NULL DEFAULT '{}'
);
