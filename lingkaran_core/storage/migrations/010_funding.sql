-- Funded periods (DOMAIN.md §9): the Pemkab pays contributions in budget periods (an SK
-- Bupati per period), not forever. A period applies to one sector's cohort, or to everybody
-- when sector is NULL; a worker may carry their own period (funding_period_id) instead.
CREATE TABLE funding_periods (
    id         INTEGER PRIMARY KEY,
    funder     TEXT NOT NULL,
    reference  TEXT NOT NULL,
    starts_on  TEXT NOT NULL,
    ends_on    TEXT NOT NULL,
    sector     TEXT,
    created_at TEXT NOT NULL,
    CHECK (ends_on >= starts_on)
);
CREATE INDEX funding_periods_span ON funding_periods(ends_on, starts_on);
ALTER TABLE workers ADD COLUMN funding_period_id INTEGER REFERENCES funding_periods(id);
