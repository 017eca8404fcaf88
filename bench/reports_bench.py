"""How /stats scales: the rollup tiers against DuckDB scanning the raw answers.

    python -m bench.reports_bench            # 10k, 100k and 1M responses
    python -m bench.reports_bench --quick    # 10k only, a few seconds

For each size it writes N answered surveys (50 locations, 4 staff each, 3
touchpoints, 2 years) and their delivery funnel into a temporary SQLite file with
the real schema, then builds every rollup tier through the real rebuild path
(`otklik db rebuild-rollups`: storage.reports.rebuild_rollups), checks a sample of
rollup rows against the raw surveys, and times the /stats work for "365d by
location" (this period and the previous one, then `build_report`):

- `daily`: the sums straight from the full-key daily_rollups
  (storage.reports.daily_rollup_totals), the pre-tier reader, as a baseline;
- `tiered`: storage.reports.rollup_totals, what every report reads (whole months
  from monthly_segment_rollups, edge days from daily_segment_rollups);
- `duckdb`: the same sums computed by DuckDB from the raw columns, loaded into an
  in-memory DuckDB table beforehand (only the query is timed);
- `stats`: everything /stats reads, as the bot does it (bot.report_renderers
  load_report + load_funnel through the Database facade).

It also times the write side: maintaining every tier for one answer (sent, NPS,
CES and their funnel events, one transaction each) on the filled database.
Prints `name: value unit` lines and ratios; asserts nothing about speed, but stops
if the three readers disagree.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from bot.reports.outbox import load_funnel, load_report
from bot.reports.service import (
    Period,
    Report,
    SegmentBy,
    build_report,
    parse_period,
    report_to_dict,
)
from storage import rollups
from storage.db import SqliteDatabase, migrate
from storage.reports import (
    RollupTotals,
    daily_rollup_totals,
    rebuild_rollups,
    rollup_totals,
)

LOCATIONS = 50
STAFF_PER_LOCATION = 4
TOUCHPOINTS = ("hall", "phone", "chat")
DAYS = 730
TODAY = date(2026, 11, 22)
FIRST_DAY = TODAY - timedelta(days=DAYS - 1)
MIN_SAMPLE = 80
RUNS = 15
SAMPLE_KEYS = 25
BATCH = 50_000
WRITES = 300
FUNNEL_EVENTS = ("reported", "scheduled", "sent", "answered")

# Scores 0..10: a typical service business, and a worse one for every tenth location.
GOOD = np.array([2, 1, 1, 2, 2, 3, 5, 10, 18, 26, 30], dtype=float)
WEAK = np.array([6, 4, 5, 6, 7, 8, 9, 12, 14, 14, 15], dtype=float)
CES_P = np.array([4, 5, 8, 12, 21, 26, 24], dtype=float)

Totals = Callable[[Any, date, date, str], Awaitable[list[RollupTotals]]]


def out(name: str, value: float, unit: str) -> None:
    print(f"{name}: {value:.{3 if value < 10 else 1}f} {unit}", flush=True)


# --- data ------------------------------------------------------------------------------


class Data:
    """N answered surveys as numpy columns."""

    def __init__(self, size: int, seed: int = 5) -> None:
        rng = np.random.default_rng(seed)
        self.size = size
        self.day = rng.integers(0, DAYS, size)
        self.location = rng.integers(0, LOCATIONS, size)
        self.staff = rng.integers(0, STAFF_PER_LOCATION, size)
        self.touchpoint = rng.integers(0, len(TOUCHPOINTS), size)
        nps = rng.choice(11, size, p=GOOD / GOOD.sum())
        weak = self.location % 10 == 3
        nps[weak] = rng.choice(11, int(weak.sum()), p=WEAK / WEAK.sum())
        self.nps = nps
        ces = rng.choice(7, size, p=CES_P / CES_P.sum()) + 1
        # One answer in five stops after the NPS question: no CES.
        self.ces = np.where(rng.random(size) < 0.2, 0, ces)
        day_ms = np.array(
            [_ms(FIRST_DAY + timedelta(days=offset)) for offset in range(DAYS)], dtype=np.int64
        )
        self.visited_at = day_ms[self.day] + rng.integers(8 * 3600_000, 20 * 3600_000, size)
        self.sent_at = self.visited_at + 300_000
        self.nps_at = self.sent_at + rng.integers(10_000, 7200_000, size)


def _ms(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)


DAY_NAMES = [(FIRST_DAY + timedelta(days=offset)).isoformat() for offset in range(DAYS)]
LOCATION_NAMES = [f"Branch {number:02d}" for number in range(LOCATIONS)]


def _staff_name(location: int, staff: int) -> str:
    return f"B{location:02d}-staff-{staff}"


def funnel_rows(data: Data) -> list[tuple[Any, ...]]:
    """funnel_daily rows as the bot would have counted them: every answered survey
    was reported, scheduled, sent and answered."""
    counts = np.bincount(data.day * LOCATIONS + data.location, minlength=DAYS * LOCATIONS)
    rows = []
    for index in np.nonzero(counts)[0].tolist():
        day, location = divmod(index, LOCATIONS)
        for event in FUNNEL_EVENTS:
            rows.append((DAY_NAMES[day], LOCATION_NAMES[location], event, int(counts[index])))
    return rows


def load(path: Path, data: Data) -> None:
    """Bulk-insert customers, visits, surveys and the funnel (raw data only)."""
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA synchronous=OFF")
    customers = max(data.size // 5, 1)
    customer_of = (np.arange(data.size) % customers + 1).tolist()
    day = data.day.tolist()
    location = data.location.tolist()
    staff = data.staff.tolist()
    touchpoint = data.touchpoint.tolist()
    nps = data.nps.tolist()
    ces = [value or None for value in data.ces.tolist()]
    visited = data.visited_at.tolist()
    sent = data.sent_at.tolist()
    answered = data.nps_at.tolist()
    with conn:
        conn.executemany(
            "INSERT INTO customers (id, telegram_id, created_at, updated_at) VALUES (?, ?, 0, 0)",
            ((number, number) for number in range(1, customers + 1)),
        )
        conn.executemany(
            "INSERT INTO visits (id, visit_key, customer_id, visited_at, location, staff,"
            " touchpoint, source, outcome, day, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, 'api', 'scheduled', ?, ?)",
            (
                (
                    index + 1,
                    f"V{index + 1}",
                    customer_of[index],
                    visited[index],
                    LOCATION_NAMES[location[index]],
                    _staff_name(location[index], staff[index]),
                    TOUCHPOINTS[touchpoint[index]],
                    DAY_NAMES[day[index]],
                    visited[index],
                )
                for index in range(data.size)
            ),
        )
        conn.executemany(
            "INSERT INTO surveys (id, visit_id, customer_id, location, staff, touchpoint, day,"
            " status, step, due_at, deadline_at, sent_at, nps, ces, nps_at, ces_at, completed_at,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'completed', 'done', ?, ?, ?, ?, ?, ?,"
            " ?, ?, ?)",
            (
                (
                    index + 1,
                    index + 1,
                    customer_of[index],
                    LOCATION_NAMES[location[index]],
                    _staff_name(location[index], staff[index]),
                    TOUCHPOINTS[touchpoint[index]],
                    DAY_NAMES[day[index]],
                    sent[index],
                    sent[index] + 86_400_000,
                    sent[index],
                    nps[index],
                    ces[index],
                    answered[index],
                    answered[index] + 20_000 if ces[index] else None,
                    answered[index] + 20_000,
                    visited[index],
                )
                for index in range(data.size)
            ),
        )
        conn.executemany(
            "INSERT INTO funnel_daily (day, location, event, count) VALUES (?, ?, ?, ?)",
            funnel_rows(data),
        )
    conn.close()


async def rebuild(path: Path) -> dict[str, int]:
    """Every rollup tier through the real rebuild path; returns rows per table."""
    database = SqliteDatabase(path)
    await database.connect()
    try:
        async with database.transaction() as conn:
            await rebuild_rollups(conn)
            counts = {}
            for table in ("daily_rollups", "daily_segment_rollups", "monthly_segment_rollups"):
                row = await conn.fetch_one(f"SELECT COUNT(*) AS n FROM {table}")
                counts[table] = int(row["n"]) if row else 0
            await conn.execute("ANALYZE")
    finally:
        await database.close()
    return counts


def verify_sample(path: Path, data: Data, rows: int) -> None:
    """Compare a sample of rollup rows (and the grand totals) with the raw answers."""
    conn = sqlite3.connect(path)
    for table, where in (
        ("daily_rollups", "1 = 1"),
        ("daily_segment_rollups", "kind = 'staff'"),
        ("monthly_segment_rollups", "kind = 'location'"),
    ):
        total = conn.execute(f"SELECT SUM(answered) FROM {table} WHERE {where}").fetchone()[0]
        if total != data.size:
            raise SystemExit(f"{table} counts {total} answers, surveys hold {data.size}")
    rng = np.random.default_rng(11)
    rowids = ",".join(str(int(value)) for value in rng.integers(1, rows + 1, SAMPLE_KEYS))
    sample = conn.execute(f"SELECT * FROM daily_rollups WHERE rowid IN ({rowids})").fetchall()
    for row in sample:
        raw = conn.execute(
            "SELECT COUNT(sent_at), COUNT(nps), SUM(nps >= 9), SUM(nps BETWEEN 7 AND 8),"
            " SUM(nps <= 6), COALESCE(SUM(ces), 0), COUNT(ces), SUM(COALESCE(ces, 0) >= 5)"
            " FROM surveys WHERE day = ? AND location = ? AND staff = ? AND touchpoint = ?",
            row[:4],
        ).fetchone()
        if tuple(raw) != tuple(row[4:]):
            raise SystemExit(f"rollup row {row} differs from the surveys: {raw}")
    conn.close()


# --- the /stats work, three ways ---------------------------------------------------------


async def stats_from(conn: Any, period: Period, totals: Totals) -> Report:
    previous = period.previous()
    current_rows = await totals(conn, period.start, period.end, "location")
    previous_rows = await totals(conn, previous.start, previous.end, "location")
    return build_report(period, SegmentBy.LOCATION, current_rows, previous_rows, MIN_SAMPLE)


def _median_ms(timings: list[float]) -> float:
    return statistics.median(timings) * 1000


async def time_ours(path: Path, period: Period) -> dict[str, tuple[float, Report]]:
    """Median milliseconds (and the report) of each of our readers."""
    database = SqliteDatabase(path)
    await database.connect()
    results = {}
    try:
        async with database.read() as conn:
            for name, totals in (("daily", daily_rollup_totals), ("tiered", rollup_totals)):
                timings = []
                report = await stats_from(conn, period, totals)
                for _ in range(RUNS):
                    started = time.perf_counter()
                    report = await stats_from(conn, period, totals)
                    timings.append(time.perf_counter() - started)
                results[name] = (_median_ms(timings), report)
        timings = []
        for _ in range(RUNS):
            started = time.perf_counter()
            report = await load_report(database, period, SegmentBy.LOCATION, MIN_SAMPLE)
            await load_funnel(database, period)
            timings.append(time.perf_counter() - started)
        results["stats"] = (_median_ms(timings), report)
    finally:
        await database.close()
    return results


async def time_writes(path: Path) -> float:
    """Median microseconds to count one answer in every tier (its own transaction)."""
    database = SqliteDatabase(path)
    await database.connect()
    timings = []
    try:
        for number in range(WRITES):
            location = number % LOCATIONS
            segment = rollups.Segment(
                DAY_NAMES[-1 - number % 30],
                LOCATION_NAMES[location],
                _staff_name(location, number % STAFF_PER_LOCATION),
                TOUCHPOINTS[number % len(TOUCHPOINTS)],
            )
            started = time.perf_counter()
            async with database.transaction() as conn:
                await rollups.add_sent(conn, segment)
                await rollups.add_funnel(conn, segment.day, segment.location, "sent")
                await rollups.add_nps(conn, segment, number % 11)
                await rollups.add_funnel(conn, segment.day, segment.location, "answered")
                await rollups.add_ces(conn, segment, number % 7 + 1)
            timings.append(time.perf_counter() - started)
    finally:
        await database.close()
    return statistics.median(timings) * 1_000_000


def duckdb_module() -> Any:
    try:
        import duckdb
    except ImportError:
        print(
            "duckdb is not installed, so the DuckDB comparison is skipped: install it with"
            " `pip install -e '.[bench]'` (or `.venv/bin/pip install duckdb`).",
            file=sys.stderr,
        )
        return None
    return duckdb


def duckdb_table(duckdb: Any, path: Path) -> Any:
    """An in-memory DuckDB table holding the raw columns read from the SQLite file."""
    source = sqlite3.connect(path)
    names = ("day", "location", "sent_at", "nps", "ces")
    columns: dict[str, list[Any]] = {name: [] for name in names}
    cursor = source.execute(f"SELECT {', '.join(names)} FROM surveys")
    while batch := cursor.fetchmany(BATCH):
        for name, values in zip(names, zip(*batch, strict=True), strict=True):
            columns[name].extend(values)
    source.close()
    arrays = {
        "day": np.array(columns["day"], dtype=object),
        "location": np.array(columns["location"], dtype=object),
        "sent_at": np.array([value is not None for value in columns["sent_at"]]),
        "nps": np.array([-1 if value is None else value for value in columns["nps"]]),
        "ces": np.array([0 if value is None else value for value in columns["ces"]]),
    }
    con = duckdb.connect(":memory:")
    con.register("raw_columns", arrays)
    con.execute(
        "CREATE TABLE surveys AS SELECT day::DATE AS day, location::VARCHAR AS location,"
        " sent_at, CASE WHEN nps >= 0 THEN nps END AS nps, CASE WHEN ces > 0 THEN ces END AS ces"
        " FROM raw_columns"
    )
    con.unregister("raw_columns")
    return con


# The fastest of the forms tried (FILTER, CASE, casts of booleans) on DuckDB 2.0.
_DUCK_SQL = """
SELECT location, day >= ? AS current,
       SUM(sent_at::INTEGER) AS sent,
       COUNT(nps) AS answered,
       SUM((nps >= 9)::INTEGER) AS promoters,
       SUM((nps BETWEEN 7 AND 8)::INTEGER) AS passives,
       SUM((nps <= 6)::INTEGER) AS detractors,
       COALESCE(SUM(ces), 0) AS ces_sum,
       COUNT(ces) AS ces_count,
       SUM((ces >= 5)::INTEGER) AS ces_easy
