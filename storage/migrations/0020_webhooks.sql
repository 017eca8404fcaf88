-- Outgoing webhooks (bot/webhooks/): the receivers, and one delivery row per event and
-- receiver, written in the same transaction as the change the event reports.

-- events: a JSON list of event types; NULL subscribes to every event. secret is
-- whsec_<base64>, never shown back by the API once created.
CREATE TABLE webhook_endpoints (
    name TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    events TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- status: pending -> sending (leased by one instance) -> delivered | failed, or back to
-- pending for a retry. message_id is the webhook-id header: one per event, the same on
-- every attempt. order_key ('customer:<id>'): rows of one endpoint and key go out one
-- at a time, in id order. endpoint is not a foreign key: the log outlives a removed one.
CREATE TABLE webhook_deliveries (
    id ID_PK,
    endpoint TEXT NOT NULL,
    message_id TEXT NOT NULL,
    event TEXT NOT NULL,
    order_key TEXT NOT NULL,
    customer_id BIGINT,
    payload TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    due_at BIGINT NOT NULL,
    deadline_at BIGINT NOT NULL,
    lease_owner TEXT,
    lease_until BIGINT,
    last_status INTEGER,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    finished_at BIGINT,
    UNIQUE (message_id, endpoint)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, due_at);
CREATE INDEX webhook_deliveries_order ON webhook_deliveries (endpoint, order_key, id);
CREATE INDEX webhook_deliveries_customer ON webhook_deliveries (customer_id);
