-- The prompt a manager's pending action was asked with (the bot's reply carrying a
-- Cancel button). When the pending ends (the text came, it was cancelled or replaced,
-- the case moved on), that message loses its buttons, so no stale one stays live.
ALTER TABLE cases ADD COLUMN pending_prompt_chat_id BIGINT;
ALTER TABLE cases ADD COLUMN pending_prompt_message_id BIGINT;
