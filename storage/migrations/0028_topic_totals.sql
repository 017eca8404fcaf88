-- The chain's topic counters (issue 17): topic_daily / topic_monthly summed over every
-- location, so that the chain's topics report reads a few rows per month whatever the
-- number of locations (as the 'total' kind of the segment rollups does for NPS). Kept in
-- the same Tally writes as the per-location rows; rebuilt by storage.topics.rebuild.
CREATE TABLE topic_total_daily (
    day TEXT NOT NULL,
    topic TEXT NOT NULL,
    band TEXT NOT NULL,
    count INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, topic, band)
);

CREATE TABLE topic_total_monthly (
    month TEXT NOT NULL,
    topic TEXT NOT NULL,
    band TEXT NOT NULL,
    count INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (month, topic, band)
);

INSERT INTO topic_total_daily (day, topic, band, count)
SELECT day, topic, band, SUM(count) FROM topic_daily GROUP BY day, topic, band;

INSERT INTO topic_total_monthly (month, topic, band, count)
SELECT month, topic, band, SUM(count) FROM topic_monthly GROUP BY month, topic, band;

-- A location's (or a chat's locations') report reads its own rows, not every location's
-- rows of the period.
CREATE INDEX topic_daily_location ON topic_daily (location, day);
CREATE INDEX topic_monthly_location ON topic_monthly (location, month);
