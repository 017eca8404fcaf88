"""Named leases with expiry: which instance runs a job that must run in exactly one.

A lease is taken or renewed in one statement, so two instances racing for it cannot
both win; a holder that dies simply stops renewing, and the lease is free once
`until_at` has passed. Times are epoch milliseconds, as everywhere in storage.
"""

from __future__ import annotations

from storage.db import Connection


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
