"""`otklik db copy --from URL --to URL`: move an otklik database to another backend."""

from __future__ import annotations

import sys
from pathlib import Path

from storage.copy import CopyError, copy_database
from storage.db import Database, DatabaseUnavailable, create_database, redact_url

# Exit codes: 0 copied; 1 a database could not be reached; 2 refused, nothing changed.
EXIT_UNAVAILABLE = 1
EXIT_REFUSED = 2


def _fail(message: str, code: int) -> int:
    print(f"otklik db copy: {message}", file=sys.stderr)
    return code


def _open(url: str, role: str) -> Database:
    database = create_database(url)
    sqlite_path = url.removeprefix("sqlite:///") if url.startswith("sqlite:///") else None
    if role == "source" and sqlite_path is not None and not Path(sqlite_path).is_file():
        # Connecting would create an empty file where the operator expects their data.
        raise ValueError(f"source {url}: no such file")
    return database


async def copy_command(source_url: str, target_url: str, batch_size: int) -> int:
    """Copy every row; prints one line per table, then a total."""
    if batch_size < 1:
        return _fail("--batch-size must be at least 1", EXIT_REFUSED)
    if source_url == target_url:
        return _fail("--from and --to name the same database", EXIT_REFUSED)
    try:
        source = _open(source_url, "source")
        target = _open(target_url, "target")
    except ValueError as error:
        return _fail(str(error), EXIT_REFUSED)
    try:
        await source.connect()
        await target.connect()
    except DatabaseUnavailable as error:
        await source.close()
        return _fail(str(error), EXIT_UNAVAILABLE)
    try:
        result = await copy_database(
            source,
            target,
            batch_size=batch_size,
            progress=lambda table, rows: print(f"{table}: {rows} rows"),
        )
    except CopyError as error:
        return _fail(f"{error}; nothing was copied", EXIT_REFUSED)
    finally:
        await source.close()
        await target.close()
    print(
        f"copied {result.total} rows in {len(result.rows)} tables"
        f" from {redact_url(source_url)} to {redact_url(target_url)}"
    )
    return 0
