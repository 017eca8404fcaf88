-- Every detractor's answer asks, in its transaction, whether the managers' group is
-- busy (bot/cases/alerts.py, hold_if_busy): its open fold, and how many alerts wait
-- for it. Outbox rows are kept, so both questions read only the few rows that can
-- answer them instead of every alert and fold the chat ever had. The queries in
-- storage/alert_folds.py (busy, open_fold) repeat these WHERE terms exactly, as
-- SQLite requires to use a partial index. (Numbered 0012: 0011 is taken by a change
-- under way elsewhere.)
CREATE INDEX outbox_waiting_alerts ON outbox (kind, chat_id)
    WHERE kind = 'alert' AND (status = 'held' OR (status = 'pending' AND due_at > created_at));
CREATE INDEX outbox_open_folds ON outbox (kind, chat_id, id)
    WHERE kind = 'alert_fold' AND finished_at IS NULL;
