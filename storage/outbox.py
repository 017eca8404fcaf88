"""The outbox table: what the bot owes Telegram, and what became of it.

A row's life: 'pending' -> 'claimed' (an instance leased it) -> 'sending' (its HTTP
request is about to start) -> 'sent' | 'failed' | 'expired', or back to 'pending'
for a retry. A 'claimed' row whose lease ends is simply claimable again: nothing was
sent. A 'sending' row whose lease ends may or may not have reached Telegram, so it is
never resent: it ends 'failed' as outcome unknown (at most once, never silently lost).
The claims of an instance known to be gone are taken back at once (`take_orphans`)
rather than when their leases end.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from storage.db import Connection, id_in, multi_row
from storage.models import OutboxItem, OutboxStatus

OUTCOME_UNKNOWN_PREFIX = "outcome unknown"
OUTCOME_UNKNOWN = f"{OUTCOME_UNKNOWN_PREFIX}: the instance sending it stopped"


@dataclass(slots=True, frozen=True)
class NewMessage:
    """An outbox row to add: what `enqueue` takes, for `enqueue_many`."""

    kind: str
    chat_id: int
    priority: int
    due_at: int
    ref_id: int | None = None
    payload: dict[str, Any] | None = None
    deadline_at: int | None = None
    dedupe_key: str | None = None


_ENQUEUE_COLUMNS = (
    "kind",
    "dedupe_key",
    "priority",
    "chat_id",
    "ref_id",
    "payload",
    "due_at",
    "deadline_at",
    "status",
    "created_at",
)


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
    message = NewMessage(kind, chat_id, priority, due_at, ref_id, payload, deadline_at, dedupe_key)
    ids = await enqueue_many(conn, [message], now)
    return ids[0] if ids else None


async def enqueue_many(conn: Connection, messages: Sequence[NewMessage], now: int) -> list[int]:
    """Add rows in the caller's transaction, many per statement; the ids of those added
    (in no particular order; a row whose dedupe_key exists is left out)."""
    values = [
        (
            message.kind,
            message.dedupe_key,
            message.priority,
            message.chat_id,
            message.ref_id,
            json.dumps(message.payload or {}, ensure_ascii=False),
            message.due_at,
            message.deadline_at,
            OutboxStatus.PENDING.value,
            now,
        )
        for message in messages
    ]
    ids: list[int] = []
    for chunk, params in multi_row(_ENQUEUE_COLUMNS, values):
        rows = await conn.fetch_all(
            f"INSERT INTO outbox ({', '.join(_ENQUEUE_COLUMNS)}) VALUES {chunk}"
            " ON CONFLICT (dedupe_key) DO NOTHING RETURNING id",
            params,
        )
        ids.extend(int(row["id"]) for row in rows)
    return ids


def _items(rows: list[dict[str, Any]]) -> list[OutboxItem]:
    return [OutboxItem.from_row(row) for row in rows]


async def claim_due(
    conn: Connection, *, now: int, owner: str, lease_ms: int, limit: int
) -> list[OutboxItem]:
    """Lease up to `limit` due rows, most urgent first: by priority, then deadline.

    A row claimed by an instance that died (and never marked 'sending') is due again
    once its lease ends: nothing of it reached Telegram."""
    skip_locked = " FOR UPDATE SKIP LOCKED" if conn.dialect == "postgresql" else ""
    # A materialised CTE, read once (see storage.webhooks.claim_due): never more than
    # `limit` rows, whatever plan PostgreSQL picks.
    rows = await conn.fetch_all(
        "WITH chosen AS MATERIALIZED (SELECT id FROM outbox"
        f"  WHERE (status = '{OutboxStatus.PENDING}' AND due_at <= :now)"
        f"     OR (status = '{OutboxStatus.CLAIMED}' AND lease_until < :now)"
        "  ORDER BY priority, COALESCE(deadline_at, due_at), id"
        f"  LIMIT :limit{skip_locked})"
        f" UPDATE outbox SET status = '{OutboxStatus.CLAIMED}', lease_owner = :owner,"
        " lease_until = :until WHERE id IN (SELECT id FROM chosen)"
        " RETURNING *",
        {"owner": owner, "until": now + lease_ms, "now": now, "limit": limit},
    )
    items = _items(rows)
    items.sort(key=lambda item: (item.priority, item.deadline_at or item.due_at, item.id))
    return items


async def end_abandoned(conn: Connection, *, now: int) -> list[OutboxItem]:
    """End 'sending' rows whose instance stopped before recording the outcome: the
    message may have been delivered, so resending could make it twice."""
    rows = await conn.fetch_all(
        f"UPDATE outbox SET status = '{OutboxStatus.FAILED}', last_error = :reason,"
        " finished_at = :now, lease_owner = NULL, lease_until = NULL"
        f" WHERE status = '{OutboxStatus.SENDING}' AND lease_until < :now"
        " RETURNING *",
        {"reason": OUTCOME_UNKNOWN, "now": now},
    )
    return _items(rows)


async def take_orphans(
    conn: Connection, *, now: int, owner: str | None
) -> tuple[int, list[OutboxItem]]:
    """Take back at once, instead of when their leases end, the claims of an instance
    known to be gone: `owner`, or every instance (None) when the one instance a SQLite
    database allows is starting. Its claimed rows are pending again: nothing of them
    reached Telegram. Its 'sending' rows end 'failed' as outcome unknown, as
    `end_abandoned` ends them after their lease: they may have been delivered, so they
    are never resent. Returns how many went back to pending, and the rows ended."""
    whose = "lease_owner = :owner" if owner is not None else "lease_owner IS NOT NULL"
    params: dict[str, Any] = {"owner": owner} if owner is not None else {}
    released = await conn.execute(
        f"UPDATE outbox SET status = '{OutboxStatus.PENDING}', lease_owner = NULL,"
        f" lease_until = NULL WHERE status = '{OutboxStatus.CLAIMED}' AND {whose}",
        params,
    )
    rows = await conn.fetch_all(
        f"UPDATE outbox SET status = '{OutboxStatus.FAILED}', last_error = :reason,"
        " finished_at = :now, lease_owner = NULL, lease_until = NULL"
        f" WHERE status = '{OutboxStatus.SENDING}' AND {whose}"
        " RETURNING *",
        {**params, "reason": OUTCOME_UNKNOWN, "now": now},
    )
    return released, _items(rows)


async def start_sending(
    conn: Connection, ids: Sequence[int], *, owner: str, until: int
) -> set[int]:
    """Mark claimed rows 'sending' just before their requests; returns the ids still
    held by `owner` (a row whose claim lapsed and was taken over is not sent here)."""
    if not ids:
        return set()
    where, value = id_in(conn, "id", ids)
    rows = await conn.fetch_all(
        f"UPDATE outbox SET status = '{OutboxStatus.SENDING}', lease_until = :until"
        f" WHERE {where} AND status = '{OutboxStatus.CLAIMED}' AND lease_owner = :owner"
        " RETURNING id",
        {"ids": value, "owner": owner, "until": until},
    )
    return {int(row["id"]) for row in rows}


async def held(conn: Connection, ids: Sequence[int], *, owner: str, status: str) -> set[int]:
    """Which of `ids` `owner` still holds in `status`, locked until the transaction
    ends, so that the outcome recorded next cannot race another instance."""
    if not ids:
        return set()
    where, value = id_in(conn, "id", ids)
    lock = " FOR UPDATE" if conn.dialect == "postgresql" else ""
    rows = await conn.fetch_all(
        f"SELECT id FROM outbox WHERE {where} AND status = :status AND lease_owner = :owner{lock}",
        {"ids": value, "status": status, "owner": owner},
    )
    return {int(row["id"]) for row in rows}


async def mark_sent(conn: Connection, item_id: int, message_id: int | None, now: int) -> None:
    await mark_sent_many(conn, [(item_id, message_id, now)])


async def mark_sent_many(conn: Connection, rows: Sequence[tuple[int, int | None, int]]) -> None:
    """(id, message_id, finished_at) of rows that Telegram accepted."""
    if not rows:
        return
    await conn.execute_many(
        f"UPDATE outbox SET status = '{OutboxStatus.SENT}', message_id = :message_id,"
        " finished_at = :now, attempts = attempts + 1, lease_owner = NULL, lease_until = NULL"
        " WHERE id = :id",
        [
            {"id": item_id, "message_id": message_id, "now": now}
            for item_id, message_id, now in rows
        ],
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
        f"UPDATE outbox SET status = '{OutboxStatus.PENDING}', due_at = :due_at,"
        " last_error = :reason, attempts = attempts + :inc, lease_owner = NULL,"
        " lease_until = NULL WHERE id = :id",
        {"due_at": due_at, "reason": reason[:500], "inc": int(count_attempt), "id": item_id},
    )


async def move_to_chat(conn: Connection, item_id: int, chat_id: int, *, due_at: int) -> None:
    """The row's chat lives on under a new id (a group became a supergroup): pending
    again for that chat; no attempt is counted."""
    await conn.execute(
        f"UPDATE outbox SET status = '{OutboxStatus.PENDING}', chat_id = :chat_id,"
        " due_at = :due_at,"
        " lease_owner = NULL, lease_until = NULL WHERE id = :id",
        {"chat_id": chat_id, "due_at": due_at, "id": item_id},
    )


async def postpone(conn: Connection, item_id: int, due_at: int, *, owner: str) -> bool:
    """Give back a claimed row (its chat is busy) to be due at `due_at`; no attempt
    is counted. False when the claim had already lapsed."""
    changed = await conn.execute(
        f"UPDATE outbox SET status = '{OutboxStatus.PENDING}', due_at = :due_at,"
        " lease_owner = NULL, lease_until = NULL"
        f" WHERE id = :id AND status = '{OutboxStatus.CLAIMED}' AND lease_owner = :owner",
        {"due_at": due_at, "id": item_id, "owner": owner},
    )
    return changed > 0


async def release(conn: Connection, *, owner: str, unsent: Sequence[int] = ()) -> int:
    """A graceful stop: rows `owner` claimed, and 'sending' rows it knows it never
    sent, are pending again at once instead of after their leases."""
    where, value = id_in(conn, "id", unsent)
    return await conn.execute(
        f"UPDATE outbox SET status = '{OutboxStatus.PENDING}', lease_owner = NULL,"
        " lease_until = NULL WHERE lease_owner = :owner"
        f" AND (status = '{OutboxStatus.CLAIMED}'"
        f" OR (status = '{OutboxStatus.SENDING}' AND {where}))",
        {"owner": owner, "ids": value},
    )


async def expire_pending_for_chat(conn: Connection, chat_id: int, reason: str, now: int) -> int:
    """Nothing more can reach this chat: end what was still waiting for it."""
    return await conn.execute(
        f"UPDATE outbox SET status = '{OutboxStatus.EXPIRED}', last_error = :reason,"
        " finished_at = :now"
        f" WHERE chat_id = :chat_id AND status = '{OutboxStatus.PENDING}'",
        {"reason": reason, "now": now, "chat_id": chat_id},
    )


async def next_due_at(conn: Connection) -> int | None:
    """When the next row falls due: a pending one, or a lapsed lease to take over."""
    row = await conn.fetch_one(
        "SELECT MIN(due) AS due FROM ("
        f" SELECT MIN(due_at) AS due FROM outbox WHERE status = '{OutboxStatus.PENDING}'"
        " UNION ALL SELECT MIN(lease_until) + 1 FROM outbox"
        f" WHERE status IN ('{OutboxStatus.CLAIMED}', '{OutboxStatus.SENDING}')) AS candidates"
    )
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


# What has not ended yet, for GET /metrics. 'scheduled' is a pending row not due yet.
UNFINISHED = (OutboxStatus.PENDING, OutboxStatus.HELD, OutboxStatus.CLAIMED, OutboxStatus.SENDING)


async def depth(conn: Connection, *, now: int) -> list[tuple[str, str, int]]:
    """(kind, state, rows) of every row not ended (sent, failed and expired rows are
    left out): state is the status, with a pending row not due by `now` as
    'scheduled'. One grouped COUNT over the `outbox_pending` index's statuses, so it
    costs about the number of unfinished rows, whatever the history kept."""
    rows = await conn.fetch_all(
        "SELECT kind,"
        " CASE WHEN status = :pending AND due_at > :now THEN 'scheduled' ELSE status END"
        " AS state, COUNT(*) AS n"
        " FROM outbox WHERE status IN (:pending, :held, :claimed, :sending)"
        " GROUP BY 1, 2",
        {
            "now": now,
            "pending": OutboxStatus.PENDING,
            "held": OutboxStatus.HELD,
            "claimed": OutboxStatus.CLAIMED,
            "sending": OutboxStatus.SENDING,
        },
    )
    return [(str(row["kind"]), str(row["state"]), int(row["n"])) for row in rows]
