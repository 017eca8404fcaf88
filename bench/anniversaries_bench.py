"""How long selecting one day's anniversaries takes among many customers.

Run: `python -m bench.anniversaries_bench [--quick] [--size N] [--runs R]`
(or `python bench/anniversaries_bench.py`). Prints `name: value unit` lines: the
time of `storage.anniversaries.candidates` (the real query, through the
customers_since_md index), the same SQL forced to scan the table (NOT INDEXED),
their ratio, and the EXPLAIN QUERY PLAN of both. Target: under 50 ms at 1,000,000.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file: make the repo root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.anniversaries.service import since_month_days
from storage import anniversaries as store
from storage.db import SqliteDatabase, migrate

FULL_SIZE = 1_000_000
QUICK_SIZE = 10_000
BATCH = 50_000
DAY = date(2026, 5, 1)
LEAP_DAY_EVE = date(2027, 2, 28)  # a common year's 28 Feb also greets 29 Feb customers
FIRST_SINCE = date(2016, 1, 1)


def _rows(size: int, seed: int) -> Iterator[tuple[Any, ...]]:
    rng = random.Random(seed)
    span = (DAY - FIRST_SINCE).days
    languages = ("ru", "uk", "en")
    for i in range(size):
        since = FIRST_SINCE + timedelta(days=rng.randrange(span))
        roll = rng.random()
        yield (
            # About 5% never wrote to the bot (no Telegram id).
            None if roll < 0.05 else 10_000_000 + i,
            f"Customer {i}",
            languages[i % 3],
            since.isoformat(),
            store.since_md(since),
            int(0.05 <= roll < 0.08),  # opted out
            int(0.08 <= roll < 0.10),  # unreachable
            1 if 0.10 <= roll < 0.11 else None,  # forgotten
        )


def fill(path: Path, size: int, seed: int = 7) -> float:
    """Insert `size` customers in one transaction; returns seconds taken."""
    started = time.perf_counter()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-262144")
    conn.execute("BEGIN")
    sql = (
        "INSERT INTO customers (telegram_id, name, language, customer_since, since_md,"
        " opted_out, unreachable, forgotten_at, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, 0)"
    )
    rows = _rows(size, seed)
    while batch := [row for _, row in zip(range(BATCH), rows, strict=False)]:
        conn.executemany(sql, batch)
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.close()
    return time.perf_counter() - started


async def median_ms(action: Callable[[], Awaitable[object]], runs: int) -> float:
    await action()  # warm the page cache: we measure the query, not the first disk read
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        await action()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


async def measure(path: Path, size: int, runs: int) -> None:
    db = SqliteDatabase(path)
    await db.connect()
    await migrate(db)
    await db.close()
    print(f"anniversary_fill_{size}: {fill(path, size):.1f} s")

    await db.connect()
    try:
        async with db.read() as conn:
            for label, day in (("", DAY), ("_feb28", LEAP_DAY_EVE)):
                keys = since_month_days(day)
                sql, params = store.candidates_query(day, keys)
                scan_sql = sql.replace("FROM customers c", "FROM customers c NOT INDEXED")
                found = await store.candidates(conn, day, keys)

                async def select(day: date = day, keys: tuple[str, ...] = keys) -> object:
                    return await store.candidates(conn, day, keys)

                async def raw(query: str = sql, params: dict[str, Any] = params) -> object:
                    return await conn.fetch_all(query, params)

                async def scan(query: str = scan_sql, params: dict[str, Any] = params) -> object:
                    return await conn.fetch_all(query, params)

                indexed_ms = await median_ms(select, runs)
                sql_ms = await median_ms(raw, runs)
                scan_ms = await median_ms(scan, max(3, runs // 3))
                print(f"anniversary_select{label}_{size}: {indexed_ms:.2f} ms")
                print(f"anniversary_select{label}_rows_{size}: {len(found)} rows")
                print(f"anniversary_select{label}_sql_{size}: {sql_ms:.2f} ms")
                print(f"anniversary_select{label}_fullscan_{size}: {scan_ms:.2f} ms")
                print(f"anniversary_fullscan_over_index{label}_{size}: {scan_ms / sql_ms:.1f} x")
                for name, query in (("index", sql), ("fullscan", scan_sql)):
                    plan = await conn.fetch_all("EXPLAIN QUERY PLAN " + query, params)
                    details = "; ".join(str(row["detail"]) for row in plan)
                    print(f"anniversary_plan{label}_{name}: {details}")
    finally:
        await db.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_SIZE} customers")
    parser.add_argument("--size", type=int, default=None, help="number of customers")
    parser.add_argument("--runs", type=int, default=15, help="timed runs per query")
    args = parser.parse_args(argv)
    size = args.size or (QUICK_SIZE if args.quick else FULL_SIZE)
    with tempfile.TemporaryDirectory(prefix="otklik-bench-") as folder:
        asyncio.run(measure(Path(folder) / "bench.sqlite3", size, args.runs))


if __name__ == "__main__":
    main()
