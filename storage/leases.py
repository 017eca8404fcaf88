"""Named leases with expiry: which instance runs a job that must run in exactly one.

A lease is taken or renewed in one statement, so two instances racing for it cannot
both win; a holder that dies simply stops renewing, and the lease is free once
`until_at` has passed. Times are epoch milliseconds, as everywhere in storage.

Each running instance also renews a heartbeat, the lease `instance:<INSTANCE_ID>`. One
whose heartbeat ended is gone: `bury` drops its leases, and the outbox takes back its
claims (storage/outbox.py `take_orphans`) without waiting for theirs.
"""

from __future__ import annotations

from storage.db import Connection

INSTANCE_PREFIX = "instance:"


def heartbeat_name(owner: str) -> str:
    """The lease an instance renews while it runs: while it holds, the instance lives."""
    return INSTANCE_PREFIX + owner


async def acquire(conn: Connection, name: str, owner: str, *, now: int, until: int) -> bool:
    """Take `name` for `owner` until `until`, or renew it; False while another owns it."""
    row = await conn.fetch_one(
        "INSERT INTO leases (name, owner, until_at) VALUES (:name, :owner, :until)"
        " ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, until_at = excluded.until_at"
        " WHERE leases.until_at < :now OR leases.owner = :owner"
        " RETURNING owner",
        {"name": name, "owner": owner, "until": until, "now": now},
    )
    return row is not None and row["owner"] == owner


async def release(conn: Connection, name: str, owner: str) -> bool:
    """Give `name` up at once (a graceful stop); only its owner can."""
    row = await conn.fetch_one(
        "DELETE FROM leases WHERE name = :name AND owner = :owner RETURNING name",
        {"name": name, "owner": owner},
    )
    return row is not None


async def holder(conn: Connection, name: str, *, now: int) -> str | None:
    """The owner of a lease that has not ended yet, if any."""
    row = await conn.fetch_one(
        "SELECT owner FROM leases WHERE name = :name AND until_at >= :now",
        {"name": name, "now": now},
    )
    return str(row["owner"]) if row else None


async def heartbeats(conn: Connection, *, but: str) -> dict[str, int]:
    """Every instance's heartbeat but `but`'s: when each one ends (until_at)."""
    rows = await conn.fetch_all(
        "SELECT owner, until_at FROM leases WHERE name LIKE :pattern AND owner <> :but",
        {"pattern": INSTANCE_PREFIX + "%", "but": but},
    )
    return {str(row["owner"]): int(row["until_at"]) for row in rows}


async def bury(conn: Connection, owner: str, *, until: int) -> bool:
    """Declare `owner` gone: its heartbeat, if it still ends at `until` (not renewed
    since it was seen), and every other lease it held are dropped, so a job it ran is
    free at once. Only the transaction that drops the heartbeat returns True, so one
    instance alone takes over what it left."""
    row = await conn.fetch_one(
        "DELETE FROM leases WHERE name = :name AND until_at = :until RETURNING owner",
        {"name": heartbeat_name(owner), "until": until},
    )
    if row is None:
        return False
    await conn.execute("DELETE FROM leases WHERE owner = :owner", {"owner": owner})
    return True


async def bury_all_but(conn: Connection, alive: str) -> list[str]:
    """The one instance a database allows (SQLite) is starting: every other owner of a
    lease is gone. Drops their leases; returns their names."""
    rows = await conn.fetch_all(
        "DELETE FROM leases WHERE owner <> :alive RETURNING owner", {"alive": alive}
    )
    return sorted({str(row["owner"]) for row in rows})
