-- Anniversary thank-yous. The ledger makes "at most one thank-you per customer and
-- year" a constraint: Send pressed twice, by two admins, or again after a restart
-- only finds the customers nobody has claimed yet.

CREATE TABLE anniversary_runs (
    id ID_PK,
    -- The business day greeted ('YYYY-MM-DD', business time zone).
    day TEXT NOT NULL,
    -- 'manual' (an admin pressed Send) or 'auto' (ANNIVERSARY_AUTO_SEND_AT).
    mode TEXT NOT NULL,
    -- Telegram id of the admin who pressed Send; NULL for the automatic run.
    started_by BIGINT,
    -- running -> done, or cancelled.
    status TEXT NOT NULL DEFAULT 'running',
    planned INTEGER NOT NULL DEFAULT 0,
    skipped_opted_out INTEGER NOT NULL DEFAULT 0,
    skipped_unreachable INTEGER NOT NULL DEFAULT 0,
    already_sent INTEGER NOT NULL DEFAULT 0,
    -- The progress message edited as the run goes.
    chat_id BIGINT,
    message_id BIGINT,
    started_at BIGINT NOT NULL,
    finished_at BIGINT
);
CREATE INDEX anniversary_runs_day ON anniversary_runs (day, mode);

CREATE TABLE anniversary_sends (
    id ID_PK,
    customer_id BIGINT NOT NULL REFERENCES customers (id),
    -- The calendar year of the anniversary: one thank-you per customer and year.
    anniversary_year INTEGER NOT NULL,
    anniversary_date TEXT,
    years INTEGER,
    run_id BIGINT REFERENCES anniversary_runs (id),
    -- claimed -> queued (outbox row written) -> sent | failed
    status TEXT NOT NULL DEFAULT 'claimed',
    outbox_id BIGINT,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (customer_id, anniversary_year)
);
CREATE INDEX anniversary_sends_run ON anniversary_sends (run_id, status);
CREATE INDEX anniversary_sends_outbox ON anniversary_sends (outbox_id);
