-- CSAT (1-5, "how satisfied are you with today's visit?"), asked when SURVEY_STEPS has
-- csat: the score per survey, and its counters in every rollup tier (the sum, how many
-- answered, how many were satisfied: 4-5), kept like the CES ones. Surveys before
-- this have no CSAT, so the counters start at zero.
ALTER TABLE surveys ADD COLUMN csat INTEGER;
ALTER TABLE surveys ADD COLUMN csat_at BIGINT;

ALTER TABLE daily_rollups ADD COLUMN csat_sum INTEGER NOT NULL DEFAULT 0;
ALTER TABLE daily_rollups ADD COLUMN csat_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE daily_rollups ADD COLUMN csat_satisfied INTEGER NOT NULL DEFAULT 0;
ALTER TABLE daily_segment_rollups ADD COLUMN csat_sum INTEGER NOT NULL DEFAULT 0;
ALTER TABLE daily_segment_rollups ADD COLUMN csat_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE daily_segment_rollups ADD COLUMN csat_satisfied INTEGER NOT NULL DEFAULT 0;
ALTER TABLE monthly_segment_rollups ADD COLUMN csat_sum INTEGER NOT NULL DEFAULT 0;
ALTER TABLE monthly_segment_rollups ADD COLUMN csat_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE monthly_segment_rollups ADD COLUMN csat_satisfied INTEGER NOT NULL DEFAULT 0;
