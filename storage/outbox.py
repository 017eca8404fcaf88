"""The outbox table: what the bot owes Telegram, and what became of it."""

from __future__ import annotations

import json
from typing import Any

from storage.database import Connection
from storage.models import OutboxItem


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


def _items(rows: list[dict[str, Any]]) -> list[OutboxItem]:
    return [OutboxItem.from_row(row) for row in rows]


async def claim_due(
    conn: Connection, *, now: int, owner: str, lease_ms: int, limit: int
) -> list[OutboxItem]:
    """Lease up to `limit` due rows, most urgent first: by priority, then deadline.

    A row leased by an instance that died is due again once its lease ends."""
    skip_locked = " FOR UPDATE SKIP LOCKED" if conn.dialect == "postgresql" else ""
    rows = await conn.fetch_all(
        "UPDATE outbox SET status = 'sending', lease_owner = :owner, lease_until = :until"
        " WHERE id IN (SELECT id FROM outbox"
        "  WHERE (status = 'pending' AND due_at <= :now)"
        "     OR (status = 'sending' AND lease_until < :now)"
        "  ORDER BY priority, COALESCE(deadline_at, due_at), id"
        f"  LIMIT :limit{skip_locked})"
        " RETURNING *",
        {"owner": owner, "until": now + lease_ms, "now": now, "limit": limit},
    )
    items = _items(rows)
    items.sort(key=lambda item: (item.priority, item.deadline_at or item.due_at, item.id))
    return items


async def mark_sent(conn: Connection, item_id: int, message_id: int | None, now: int) -> None:
    await conn.execute(
        "UPDATE outbox SET status = 'sent', message_id = :message_id, finished_at = :now,"
        " attempts = attempts + 1, lease_owner = NULL, lease_until = NULL WHERE id = :id",
        {"message_id": message_id, "now": now, "id": item_id},
    )


async def finish(conn: Connection, item_id: int, status: str, reason: str, now: int) -> None:
    """End a row as 'failed' or 'expired', always with the reason."""
    await conn.execute(
        "UPDATE outbox SET status = :status, last_error = :reason, finished_at = :now,"
        " lease_owner = NULL, lease_until = NULL WHERE id = :id",
        {"status": status, "reason": reason[:500], "now": now, "id": item_id},
    )


async def retry_later(
    conn: Connection, item_id: int, due_at: int, reason: str, *, count_attempt: bool
) -> None:
    await conn.execute(
        "UPDATE outbox SET status = 'pending', due_at = :due_at, last_error = :reason,"
        " attempts = attempts + :inc, lease_owner = NULL, lease_until = NULL WHERE id = :id",
        {"due_at": due_at, "reason": reason[:500], "inc": int(count_attempt), "id": item_id},
    )


async def expire_pending_for_chat(conn: Connection, chat_id: int, reason: str, now: int) -> int:
    """Nothing more can reach this chat: end what was still waiting for it."""
    return await conn.execute(
        "UPDATE outbox SET status = 'expired', last_error = :reason, finished_at = :now"
        " WHERE chat_id = :chat_id AND status = 'pending'",
        {"reason": reason, "now": now, "chat_id": chat_id},
    )


async def next_due_at(conn: Connection) -> int | None:
    row = await conn.fetch_one("SELECT MIN(due_at) AS due FROM outbox WHERE status = 'pending'")
    return int(row["due"]) if row and row["due"] is not None else None


async def get(conn: Connection, item_id: int) -> OutboxItem | None:
    row = await conn.fetch_one("SELECT * FROM outbox WHERE id = :id", {"id": item_id})
    return OutboxItem.from_row(row) if row else None


async def by_dedupe_key(conn: Connection, dedupe_key: str) -> OutboxItem | None:
    row = await conn.fetch_one("SELECT * FROM outbox WHERE dedupe_key = :key", {"key": dedupe_key})
    return OutboxItem.from_row(row) if row else None


async def count_by_status(conn: Connection) -> dict[str, int]:
    rows = await conn.fetch_all("SELECT status, COUNT(*) AS n FROM outbox GROUP BY status")
    return {str(row["status"]): int(row["n"]) for row in rows}
