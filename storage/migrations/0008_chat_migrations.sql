-- A basic group upgraded to a supergroup gets a new chat id, and Telegram says so only
-- once: a service message in each chat, or a 400 answer carrying migrate_to_chat_id.
-- The managers' and escalation chats are followed to their new ids through this table,
-- by every instance and after every restart, while MANAGER_CHAT_ID still names the old.
CREATE TABLE chat_migrations (
    old_chat_id BIGINT PRIMARY KEY,
    new_chat_id BIGINT NOT NULL,
    migrated_at BIGINT NOT NULL
);
