-- The customer's message that gave a survey's reason: an edit of that message
-- (Telegram's edited_message) replaces the stored reason while the survey's answer
-- window (expires_at) lasts. Looked up by chat_id (indexed) and this id.
ALTER TABLE surveys ADD COLUMN reason_message_id BIGINT;
