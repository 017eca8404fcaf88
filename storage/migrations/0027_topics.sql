-- What the reasons say (issue 17): the topics of each survey's reason, and counters of
-- them per business day (and month), location, topic and the survey's NPS band.
--
-- survey_topics: one row per topic a survey's reason mentions (none for a reason about
-- no topic), written in the reason's transaction (storage/topics.py) and rewritten by
-- `otklik topics reclassify`. topic is a taxonomy id (bot/topics, TOPICS_FILE).
CREATE TABLE survey_topics (
    survey_id BIGINT NOT NULL,
    topic TEXT NOT NULL,
    PRIMARY KEY (survey_id, topic)
);
CREATE INDEX survey_topics_topic ON survey_topics (topic, survey_id);

-- band is the survey's NPS bucket: promoters (9-10), passives (7-8) or detractors (0-6);
-- a survey without an NPS is counted when its NPS arrives. Maintained through
-- storage.rollups.Tally like funnel_daily; rebuilt by storage.topics.rebuild.
CREATE TABLE topic_daily (
    day TEXT NOT NULL,
    location TEXT NOT NULL,
    topic TEXT NOT NULL,
    band TEXT NOT NULL,
    count INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, location, topic, band)
);

CREATE TABLE topic_monthly (
    month TEXT NOT NULL,
    location TEXT NOT NULL,
    topic TEXT NOT NULL,
    band TEXT NOT NULL,
    count INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (month, location, topic, band)
);
