-- Folded alerts. When detractor alerts for the managers' group arrive faster than
-- Telegram lets a bot post into one group (20 messages per minute), the alerts that
-- would only wait are held (outbox status 'held', never claimed by the delivery
-- worker) and go out together in one message, sent by an outbox row of kind
-- 'alert_fold'. This table says which case is listed in which folded message, in
-- which place; the fold row's message_id is that message once it is sent.
CREATE TABLE alert_fold_cases (
    -- The outbox row (kind 'alert_fold') that sends the folded message.
    fold_id BIGINT NOT NULL,
    position INTEGER NOT NULL,
    case_id BIGINT NOT NULL UNIQUE REFERENCES cases (id),
    -- The case's own 'alert' outbox row: held until the fold is sent, then ends with it.
    alert_id BIGINT NOT NULL UNIQUE,
    PRIMARY KEY (fold_id, position)
);
-- The sweep and the hold look for held alerts of one chat.
CREATE INDEX outbox_kind_chat_status ON outbox (kind, chat_id, status);
