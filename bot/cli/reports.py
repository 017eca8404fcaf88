"""`otklik export [--cases]` and `otklik db rebuild-rollups`: reports from the command line."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from bot.config import Settings
from bot.core.clock import SystemClock
from bot.reports.export import (
    CASE_CSV_COLUMNS,
    case_cells,
    response_format,
    write_csv,
)
from bot.reports.service import ReportError, parse_period
from storage import recovery, topics
from storage import reports as queries
from storage.db import create_database, migrate


async def export_responses(
    settings: Settings, period_text: str, output: Path | None, *, cases: bool = False
) -> int:
    """Write the responses (with `cases`, the cases) of the period as CSV to `output`
    (or stdout)."""
    today = SystemClock().now().astimezone(settings.zone).date()
    try:
        period = parse_period(period_text, today)
    except ReportError as error:
        print(f"otklik export: {error}", file=sys.stderr)
        return 2
    db = create_database(settings.database_url)
    await db.connect()
    try:
        await migrate(db)
        async with db.read() as conn:
            rows: AsyncIterator[Any] = (
                recovery.iter_case_rows(conn, str(period.start), str(period.end))
                if cases
                else queries.iter_responses(conn, period.start, period.end)
            )
            columns, cells = response_format(settings.survey_steps)
            if cases:
                columns, cells = CASE_CSV_COLUMNS, case_cells
            if output is None:
                written = await write_csv(
                    rows, sys.stdout.buffer, settings.zone, cells=cells, columns=columns
                )
                sys.stdout.buffer.flush()
            else:
                with output.open("wb") as handle:
                    written = await write_csv(
                        rows, handle, settings.zone, cells=cells, columns=columns
                    )
    finally:
        await db.close()
    print(f"exported {period.label}: {written} bytes", file=sys.stderr)
    return 0


async def rebuild(settings: Settings) -> int:
    """Recompute daily and monthly rollups from the surveys, in one transaction."""
    db = create_database(settings.database_url)
    await db.connect()
    try:
        await migrate(db)
        async with db.transaction() as conn:
            rows = await queries.rebuild_rollups(conn)
            recovered = await recovery.rebuild(conn)
            topical = await topics.rebuild(conn)
    finally:
        await db.close()
    print(
        f"rebuilt rollups: {rows} daily rows; closing the loop: {recovered} daily rows;"
        f" topics: {topical} daily rows"
    )
    return 0
