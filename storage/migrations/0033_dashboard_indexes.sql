-- The dashboard at a million answers (bench/dashboard_bench.py).
-- One location's answers newest first (a branch manager, or the location filter): read
-- along (location, day, id) a page costs its own rows, not those of every other branch.
CREATE INDEX surveys_location_day ON surveys (location, day, id);

-- The staff and touchpoints a scope's filters offer for a period: read from its own
-- locations' counters instead of every location's.
CREATE INDEX daily_rollups_location ON daily_rollups (location, day, staff, touchpoint);
