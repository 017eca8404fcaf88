-- Several bot instances on one database: updates each instance has taken (so that a
-- redelivered update is applied once) and named leases (so that one instance runs a job).

CREATE TABLE processed_updates (
    update_id BIGINT PRIMARY KEY,
    received_at BIGINT NOT NULL
);
CREATE INDEX processed_updates_received_at ON processed_updates (received_at);

CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    until_at BIGINT NOT NULL
);
