-- A reply template a manager is filling in (bot/cases/templates.py): while a case's
-- pending_action is 'template_value', pending_template names the template waiting for
-- its missing value (a date, a bonus); while 'template_confirm', pending_draft holds the
-- exact text the manager was shown, sent only when they tap Send. Read only with those
-- actions: every other set_pending overwrites them.
ALTER TABLE cases ADD COLUMN pending_template TEXT;
ALTER TABLE cases ADD COLUMN pending_draft TEXT;
