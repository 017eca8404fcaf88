"""What GET /metrics costs: the bumps on the hot paths, the transaction timer, a scrape.

    python -m bench.metrics_bench            # 1,000,000 bumps; 200,000 ended outbox rows
    python -m bench.metrics_bench --quick    # 100,000 bumps; 20,000 rows

- A bump (`Metrics.sent`, what the delivery worker does per message) beside the same
  call into a method that does nothing (the baseline, in this process).
- The timing hook's own work (two clock reads and an observation), and a SQLite
  transaction (one UPDATE) with and without the hook, interleaved rounds so that the
  machine's load falls on both alike (medians; still noisy on a shared machine).
- A scrape (`Metrics.scrape`: the two grouped COUNTs and the rendering) on SQLite with
  `--rows` ended outbox rows (history), 1% as many unfinished ones and 5,000 open cases
  against the same with an empty database.

Prints `name: value unit` lines; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from bot.core.metrics import Metrics
from storage.db import Connection, SqliteDatabase, migrate

NOW = 1_800_000_000_000
HOUR = 3_600_000


class _Nothing:
    def sent(self, kind: str) -> None:
        pass


def _per_call(call: object, count: int) -> float:
    started = time.perf_counter()
    for _ in range(count):
        call("survey")  # type: ignore[operator]
    return (time.perf_counter() - started) / count


def bumps(count: int) -> None:
    metrics = Metrics("bench")
    baseline = _Nothing()
    _per_call(metrics.sent, 1000)
    bump = min(_per_call(metrics.sent, count) for _ in range(3))
    nothing = min(_per_call(baseline.sent, count) for _ in range(3))
    print(f"metrics_bump_sent: {bump * 1e9:.0f} ns")
    print(f"metrics_baseline_noop_call: {nothing * 1e9:.0f} ns")
    print(f"metrics_bump_added: {(bump - nothing) * 1e9:.0f} ns")
    print(f"metrics_bump_ratio: {bump / nothing:.2f} x")
    # What the transaction hook adds to each transaction, measured alone: two clock
    # reads and one histogram observation (the interleaved runs below are noisier).
    observe = metrics.observe_transaction
    clock = time.perf_counter
    started = clock()
    for _ in range(count):
        begun = clock()
        observe(clock() - begun)
    hook = (clock() - started) / count
    print(f"transaction_hook_work: {hook * 1e9:.0f} ns")


async def transactions(folder: Path, rounds: int, per_round: int) -> None:
    db = SqliteDatabase(folder / "tx.sqlite3")
    await db.connect()
    await migrate(db)
    async with db.transaction() as conn:
        await conn.execute(
            "INSERT INTO leases (name, owner, until_at) VALUES ('bench', 'x', 0)", None
        )
    metrics = Metrics("bench")

    async def one_round(timed: bool) -> float:
        db.on_transaction = metrics.observe_transaction if timed else None
        started = time.perf_counter()
        for i in range(per_round):
            async with db.transaction() as conn:
                await conn.execute(
                    "UPDATE leases SET until_at = :i WHERE name = 'bench'", {"i": i}
                )
        return (time.perf_counter() - started) / per_round

    plain, timed = [], []
    for _ in range(rounds):
        plain.append(await one_round(False))
        timed.append(await one_round(True))
    await db.close()
    p, t = statistics.median(plain), statistics.median(timed)
    print(f"sqlite_transaction_untimed: {p * 1e6:.1f} us")
    print(f"sqlite_transaction_timed: {t * 1e6:.1f} us")
    print(f"sqlite_transaction_timed_ratio: {t / p:.3f} x")


async def _fill(conn: Connection, rows: int, open_cases: int) -> None:
    unfinished = max(1, rows // 100)
    statuses = ["sent"] * 8 + ["failed", "expired"]
    await conn.execute_many(
        "INSERT INTO outbox (kind, priority, chat_id, payload, due_at, status, created_at)"
        " VALUES (:kind, 0, :chat, '', :due, :status, :now)",
        [
            {
                "kind": ("survey", "alert", "reminder")[i % 3],
                "chat": i,
                "due": NOW - HOUR,
                "status": statuses[i % 10],
                "now": NOW - HOUR,
            }
            for i in range(rows)
        ]
        + [
            {
                "kind": ("survey", "reminder")[i % 2],
                "chat": i,
                "due": NOW + (i % 2) * HOUR,
                "status": "pending",
                "now": NOW,
            }
            for i in range(unfinished)
        ],
    )
    await conn.execute(
        "INSERT INTO customers (telegram_id, name, created_at, updated_at)"
        " VALUES (1, 'Bench', 0, 0)",
        None,
    )
    await conn.execute_many(
        "INSERT INTO visits (id, visit_key, customer_id, visited_at, location, staff, source,"
        " outcome, day, created_at)"
        " VALUES (:id, :key, 1, 0, 'Main', '', 'api', 'scheduled', '2026-12-07', 0)",
        [{"id": i + 1, "key": f"v{i}"} for i in range(open_cases)],
    )
    await conn.execute_many(
        "INSERT INTO surveys (id, visit_id, customer_id, location, staff, day, status, step,"
        " due_at, deadline_at, created_at)"
        " VALUES (:id, :id, 1, 'Main', '', '2026-12-07', 'sent', 'ces', 0, 0, 0)",
        [{"id": i + 1} for i in range(open_cases)],
    )
    await conn.execute_many(
        "INSERT INTO cases (survey_id, customer_id, status, opened_at, take_due_at, updated_at)"
        " VALUES (:id, 1, :status, :opened, 0, 0)",
        [
            {"id": i + 1, "status": ("new", "taken")[i % 2], "opened": NOW - (i * 97_000)}
            for i in range(open_cases)
        ],
    )


async def scrape(folder: Path, rows: int, open_cases: int, repeat: int) -> None:
    async def timed(db: SqliteDatabase) -> tuple[float, int]:
        metrics = Metrics("bench")
        body = await metrics.scrape(db, NOW)
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            body = await metrics.scrape(db, NOW)
            times.append(time.perf_counter() - started)
        return statistics.median(times), len(body)

    empty = SqliteDatabase(folder / "empty.sqlite3")
    full = SqliteDatabase(folder / "full.sqlite3")
    for db in (empty, full):
        await db.connect()
        await migrate(db)
    async with full.transaction() as conn:
        await _fill(conn, rows, open_cases)
    base, _ = await timed(empty)
    loaded, size = await timed(full)
    for db in (empty, full):
        await db.close()
    print(f"scrape_empty_database: {base * 1e3:.2f} ms")
    print(
        f"scrape_{rows}_ended_{max(1, rows // 100)}_unfinished_{open_cases}_open_cases:"
        f" {loaded * 1e3:.2f} ms"
    )
    print(f"scrape_ratio: {loaded / base:.2f} x")
    print(f"scrape_body: {size} bytes")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    count = 100_000 if args.quick else 1_000_000
    rows = 20_000 if args.quick else 200_000
    bumps(count)
    with tempfile.TemporaryDirectory() as folder:
        await transactions(Path(folder), rounds=5 if args.quick else 31, per_round=300)
        await scrape(Path(folder), rows, 5_000, repeat=10 if args.quick else 30)


if __name__ == "__main__":
    asyncio.run(main())
