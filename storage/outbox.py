"""The outbox table: what the bot owes Telegram, and what became of it."""

from __future__ import annotations

import json
from typing import Any

from storage.database import Connection


async def enqueue(
    conn: Connection,
    *,
    kind: str,
    chat_id: int,
    priority: int,
    due_at: int,
    now: int,
    ref_id: int | None = None,
    payload: dict[str, Any] | None = None,
    deadline_at: int | None = None,
    dedupe_key: str | None = None,
) -> int | None:
    """Add a row in the caller's transaction; returns its id, or None if dedupe_key exists."""
    row = await conn.fetch_one(
        "INSERT INTO outbox (kind, dedupe_key, priority, chat_id, ref_id, payload, due_at,"
        " deadline_at, status, created_at)"
        " VALUES (:kind, :dedupe_key, :priority, :chat_id, :ref_id, :payload, :due_at,"
        " :deadline_at, 'pending', :now)"
        " ON CONFLICT (dedupe_key) DO NOTHING RETURNING id",
        {
            "kind": kind,
            "dedupe_key": dedupe_key,
            "priority": priority,
            "chat_id": chat_id,
            "ref_id": ref_id,
            "payload": json.dumps(payload or {}, ensure_ascii=False),
            "due_at": due_at,
            "deadline_at": deadline_at,
            "now": now,
        },
    )
    return int(row["id"]) if row else None
