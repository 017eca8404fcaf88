-- Unprompted feedback: a customer who writes when no survey asks them anything and no
-- case of theirs is open opens a case without a survey (survey_id NULL: no score, so
-- no NPS figure and no closing-the-loop counter sees it). Its location is the one of
-- the customer's most recent visit when it opened ('' when none: the head office
-- hears it) in unprompted_location; a survey's case keeps NULL there and takes its
-- location from the survey.
-- On SQLite, DROP NOT NULL rebuilds the table (storage/db/migrate.py).
ALTER TABLE cases ALTER COLUMN survey_id DROP NOT NULL;
ALTER TABLE cases ADD COLUMN unprompted_location TEXT;
