"""Telegram update ids already taken by some instance: a redelivered update is skipped.

Telegram redelivers a webhook update whose answer was late or lost, and with several
instances behind a proxy the copy may reach another instance; the primary key makes
the first claim win everywhere.
"""

from __future__ import annotations

from storage.db import Connection


async def claim(conn: Connection, update_id: int, *, now: int) -> bool:
    """Record `update_id`; False when it was already recorded (a duplicate)."""
    row = await conn.fetch_one(
        "INSERT INTO processed_updates (update_id, received_at) VALUES (:update_id, :now)"
        " ON CONFLICT (update_id) DO NOTHING RETURNING update_id",
        {"update_id": update_id, "now": now},
    )
    return row is not None


async def release(conn: Connection, update_id: int) -> None:
    """Forget a claim whose handling failed, so that a redelivery is handled again."""
    await conn.execute(
        "DELETE FROM processed_updates WHERE update_id = :update_id", {"update_id": update_id}
    )


async def is_processed(conn: Connection, update_id: int) -> bool:
    row = await conn.fetch_one(
        "SELECT 1 AS found FROM processed_updates WHERE update_id = :update_id",
        {"update_id": update_id},
    )
    return row is not None


async def prune(conn: Connection, *, before: int) -> int:
    """Drop claims older than `before`: Telegram stops redelivering long before."""
    return await conn.execute(
        "DELETE FROM processed_updates WHERE received_at < :before", {"before": before}
    )
