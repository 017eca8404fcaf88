-- Core schema. Times are epoch milliseconds (UTC) in BIGINT columns so that one
-- migration serves SQLite and PostgreSQL; days are 'YYYY-MM-DD' in the business zone.

CREATE TABLE customers (
    id ID_PK,
    telegram_id BIGINT UNIQUE,
    external_id TEXT UNIQUE,
    phone TEXT UNIQUE,
    name TEXT,
    username TEXT,
    language TEXT,
    customer_since TEXT,
    -- 'MM-DD' of customer_since (or of the first visit): the anniversary index.
    since_md TEXT,
    link_token TEXT UNIQUE,
    opted_out INTEGER NOT NULL DEFAULT 0,
    unreachable INTEGER NOT NULL DEFAULT 0,
    unreachable_reason TEXT,
    last_surveyed_at BIGINT,
    forgotten_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX customers_since_md ON customers (since_md);

CREATE TABLE visits (
    id ID_PK,
    visit_key TEXT NOT NULL UNIQUE,
    customer_id BIGINT REFERENCES customers (id),
    visited_at BIGINT NOT NULL,
    -- The offset the till reported, so quiet hours follow the customer's clock.
    utc_offset_minutes INTEGER,
    location TEXT NOT NULL DEFAULT '',
    staff TEXT NOT NULL DEFAULT '',
    touchpoint TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL,
    outcome TEXT NOT NULL,
    skip_reason TEXT,
    day TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX visits_customer ON visits (customer_id, visited_at);

-- One survey per scheduled visit. status: scheduled -> sent -> answered -> completed,
-- or expired / failed / skipped. step: which question the customer sees now.
CREATE TABLE surveys (
    id ID_PK,
    visit_id BIGINT NOT NULL UNIQUE REFERENCES visits (id),
    customer_id BIGINT NOT NULL REFERENCES customers (id),
    location TEXT NOT NULL DEFAULT '',
    staff TEXT NOT NULL DEFAULT '',
    touchpoint TEXT NOT NULL DEFAULT '',
    day TEXT NOT NULL,
    status TEXT NOT NULL,
    step TEXT NOT NULL DEFAULT 'nps',
    due_at BIGINT NOT NULL,
    deadline_at BIGINT NOT NULL,
    sent_at BIGINT,
    expires_at BIGINT,
    chat_id BIGINT,
    message_id BIGINT,
    language TEXT,
    nps INTEGER,
    ces INTEGER,
    reason TEXT,
    nps_at BIGINT,
    ces_at BIGINT,
    reason_at BIGINT,
    completed_at BIGINT,
    reminded_at BIGINT,
    closed_reason TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX surveys_status_expires ON surveys (status, expires_at);
CREATE INDEX surveys_chat_step ON surveys (chat_id, status);
CREATE INDEX surveys_customer ON surveys (customer_id);
CREATE INDEX surveys_day ON surveys (day);

-- Per-day rollups kept in the same transaction as each answer: reports cost
-- O(days x segments). Rebuildable from surveys.
CREATE TABLE daily_rollups (
    day TEXT NOT NULL,
    location TEXT NOT NULL,
    staff TEXT NOT NULL,
    touchpoint TEXT NOT NULL,
    sent INTEGER NOT NULL DEFAULT 0,
    answered INTEGER NOT NULL DEFAULT 0,
    promoters INTEGER NOT NULL DEFAULT 0,
    passives INTEGER NOT NULL DEFAULT 0,
    detractors INTEGER NOT NULL DEFAULT 0,
    ces_sum INTEGER NOT NULL DEFAULT 0,
    ces_count INTEGER NOT NULL DEFAULT 0,
    ces_easy INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, location, staff, touchpoint)
);

-- The delivery funnel per location and day: reported, skipped:<reason>, sent,
-- delivered, answered, failed, blocked.
CREATE TABLE funnel_daily (
    day TEXT NOT NULL,
    location TEXT NOT NULL,
    event TEXT NOT NULL,
    count INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, location, event)
);

-- The one outbound queue. Every message the bot sends on its own initiative is a
-- row here first; dedupe_key makes "never twice" a constraint, not a hope.
CREATE TABLE outbox (
    id ID_PK,
    kind TEXT NOT NULL,
    dedupe_key TEXT UNIQUE,
    priority INTEGER NOT NULL,
    chat_id BIGINT NOT NULL,
    ref_id BIGINT,
    payload TEXT NOT NULL DEFAULT '{}',
    due_at BIGINT NOT NULL,
    deadline_at BIGINT,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    lease_owner TEXT,
    lease_until BIGINT,
    last_error TEXT,
    message_id BIGINT,
    created_at BIGINT NOT NULL,
    finished_at BIGINT
);
CREATE INDEX outbox_pending ON outbox (status, due_at, priority);
