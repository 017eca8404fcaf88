"""Folded alerts: the detractor alerts of one chat that wait, sent as one message.

An 'alert' outbox row that would only wait for the managers' group is *held*
(status 'held', which the delivery worker never claims). One outbox row of kind
'alert_fold' per chat at a time sends held alerts together: rendering it takes the
oldest held alerts of its chat into alert_fold_cases, and when it is sent they end
'sent' with its message id. Every function runs in the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from storage.db import Connection
from storage.models import OutboxItem, OutboxStatus, _FromRow

HELD = OutboxStatus.HELD
FOLD_KIND = "alert_fold"
FOLD_EDIT_KIND = "alert_fold_edit"

# A held alert whose survey has a case: only those can be listed (and taken) in a fold.
_HELD_CASE_ALERT = (
    "kind = 'alert' AND chat_id = :chat_id"
    " AND EXISTS (SELECT 1 FROM cases c WHERE c.survey_id = outbox.ref_id)"
)
_UNASSIGNED = "NOT EXISTS (SELECT 1 FROM alert_fold_cases f WHERE f.alert_id = outbox.id)"


@dataclass(slots=True)
class FoldEntry(_FromRow):
    """One case as its folded message lists it, read at render time."""

    position: int
    case_id: int
    status: str
    owner_name: str | None
    nps: int | None
    ces: int | None
    reason: str | None
    location: str
    staff: str
    customer_name: str | None


async def busy(conn: Connection, chat_id: int, exclude_id: int) -> tuple[int | None, int]:
    """What every detractor's answer asks about its managers' group, in one query: the
    id of its open fold (None when none is), and how many alerts for it are waiting,
    not just queued: held ones, and pending ones already pushed back (by the group
    limit, a 429 or a retry). Both subqueries repeat the WHERE terms of the partial
    indexes outbox_open_folds and outbox_waiting_alerts (migration 0012) exactly."""
    row = await conn.fetch_one(
        "SELECT (SELECT id FROM outbox WHERE kind = 'alert_fold' AND chat_id = :chat_id"
        " AND finished_at IS NULL ORDER BY id LIMIT 1) AS fold_id,"
        " (SELECT COUNT(*) FROM outbox"
        " WHERE kind = 'alert' AND chat_id = :chat_id AND id <> :exclude_id"
        f" AND (status = '{OutboxStatus.HELD}'"
        f" OR (status = '{OutboxStatus.PENDING}' AND due_at > created_at))) AS waiting",
        {"chat_id": chat_id, "exclude_id": exclude_id},
    )
    assert row is not None
    fold_id = row["fold_id"]
    return (int(fold_id) if fold_id is not None else None), int(row["waiting"])


async def open_fold(conn: Connection, chat_id: int) -> OutboxItem | None:
    """The chat's fold row that has not ended yet (at most one is created at a time);
    read through the partial index outbox_open_folds (migration 0012)."""
    row = await conn.fetch_one(
        "SELECT * FROM outbox WHERE kind = 'alert_fold' AND chat_id = :chat_id"
        " AND finished_at IS NULL ORDER BY id LIMIT 1",
        {"chat_id": chat_id},
    )
    return OutboxItem.from_row(row) if row else None


async def fold_count(conn: Connection, chat_id: int) -> int:
    """How many fold rows the chat ever had: numbers the next one's dedupe key, so two
    instances holding at the same moment cannot both open a fold."""
    row = await conn.fetch_one(
        "SELECT COUNT(*) AS n FROM outbox WHERE kind = 'alert_fold' AND chat_id = :chat_id",
        {"chat_id": chat_id},
    )
    return int(row["n"]) if row else 0


async def last_sent_at(conn: Connection, chat_id: int) -> int | None:
    row = await conn.fetch_one(
        "SELECT MAX(finished_at) AS at FROM outbox"
        f" WHERE kind = 'alert_fold' AND chat_id = :chat_id AND status = '{OutboxStatus.SENT}'",
        {"chat_id": chat_id},
    )
    return int(row["at"]) if row and row["at"] is not None else None


async def hold_pending(conn: Connection, chat_id: int) -> int:
    """Hold every pending alert of the chat (claimed ones are already on their way)."""
    return await conn.execute(
        f"UPDATE outbox SET status = '{OutboxStatus.HELD}', lease_owner = NULL,"
        f" lease_until = NULL WHERE {_HELD_CASE_ALERT} AND status = '{OutboxStatus.PENDING}'",
        {"chat_id": chat_id},
    )


async def size(conn: Connection, fold_id: int) -> int:
    row = await conn.fetch_one(
        "SELECT COUNT(*) AS n FROM alert_fold_cases WHERE fold_id = :fold_id",
        {"fold_id": fold_id},
    )
    return int(row["n"]) if row else 0


async def assign(conn: Connection, fold_id: int, chat_id: int, room: int) -> int:
    """Give the fold up to `room` of the chat's oldest held alerts that no fold lists."""
    if room <= 0:
        return 0
    rows = await conn.fetch_all(
        "SELECT outbox.id AS alert_id, c.id AS case_id FROM outbox"
        " JOIN cases c ON c.survey_id = outbox.ref_id"
        f" WHERE {_HELD_CASE_ALERT} AND outbox.status = '{OutboxStatus.HELD}' AND {_UNASSIGNED}"
        " ORDER BY outbox.id LIMIT :room",
        {"chat_id": chat_id, "room": room},
    )
    if not rows:
        return 0
    top = await conn.fetch_one(
        "SELECT COALESCE(MAX(position), 0) AS top FROM alert_fold_cases WHERE fold_id = :fold_id",
        {"fold_id": fold_id},
    )
    start = int(top["top"]) if top else 0
    await conn.execute_many(
        "INSERT INTO alert_fold_cases (fold_id, position, case_id, alert_id)"
        " VALUES (:fold_id, :position, :case_id, :alert_id) ON CONFLICT DO NOTHING",
        [
            {
                "fold_id": fold_id,
                "position": start + index,
                "case_id": row["case_id"],
                "alert_id": row["alert_id"],
            }
            for index, row in enumerate(rows, start=1)
        ],
    )
    return len(rows)


