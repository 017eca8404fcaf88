"""Anniversary selection and the "never twice" ledger (tables of 0003_anniversaries.sql).

Selection goes through the `customers_since_md` index: the caller passes the
month-days greeted on a day (`bot.services.anniversaries.since_month_days`), so a
day costs a few thousand index lookups, not a scan of every customer.

The ledger `anniversary_sends` has one row per customer and anniversary year,
guarded by a UNIQUE constraint: `claim` is an INSERT ... ON CONFLICT DO NOTHING,
so whoever presses Send second (or again after a restart) claims nobody twice.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from storage.db import Connection, Row
from storage.models import AnniversaryRunMode, AnniversaryRunStatus, AnniversarySendStatus
from storage.outbox import enqueue

logger = logging.getLogger(__name__)

OUTBOX_KIND = "anniversary"

# Ledger statuses (storage.models.AnniversarySendStatus). "left" in a progress
# message = claimed + queued.
CLAIMED = AnniversarySendStatus.CLAIMED
QUEUED = AnniversarySendStatus.QUEUED
SENT = AnniversarySendStatus.SENT
FAILED = AnniversarySendStatus.FAILED

# Run statuses and modes (storage.models.AnniversaryRunStatus, AnniversaryRunMode).
RUNNING = AnniversaryRunStatus.RUNNING
DONE = AnniversaryRunStatus.DONE
CANCELLED = AnniversaryRunStatus.CANCELLED
MANUAL = AnniversaryRunMode.MANUAL
AUTO = AnniversaryRunMode.AUTO


def since_md(since: date) -> str:
    """The 'MM-DD' key stored in customers.since_md for a customer_since date."""
    return f"{since.month:02d}-{since.day:02d}"


@dataclass(frozen=True, slots=True)
class AnniversaryCandidate:
    """A customer whose relationship has its `years`-th anniversary on the day asked."""

    customer_id: int
    telegram_id: int
    name: str | None
    language: str | None
    customer_since: date
    years: int
    opted_out: bool
    unreachable: bool
    # The ledger status for this year (claimed/queued/sent/failed); None = not yet claimed.
    ledger_status: str | None

    @property
    def already_claimed(self) -> bool:
        return self.ledger_status is not None

    @property
    def sendable(self) -> bool:
        return not (self.opted_out or self.unreachable or self.already_claimed)


# Kept as a constant so the benchmark can time the very same query with NOT INDEXED.
CANDIDATES_SQL = (
    "SELECT c.id AS customer_id, c.telegram_id, c.name, c.language, c.customer_since,"
    " c.opted_out, c.unreachable, s.status AS ledger_status"
    " FROM customers c"
    " LEFT JOIN anniversary_sends s"
    " ON s.customer_id = c.id AND s.anniversary_year = :year"
    " WHERE c.since_md IN ({month_days})"
    " AND c.customer_since < :year_start"
    " AND c.telegram_id IS NOT NULL"
    " AND c.forgotten_at IS NULL"
    " ORDER BY c.id"
)


def candidates_query(day: date, month_days: Sequence[str]) -> tuple[str, dict[str, Any]]:
    """The SQL and parameters of `candidates` (exposed for EXPLAIN and the benchmark)."""
    if not month_days:
        raise ValueError("month_days must not be empty")
    params: dict[str, Any] = {f"md{i}": md for i, md in enumerate(month_days)}
    params["year"] = day.year
    # customer_since sorts as text; anything before 1 January is at least one year old,
    # which excludes N = 0 (customers who joined this very day) and future dates.
    params["year_start"] = f"{day.year:04d}-01-01"
    placeholders = ", ".join(f":md{i}" for i in range(len(month_days)))
    return CANDIDATES_SQL.format(month_days=placeholders), params


async def candidates(
    conn: Connection, day: date, month_days: Sequence[str]
) -> list[AnniversaryCandidate]:
    """Customers reachable by Telegram and not forgotten whose since_md is one of
    `month_days` and who joined before `day`'s year (N >= 1).

    Opted-out and unreachable customers are returned flagged (the caller counts
    them as skipped); so are those already claimed in the ledger for this year.
    """
    sql, params = candidates_query(day, month_days)
    found = []
    for row in await conn.fetch_all(sql, params):
        candidate = _candidate(row, day)
        if candidate is not None:
            found.append(candidate)
    return found


def _candidate(row: Row, day: date) -> AnniversaryCandidate | None:
    try:
        since = date.fromisoformat(str(row["customer_since"]))
    except ValueError:
        logger.warning(
            "customer %s: bad customer_since %r", row["customer_id"], row["customer_since"]
        )
        return None
    return AnniversaryCandidate(
        customer_id=int(row["customer_id"]),
        telegram_id=int(row["telegram_id"]),
        name=row["name"],
        language=row["language"],
        customer_since=since,
        years=day.year - since.year,
        opted_out=bool(row["opted_out"]),
        unreachable=bool(row["unreachable"]),
        ledger_status=row["ledger_status"],
    )


# --- the ledger ---------------------------------------------------------------


async def claim(
    conn: Connection,
    customer_id: int,
    year: int,
    now: int,
    *,
    day: date | None = None,
    years: int | None = None,
    run_id: int | None = None,
) -> bool:
    """Reserve this customer's thank-you for `year`; True only for the one call that
    inserted the ledger row (every later or concurrent call gets False)."""
    row = await conn.fetch_one(
        "INSERT INTO anniversary_sends (customer_id, anniversary_year, anniversary_date,"
        " years, run_id, status, created_at, updated_at)"
        " VALUES (:customer_id, :year, :day, :years, :run_id, :status, :now, :now)"
        " ON CONFLICT (customer_id, anniversary_year) DO NOTHING RETURNING id",
        {
            "customer_id": customer_id,
            "year": year,
            "day": day.isoformat() if day else None,
            "years": years,
            "run_id": run_id,
            "status": CLAIMED,
            "now": now,
        },
    )
    return row is not None


async def attach_outbox(
    conn: Connection, customer_id: int, year: int, outbox_id: int, now: int
) -> None:
    """Record the outbox row that carries a claimed thank-you."""
    await conn.execute(
        "UPDATE anniversary_sends SET outbox_id = :outbox_id, status = :status,"
        " updated_at = :now WHERE customer_id = :customer_id AND anniversary_year = :year",
        {
            "outbox_id": outbox_id,
            "status": QUEUED,
            "now": now,
            "customer_id": customer_id,
            "year": year,
        },
    )


async def queue_thank_you(
    conn: Connection,
    candidate: AnniversaryCandidate,
    *,
    day: date,
    text: str,
    now: int,
    due_at: int,
    priority: int,
    run_id: int | None = None,
    deadline_at: int | None = None,
) -> int | None:
    """Claim and enqueue one thank-you in the caller's transaction.

    Returns the outbox id, or None when this customer's thank-you for `day.year`
    was already claimed. Claim and outbox row commit together, so a restart can
    never leave a claimed customer without a message (nor send one unclaimed).
    The outbox payload carries the text (exactly what the admin previewed) and
    `customer_id`/`year`; the dedupe key repeats the ledger's guarantee.
    """
    claimed = await claim(
        conn,
        candidate.customer_id,
        day.year,
        now,
        day=day,
        years=candidate.years,
        run_id=run_id,
    )
    if not claimed:
        return None
    outbox_id = await enqueue(
        conn,
        kind=OUTBOX_KIND,
        chat_id=candidate.telegram_id,
        priority=priority,
        due_at=due_at,
        now=now,
        ref_id=candidate.customer_id,
        payload={
            "customer_id": candidate.customer_id,
            "year": day.year,
            "years": candidate.years,
            "run_id": run_id,
            "text": text,
        },
        deadline_at=deadline_at,
        dedupe_key=f"{OUTBOX_KIND}:{candidate.customer_id}:{day.year}",
    )
    if outbox_id is None:
        # A leftover outbox row with this key (e.g. a ledger row deleted by hand):
        # the customer already has their message, so the claim stays and nothing is added.
        logger.warning("anniversary outbox row exists for customer %s", candidate.customer_id)
        return None
    await attach_outbox(conn, candidate.customer_id, day.year, outbox_id, now)
    return outbox_id


async def mark_sent(conn: Connection, outbox_id: int, now: int) -> bool:
    """The delivery worker sent the thank-you carried by `outbox_id` (renderer.on_sent)."""
    return await _finish(conn, outbox_id, SENT, now, None)


async def mark_failed(conn: Connection, outbox_id: int, now: int, error: str) -> bool:
    """The thank-you could not be delivered: blocked, expired, forgotten, rejected."""
    return await _finish(conn, outbox_id, FAILED, now, error[:500])


async def _finish(
    conn: Connection, outbox_id: int, status: str, now: int, error: str | None
) -> bool:
    count = await conn.execute(
        "UPDATE anniversary_sends SET status = :status, last_error = :error, updated_at = :now"
        " WHERE outbox_id = :outbox_id AND status NOT IN (:sent, :failed)",
        {
            "status": status,
            "error": error,
            "now": now,
            "outbox_id": outbox_id,
            "sent": SENT,
            "failed": FAILED,
        },
    )
    return count > 0


# --- runs (one per Send press or automatic send) ---------------------------------


@dataclass(frozen=True, slots=True)
class AnniversaryRun:
    id: int
    day: str
    mode: str
    started_by: int | None
    status: str
    planned: int
    skipped_opted_out: int
    skipped_unreachable: int
    already_sent: int
    chat_id: int | None
    message_id: int | None
    started_at: int
    finished_at: int | None


@dataclass(frozen=True, slots=True)
class RunProgress:
    """Counts for the progress message: sent N / failed N / left N."""

    sent: int
    failed: int
    left: int

    @property
    def total(self) -> int:
        return self.sent + self.failed + self.left

    @property
    def finished(self) -> bool:
        return self.left == 0


_RUN_COLUMNS = (
    "id, day, mode, started_by, status, planned, skipped_opted_out, skipped_unreachable,"
    " already_sent, chat_id, message_id, started_at, finished_at"
)


async def start_run(
    conn: Connection,
    *,
    day: date,
    mode: str,
    started_by: int | None,
    now: int,
    planned: int = 0,
    skipped_opted_out: int = 0,
    skipped_unreachable: int = 0,
    already_sent: int = 0,
) -> int:
    """Open a run (one press of Send, or the automatic send); returns its id."""
    if mode not in (MANUAL, AUTO):
        raise ValueError(f"mode must be {MANUAL!r} or {AUTO!r}")
    row = await conn.fetch_one(
        "INSERT INTO anniversary_runs (day, mode, started_by, status, planned,"
        " skipped_opted_out, skipped_unreachable, already_sent, started_at)"
        " VALUES (:day, :mode, :started_by, :status, :planned, :opted_out, :unreachable,"
        " :already, :now) RETURNING id",
        {
            "day": day.isoformat(),
            "mode": mode,
            "started_by": started_by,
            "status": RUNNING,
            "planned": planned,
            "opted_out": skipped_opted_out,
            "unreachable": skipped_unreachable,
            "already": already_sent,
            "now": now,
        },
    )
    assert row is not None
    return int(row["id"])


async def set_run_message(conn: Connection, run_id: int, chat_id: int, message_id: int) -> None:
    """Remember the progress message so any worker (or a restarted bot) can edit it."""
    await conn.execute(
        "UPDATE anniversary_runs SET chat_id = :chat_id, message_id = :message_id WHERE id = :id",
        {"chat_id": chat_id, "message_id": message_id, "id": run_id},
    )


async def finish_run(conn: Connection, run_id: int, now: int, status: str = DONE) -> bool:
    """Close a running run (done or cancelled); False if it was already closed."""
    if status not in (DONE, CANCELLED):
        raise ValueError(f"status must be {DONE!r} or {CANCELLED!r}")
    count = await conn.execute(
        "UPDATE anniversary_runs SET status = :status, finished_at = :now"
        " WHERE id = :id AND status = :running",
        {"status": status, "now": now, "id": run_id, "running": RUNNING},
    )
    return count > 0


async def get_run(conn: Connection, run_id: int) -> AnniversaryRun | None:
    row = await conn.fetch_one(
        f"SELECT {_RUN_COLUMNS} FROM anniversary_runs WHERE id = :id", {"id": run_id}
    )
    return AnniversaryRun(**row) if row else None


async def runs_on(conn: Connection, day: date, mode: str | None = None) -> list[AnniversaryRun]:
    """Runs for a day, oldest first (e.g. "has today's automatic send happened?")."""
    sql = f"SELECT {_RUN_COLUMNS} FROM anniversary_runs WHERE day = :day"
    params: dict[str, Any] = {"day": day.isoformat()}
    if mode is not None:
        sql += " AND mode = :mode"
        params["mode"] = mode
    rows = await conn.fetch_all(sql + " ORDER BY id", params)
    return [AnniversaryRun(**row) for row in rows]


async def unfinished_runs(conn: Connection) -> list[AnniversaryRun]:
    """Runs still 'running' (after a restart: resume them; claims make that safe)."""
    rows = await conn.fetch_all(
        f"SELECT {_RUN_COLUMNS} FROM anniversary_runs WHERE status = :running ORDER BY id",
        {"running": RUNNING},
    )
    return [AnniversaryRun(**row) for row in rows]


async def run_progress(conn: Connection, run_id: int) -> RunProgress:
    """sent / failed / left among the thank-yous this run claimed."""
    rows = await conn.fetch_all(
        "SELECT status, COUNT(*) AS n FROM anniversary_sends WHERE run_id = :run_id"
        " GROUP BY status",
        {"run_id": run_id},
    )
    counts = {row["status"]: int(row["n"]) for row in rows}
    return RunProgress(
        sent=counts.get(SENT, 0),
        failed=counts.get(FAILED, 0),
        left=counts.get(CLAIMED, 0) + counts.get(QUEUED, 0),
    )