FROM surveys
WHERE day BETWEEN ? AND ?
GROUP BY ALL
"""


def stats_duckdb(con: Any, period: Period) -> Report:
    previous = period.previous()
    rows = con.execute(_DUCK_SQL, [period.start, previous.start, period.end]).fetchall()
    current: list[RollupTotals] = []
    before: list[RollupTotals] = []
    for location, is_current, *counts in rows:
        (current if is_current else before).append(
            RollupTotals(location, *(int(count or 0) for count in counts))
        )
    return build_report(
        period,
        SegmentBy.LOCATION,
        sorted(current, key=lambda row: row.key),
        before,
        MIN_SAMPLE,
    )


def time_duckdb(con: Any, period: Period) -> tuple[float, Report]:
    report = stats_duckdb(con, period)
    timings = []
    for _ in range(RUNS):
        started = time.perf_counter()
        report = stats_duckdb(con, period)
        timings.append(time.perf_counter() - started)
    return statistics.median(timings), report


# --- driver ----------------------------------------------------------------------------------


def prepare(path: Path, size: int) -> None:
    asyncio.run(_migrate(path))
    started = time.perf_counter()
    data = Data(size)
    load(path, data)
    out(f"reports_generate_{size}", time.perf_counter() - started, "s")
    started = time.perf_counter()
    counts = asyncio.run(rebuild(path))
    out(f"reports_rebuild_rollups_{size}", time.perf_counter() - started, "s")
    for table, rows in counts.items():
        print(f"reports_rows_{table}_{size}: {rows} rows", flush=True)
    verify_sample(path, data, counts["daily_rollups"])


async def _migrate(path: Path) -> None:
    database = SqliteDatabase(path)
    await database.connect()
    await migrate(database)
    await database.close()


def run_size(size: int, duckdb: Any, folder: Path) -> dict[str, float]:
    path = folder / f"reports_{size}.sqlite3"
    prepare(path, size)
    period = parse_period("365d", TODAY)
    ours = asyncio.run(time_ours(path, period))
    times = {name: milliseconds for name, (milliseconds, _) in ours.items()}
    for name in ("daily", "tiered", "stats"):
        out(f"reports_{name}_{size}", times[name], "ms")
    expected = report_to_dict(ours["daily"][1])
    for name in ("tiered", "stats"):
        if report_to_dict(ours[name][1]) != expected:
            raise SystemExit(f"the {name} report differs from the full-key daily one")
    if duckdb is not None:
        started = time.perf_counter()
        con = duckdb_table(duckdb, path)
        out(f"reports_duckdb_load_{size}", time.perf_counter() - started, "s")
        seconds, report = time_duckdb(con, period)
        con.close()
        if report_to_dict(report) != expected:
            raise SystemExit("DuckDB's report differs from the rollups'")
        times["duckdb"] = seconds * 1000
        out(f"reports_duckdb_{size}", times["duckdb"], "ms")
        out(f"reports_ratio_duckdb_over_tiered_{size}", times["duckdb"] / times["tiered"], "x")
        out(f"reports_ratio_duckdb_over_daily_{size}", times["duckdb"] / times["daily"], "x")
    out(f"reports_write_per_answer_{size}", asyncio.run(time_writes(path)), "us")
    path.unlink()
    return times


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.reports_bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="10k responses only")
    parser.add_argument(
        "--sizes", help="comma-separated response counts (default 10000,100000,1000000)"
    )
    args = parser.parse_args(argv)
    if args.sizes:
        sizes = [int(value) for value in args.sizes.split(",")]
    else:
        sizes = [10_000] if args.quick else [10_000, 100_000, 1_000_000]
    duckdb = duckdb_module()
    results: dict[int, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="otklik-bench-") as folder:
        for size in sizes:
            results[size] = run_size(size, duckdb, Path(folder))
    # Growth with the number of answers, size over the size before it: 1.0 means flat.
    # From 10k to 100k the tiers fill up (10k answers leave most day x location cells
    # empty); past that a reader that follows days x segments stays flat.
    ordered = sorted(results)
    for smaller, larger in itertools.pairwise(ordered):
        for name in results[larger]:
            out(
                f"reports_ratio_{name}_{larger}_over_{smaller}",
                results[larger][name] / results[smaller][name],
                "x",
            )


if __name__ == "__main__":
    main()
