-- Closing the loop for what happened before 0013 (issue 16): each detractor's next
-- survey, and the recovery counters recomputed from the cases, their history and the
-- surveys, as storage.recovery.rebuild does (tests/storage/test_recovery_storage.py
-- keeps the two alike). From then on every change keeps them current.

-- A detractor's (NPS 0-6) next survey: the first answered one of a later visit.
UPDATE surveys SET next_survey_id = (
    SELECT n.id FROM surveys n JOIN visits nv ON nv.id = n.visit_id
    WHERE n.customer_id = surveys.customer_id AND n.nps IS NOT NULL
      AND nv.visited_at > (SELECT v.visited_at FROM visits v WHERE v.id = surveys.visit_id)
    ORDER BY nv.visited_at, n.id LIMIT 1
)
WHERE nps IS NOT NULL AND nps <= 6 AND next_survey_id IS NULL;

UPDATE surveys SET next_nps = (SELECT n.nps FROM surveys n WHERE n.id = surveys.next_survey_id)
WHERE next_survey_id IS NOT NULL AND next_nps IS NULL;

-- The duration buckets of storage.recovery.DURATION_BOUNDS (seconds), for this backfill only.
CREATE TABLE recovery_backfill_bounds (bound BIGINT PRIMARY KEY);
INSERT INTO recovery_backfill_bounds (bound) VALUES
    (60), (120), (180), (300), (600), (900), (1200), (1800),
    (2700), (3600), (5400), (7200), (10800), (14400), (21600), (28800),
    (43200), (64800), (86400), (129600), (172800), (259200), (345600), (432000),
    (604800), (864000), (1209600), (1814400), (2592000);

DELETE FROM recovery_daily;
DELETE FROM recovery_monthly;

INSERT INTO recovery_daily (day, location, event, count)
SELECT day, location, event, COUNT(*) FROM (
    SELECT s.day, s.location, 'opened' AS event
    FROM cases c JOIN surveys s ON s.id = c.survey_id
    UNION ALL
    SELECT s.day, s.location, 'take:' || COALESCE((
        SELECT CAST(MIN(b.bound) AS TEXT) FROM recovery_backfill_bounds b
        WHERE b.bound * 1000 >= c.taken_at - c.opened_at
    ), 'inf')
    FROM cases c JOIN surveys s ON s.id = c.survey_id WHERE c.taken_at IS NOT NULL
    UNION ALL
    SELECT s.day, s.location, 'contact:' || COALESCE((
        SELECT CAST(MIN(b.bound) AS TEXT) FROM recovery_backfill_bounds b
        WHERE b.bound * 1000 >= c.first_contact_at - c.opened_at
    ), 'inf')
    FROM cases c JOIN surveys s ON s.id = c.survey_id WHERE c.first_contact_at IS NOT NULL
    UNION ALL
    SELECT s.day, s.location, 'resolve:'
        || CASE WHEN c.status = 'closed' THEN 'closed'
                WHEN c.notify_customer = 1 THEN 'notified' ELSE 'silent' END
        || ':' || COALESCE((
        SELECT CAST(MIN(b.bound) AS TEXT) FROM recovery_backfill_bounds b
        WHERE b.bound * 1000
            >= (CASE WHEN c.status = 'closed' THEN c.closed_at ELSE c.resolved_at END)
            - c.opened_at
    ), 'inf')
    FROM cases c JOIN surveys s ON s.id = c.survey_id
    WHERE (c.status = 'closed' AND c.closed_at IS NOT NULL)
       OR (c.status = 'resolved' AND c.resolved_at IS NOT NULL)
    UNION ALL
    SELECT s.day, s.location,
        CASE WHEN e.kind = 'followup_sent' THEN 'followup_asked'
             WHEN e.kind = 'reopened' THEN 'reopened'
             WHEN e.text = 'yes' THEN 'followup_yes' ELSE 'followup_no' END
    FROM case_events e JOIN cases c ON c.id = e.case_id JOIN surveys s ON s.id = c.survey_id
    WHERE e.kind IN ('followup_sent', 'followup_answer', 'reopened')
    UNION ALL
    SELECT day, location, 'next:' || CASE WHEN next_nps >= 9 THEN 'promoters'
                                          WHEN next_nps >= 7 THEN 'passives'
                                          ELSE 'detractors' END
    FROM surveys WHERE next_nps IS NOT NULL AND nps IS NOT NULL AND nps <= 6
) AS happened
GROUP BY day, location, event;

INSERT INTO recovery_monthly (month, location, event, count)
SELECT SUBSTR(day, 1, 7), location, event, SUM(count) FROM recovery_daily
GROUP BY SUBSTR(day, 1, 7), location, event;

DROP TABLE recovery_backfill_bounds;