async def entries(conn: Connection, fold_id: int) -> list[FoldEntry]:
    """The fold's cases in order, with what its message shows of each, as they are now."""
    rows = await conn.fetch_all(
        "SELECT f.position, c.id AS case_id, c.status, c.owner_name, s.nps, s.ces, s.reason,"
        " s.location, s.staff, cu.name AS customer_name"
        " FROM alert_fold_cases f"
        " JOIN cases c ON c.id = f.case_id"
        " JOIN surveys s ON s.id = c.survey_id"
        " JOIN customers cu ON cu.id = c.customer_id"
        " WHERE f.fold_id = :fold_id ORDER BY f.position",
        {"fold_id": fold_id},
    )
    return [FoldEntry.from_row(row) for row in rows]


async def finish_members(
    conn: Connection,
    fold_id: int,
    *,
    status: str,
    message_id: int | None,
    note: str,
    now: int,
) -> int:
    """End the fold's held alerts the way the fold ended ('sent' with its message id)."""
    return await conn.execute(
        "UPDATE outbox SET status = :status, message_id = :message_id, last_error = :note,"
        " finished_at = :now, lease_owner = NULL, lease_until = NULL"
        f" WHERE status = '{OutboxStatus.HELD}'"
        " AND id IN (SELECT alert_id FROM alert_fold_cases WHERE fold_id = :fold_id)",
        {
            "status": status,
            "message_id": message_id,
            "note": note[:500],
            "now": now,
            "fold_id": fold_id,
        },
    )


async def point_cases_at(
    conn: Connection, fold_id: int, chat_id: int, message_id: int, now: int
) -> int:
    """The folded message is the alert of each case it lists: thread replies and
    card edits go to it."""
    return await conn.execute(
        "UPDATE cases SET alert_chat_id = :chat_id, alert_message_id = :message_id,"
        " updated_at = :now"
        " WHERE id IN (SELECT case_id FROM alert_fold_cases WHERE fold_id = :fold_id)",
        {"chat_id": chat_id, "message_id": message_id, "now": now, "fold_id": fold_id},
    )


