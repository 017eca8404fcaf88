-- The dashboard's one-time login links (bot/dashboard/auth.py) are signed tokens; the
-- nonce of each one used is kept until it would have expired anyway, so a link opens
-- one session only, on whichever instance it reaches.
CREATE TABLE dashboard_logins (
    nonce TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL,
    used_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE INDEX dashboard_logins_expires ON dashboard_logins (expires_at);

-- The dashboard lists answers newest first by (day, id) within a period; with both in
-- one index a page reads about as many rows as it shows (SQLite's index on day holds
-- the rowid already; PostgreSQL's did not).
DROP INDEX surveys_day;
CREATE INDEX surveys_day ON surveys (day, id);
