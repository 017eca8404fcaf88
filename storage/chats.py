"""Chats that moved: a group upgraded to a supergroup lives on under a new id."""

from __future__ import annotations

from storage.db import Connection


async def record_migration(conn: Connection, old_chat_id: int, new_chat_id: int, now: int) -> bool:
    """Remember that `old_chat_id` became `new_chat_id`; False when it was known."""
    row = await conn.fetch_one(
        "INSERT INTO chat_migrations (old_chat_id, new_chat_id, migrated_at)"
        " VALUES (:old, :new, :now) ON CONFLICT (old_chat_id) DO NOTHING"
        " RETURNING old_chat_id",
        {"old": old_chat_id, "new": new_chat_id, "now": now},
    )
    return row is not None


async def migrations(conn: Connection) -> dict[int, int]:
    """Every known move, old chat id -> new chat id."""
    rows = await conn.fetch_all("SELECT old_chat_id, new_chat_id FROM chat_migrations")
    return {int(row["old_chat_id"]): int(row["new_chat_id"]) for row in rows}