async def hurry(conn: Connection, fold_id: int, now: int) -> None:
    """A fold still waiting for its interval becomes due now (it is full already)."""
    await conn.execute(
        "UPDATE outbox SET due_at = :now"
        f" WHERE id = :id AND status = '{OutboxStatus.PENDING}' AND due_at > :now",
        {"id": fold_id, "now": now},
    )


async def unassigned_held(conn: Connection, chat_id: int) -> int:
    row = await conn.fetch_one(
        f"SELECT COUNT(*) AS n FROM outbox WHERE {_HELD_CASE_ALERT}"
        f" AND status = '{OutboxStatus.HELD}' AND {_UNASSIGNED}",
        {"chat_id": chat_id},
    )
    return int(row["n"]) if row else 0


async def end_unassigned_held(
    conn: Connection, chat_id: int, status: str, reason: str, now: int
) -> int:
    """Nothing can reach the chat: end the held alerts no fold carries yet."""
    return await conn.execute(
        "UPDATE outbox SET status = :status, last_error = :reason, finished_at = :now"
        f" WHERE {_HELD_CASE_ALERT} AND status = '{OutboxStatus.HELD}' AND {_UNASSIGNED}",
        {"chat_id": chat_id, "status": status, "reason": reason[:500], "now": now},
    )


async def fold_of_case(conn: Connection, case_id: int) -> int | None:
    row = await conn.fetch_one(
        "SELECT fold_id FROM alert_fold_cases WHERE case_id = :case_id", {"case_id": case_id}
    )
    return int(row["fold_id"]) if row else None


async def has_pending_edit(conn: Connection, fold_id: int) -> bool:
    """An edit of the fold that has not been rendered yet will show every change."""
    row = await conn.fetch_one(
        "SELECT 1 AS one FROM outbox WHERE kind = 'alert_fold_edit' AND ref_id = :fold_id"
        f" AND status = '{OutboxStatus.PENDING}' LIMIT 1",
        {"fold_id": fold_id},
    )
    return row is not None


async def chats_with_waiting_alerts(conn: Connection, threshold: int) -> list[int]:
    """Chats with at least `threshold` pending alerts pushed back to a later time (by
    the group limit): they were queued faster than the delivery worker could tell."""
    rows = await conn.fetch_all(
        "SELECT chat_id FROM outbox"
        f" WHERE kind = 'alert' AND status = '{OutboxStatus.PENDING}' AND due_at > created_at"
        " GROUP BY chat_id HAVING COUNT(*) >= :threshold",
        {"threshold": threshold},
    )
    return [int(row["chat_id"]) for row in rows]


async def chats_with_stranded_alerts(conn: Connection) -> list[int]:
    """Chats with held alerts that no fold carries (the sweep opens a fold for them
    when none is open)."""
    rows = await conn.fetch_all(
        "SELECT DISTINCT chat_id FROM outbox"
        f" WHERE kind = 'alert' AND status = '{OutboxStatus.HELD}' AND {_UNASSIGNED}"
    )
    return [int(row["chat_id"]) for row in rows]


@dataclass(slots=True)
class EndedFold(_FromRow):
    """A fold row that ended while alerts it carries are still held."""

    fold_id: int
    chat_id: int
    status: str
    message_id: int | None
    last_error: str | None


async def ended_folds_with_held(conn: Connection) -> list[EndedFold]:
    """Folds whose row ended without its outcome reaching their alerts (an instance
    that stopped mid-send, a row expired with its chat)."""
    rows = await conn.fetch_all(
        "SELECT DISTINCT fo.id AS fold_id, fo.chat_id, fo.status, fo.message_id,"
        " fo.last_error"
        " FROM alert_fold_cases f"
        " JOIN outbox a ON a.id = f.alert_id"
        " JOIN outbox fo ON fo.id = f.fold_id"
        f" WHERE a.status = '{OutboxStatus.HELD}' AND fo.finished_at IS NOT NULL"
    )
    return [EndedFold.from_row(row) for row in rows]
