-- Reports read one segment kind at a time (by location, by staff, by touchpoint, or
-- the total), never the full (location x staff x touchpoint) key. At 1M answers that
-- key makes daily_rollups, and the monthly_rollups of 0004, nearly as big as the
-- answers, so a year's /stats read tens of thousands of rows. These tiers hold one
-- row per (kind, day or month, value): a year by location reads about 12 months plus
-- a few days of 50 rows each, whatever the number of answers.
--
-- kind is location, staff, touchpoint or total (segment_key '' for total). Same
-- counters as daily_rollups; month is 'YYYY-MM' of the business day. All of them are
-- maintained in the answer's transaction (storage.rollups) and rebuilt from
-- daily_rollups (storage.reports.rebuild_rollups). funnel_monthly does the same for
-- the delivery funnel of /stats.

CREATE TABLE daily_segment_rollups (
    kind TEXT NOT NULL,
    day TEXT NOT NULL,
    segment_key TEXT NOT NULL,
    sent INTEGER NOT NULL DEFAULT 0,
    answered INTEGER NOT NULL DEFAULT 0,
    promoters INTEGER NOT NULL DEFAULT 0,
    passives INTEGER NOT NULL DEFAULT 0,
    detractors INTEGER NOT NULL DEFAULT 0,
    ces_sum INTEGER NOT NULL DEFAULT 0,
    ces_count INTEGER NOT NULL DEFAULT 0,
    ces_easy INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (kind, day, segment_key)
);

CREATE TABLE monthly_segment_rollups (
    kind TEXT NOT NULL,
    month TEXT NOT NULL,
    segment_key TEXT NOT NULL,
    sent INTEGER NOT NULL DEFAULT 0,
    answered INTEGER NOT NULL DEFAULT 0,
    promoters INTEGER NOT NULL DEFAULT 0,
    passives INTEGER NOT NULL DEFAULT 0,
    detractors INTEGER NOT NULL DEFAULT 0,
    ces_sum INTEGER NOT NULL DEFAULT 0,
    ces_count INTEGER NOT NULL DEFAULT 0,
    ces_easy INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (kind, month, segment_key)
);

CREATE TABLE funnel_monthly (
    month TEXT NOT NULL,
    location TEXT NOT NULL,
    event TEXT NOT NULL,
    count INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (month, location, event)
);

-- An existing database keeps its history: the new tiers start from what is counted.
INSERT INTO daily_segment_rollups (kind, day, segment_key, sent, answered, promoters,
    passives, detractors, ces_sum, ces_count, ces_easy)
SELECT kind, day, segment_key, SUM(sent), SUM(answered), SUM(promoters), SUM(passives),
       SUM(detractors), SUM(ces_sum), SUM(ces_count), SUM(ces_easy)
FROM (
    SELECT 'location' AS kind, day, location AS segment_key, sent, answered, promoters,
           passives, detractors, ces_sum, ces_count, ces_easy FROM daily_rollups
    UNION ALL
    SELECT 'staff', day, staff, sent, answered, promoters, passives, detractors, ces_sum,
           ces_count, ces_easy FROM daily_rollups
    UNION ALL
    SELECT 'touchpoint', day, touchpoint, sent, answered, promoters, passives, detractors,
           ces_sum, ces_count, ces_easy FROM daily_rollups
    UNION ALL
    SELECT 'total', day, '', sent, answered, promoters, passives, detractors, ces_sum,
           ces_count, ces_easy FROM daily_rollups
) AS kinds
GROUP BY kind, day, segment_key;

INSERT INTO monthly_segment_rollups (kind, month, segment_key, sent, answered, promoters,
    passives, detractors, ces_sum, ces_count, ces_easy)
SELECT kind, SUBSTR(day, 1, 7), segment_key, SUM(sent), SUM(answered), SUM(promoters),
       SUM(passives), SUM(detractors), SUM(ces_sum), SUM(ces_count), SUM(ces_easy)
FROM daily_segment_rollups
GROUP BY kind, SUBSTR(day, 1, 7), segment_key;

INSERT INTO funnel_monthly (month, location, event, count)
SELECT SUBSTR(day, 1, 7), location, event, SUM(count)
FROM funnel_daily
GROUP BY SUBSTR(day, 1, 7), location, event;

-- Nothing reads the full-key monthly tier any more; keeping it would cost a write per answer.
DROP TABLE monthly_rollups;
