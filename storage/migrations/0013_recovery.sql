-- Closing the loop, measured (issue 16): counters of what happened to each case, and
-- the columns they are computed from.
--
-- first_contact_at: the team's first message to the customer through the bot (a
-- Write, a reply to the card, a template, or a resolution the customer is told of).
-- reopened_count / reopened_at: the customer answered the follow-up "No, not fixed".
ALTER TABLE cases ADD COLUMN first_contact_at BIGINT;
ALTER TABLE cases ADD COLUMN reopened_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cases ADD COLUMN reopened_at BIGINT;

-- On a detractor's survey (NPS 0-6): the customer's next answered survey (a later
-- visit) and its score, set once; "won back" counts these.
ALTER TABLE surveys ADD COLUMN next_survey_id BIGINT;
ALTER TABLE surveys ADD COLUMN next_nps INTEGER;

-- The team's first message to a customer in the cases already there.
UPDATE cases SET first_contact_at = (
    SELECT MIN(e.at) FROM case_events e
    WHERE e.case_id = cases.id
      AND (e.kind = 'message_out' OR (e.kind = 'resolved' AND cases.notify_customer = 1))
);

-- Recovery counters per business day (and month) of the case's visit and its location,
-- like funnel_daily / funnel_monthly. event names (storage/recovery.py): opened,
-- take:<bucket>, contact:<bucket>, resolve:<resolution>:<bucket>, followup_asked,
-- followup_yes, followup_no, reopened, next:<promoters|passives|detractors>.
-- Maintained in the transaction of each change; rebuilt by storage.recovery.rebuild.
CREATE TABLE recovery_daily (
    day TEXT NOT NULL,
    location TEXT NOT NULL,
    event TEXT NOT NULL,
    count INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, location, event)
);

CREATE TABLE recovery_monthly (
    month TEXT NOT NULL,
    location TEXT NOT NULL,
    event TEXT NOT NULL,
    count INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (month, location, event)
);

