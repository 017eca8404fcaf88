-- A chain's branches as a catalogue: branch -> region -> head office (MANAGER_CHAT_ID).
-- `code` is what the till sends as the visit's location; visits, surveys and the report
-- counters keep storing that code, so reports need no join. `id` is short and stable for
-- signed QR deep links (Telegram's start parameter holds 64 characters).
CREATE TABLE regions (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    manager_chat_id BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- source: api | import | visit (an unknown location accepted with UNKNOWN_LOCATIONS=accept)
-- | migration (a free-text location found in the data when this table was made).
-- opening_hours: JSON {"mon": "09:00-21:00", ...}; a weekday left out is closed.
CREATE TABLE locations (
    id ID_PK,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    time_zone TEXT,
    manager_chat_id BIGINT,
    region TEXT REFERENCES regions (code),
    opening_hours TEXT,
    source TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE INDEX locations_region ON locations (region);
CREATE INDEX locations_manager_chat ON locations (manager_chat_id);

INSERT INTO locations (code, name, source, created_at, updated_at)
SELECT location, location, 'migration', 0, 0
FROM (SELECT location FROM visits WHERE location <> ''
      UNION SELECT location FROM surveys WHERE location <> '') AS known;
