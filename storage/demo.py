"""The mark of a finished demo database (`otklik demo`): SQLite's own header fields, so
that the file alone says it is a demo and when its story ends, and no table of the
bot's schema carries demo-only data.

`application_id` says "an otklik demo" (a file without it is someone's real database,
which the demo never serves or replaces); `user_version` holds the moment the demo's
data ends, in whole minutes since the epoch (a 32-bit field: minutes last until 6053).
Neither is used by the migrations. SQLite only; the mark is written after the build's
last transaction and read back from the file's header (both folded from the WAL into the
file when the build closes its database).
"""

from __future__ import annotations

import struct
from datetime import UTC, datetime
from pathlib import Path

from storage.db import Connection

# "otkd" in ASCII.
DEMO_APPLICATION_ID = 0x6F746B64
# SQLite's file header: user_version at byte 60, application_id at 68 (big-endian).
_HEADER = 100


def _require_sqlite(conn: Connection) -> None:
    if conn.dialect != "sqlite":
        raise ValueError("a demo database is a SQLite file")


async def mark_demo(conn: Connection, ends_at: datetime) -> None:
    """Mark the database as a finished demo whose data ends at `ends_at` (a whole
    minute)."""
    _require_sqlite(conn)
    minutes = int(ends_at.timestamp()) // 60
    if not 0 < minutes < 2**31:
        raise ValueError(f"a demo cannot end at {ends_at.isoformat()}")
    # PRAGMAs take no bound parameters: both values are integers formatted here.
    await conn.execute(f"PRAGMA application_id = {DEMO_APPLICATION_ID:d}")
    await conn.execute(f"PRAGMA user_version = {minutes:d}")


def demo_ends_at(path: Path) -> datetime | None:
    """When the finished demo in the file `path` ends; None for a file that is not one.
    Read from the file's header, not through SQLite: opening someone's real database
    to ask would change it (the connection switches it to WAL)."""
    try:
        with path.open("rb") as file:
            header = file.read(_HEADER)
    except OSError:
        return None
    if len(header) < _HEADER or not header.startswith(b"SQLite format 3\x00"):
        return None
    (version,) = struct.unpack_from(">i", header, 60)
    (application,) = struct.unpack_from(">i", header, 68)
    if application != DEMO_APPLICATION_ID or version <= 0:
        return None
    return datetime.fromtimestamp(version * 60, UTC)
