-- Closing the loop: one case per detractor survey, and the history of every step.
-- Times are epoch milliseconds (UTC). All state lives here so that SLA escalations
-- and follow-ups survive restarts: a scheduler only scans the due columns.

-- status: new -> taken -> resolved, or new/taken -> closed (closed without a fix).
CREATE TABLE cases (
    id ID_PK,
    survey_id BIGINT NOT NULL UNIQUE REFERENCES surveys (id),
    customer_id BIGINT NOT NULL REFERENCES customers (id),
    status TEXT NOT NULL DEFAULT 'new',
    -- Telegram user id and display name of the manager who owns the case.
    owner_id BIGINT,
    owner_name TEXT,
    opened_at BIGINT NOT NULL,
    taken_at BIGINT,
    resolved_at BIGINT,
    closed_at BIGINT,
    closed_reason TEXT,
    resolution_note TEXT,
    -- SLA deadlines: take_due_at is set on opening, resolve_due_at on taking.
    take_due_at BIGINT NOT NULL,
    resolve_due_at BIGINT,
    escalated_take_at BIGINT,
    escalated_resolve_at BIGINT,
    -- The alert in the manager chat, edited in place as the case moves.
    alert_chat_id BIGINT,
    alert_message_id BIGINT,
    notify_customer INTEGER NOT NULL DEFAULT 0,
    followup_due_at BIGINT,
    followup_sent_at BIGINT,
    -- 'yes' or 'no', once.
    followup_answer TEXT,
    followup_at BIGINT,
    -- A manager's next text message in the manager chat belongs to this case:
    -- pending_action is 'message', 'resolve_notify', 'resolve_silent' or 'close_reason'.
    pending_action TEXT,
    pending_by_id BIGINT,
    pending_at BIGINT,
    updated_at BIGINT NOT NULL
);
CREATE INDEX cases_status_opened ON cases (status, opened_at);
CREATE INDEX cases_take_due ON cases (status, escalated_take_at, take_due_at);
CREATE INDEX cases_resolve_due ON cases (status, escalated_resolve_at, resolve_due_at);
CREATE INDEX cases_followup_due ON cases (followup_sent_at, followup_due_at);
CREATE INDEX cases_alert ON cases (alert_chat_id, alert_message_id);
CREATE INDEX cases_customer ON cases (customer_id, status);
CREATE INDEX cases_pending ON cases (pending_by_id, pending_at);

-- kind: opened, taken, message_out, message_in, escalated, resolved, closed,
-- followup_sent, followup_answer, note. actor_id is a Telegram user id (NULL for
-- the system; the customer's Telegram id for message_in and followup_answer).
CREATE TABLE case_events (
    id ID_PK,
    case_id BIGINT NOT NULL REFERENCES cases (id),
    at BIGINT NOT NULL,
    actor_id BIGINT,
    actor_name TEXT,
    kind TEXT NOT NULL,
    text TEXT
);
CREATE INDEX case_events_case ON case_events (case_id, at, id);
