"""How the topics report scales: the counters at 10k and at 1M answers.

    python -m bench.topic_report_bench            # 10k and 1M answers (~5 minutes)
    python -m bench.topic_report_bench --quick    # 10k and 100k (~40 seconds)

For each size the demo's bulk writer (bot/demo/bulk.py, the benchmark's million answers)
fills a temporary SQLite database with a year of a coffee chain's feedback: the same 60
locations (the demo's 6 branches, 10 copies) at both sizes, with more visits a day for
more answers, every reason with its topics and its counters
(`topic_daily` / `topic_monthly`), written as the live bot writes them. Then it times, as
a median of repeated runs:

- `topics`: what /topics and GET /api/v1/topics read (bot/reports/topics.py
  `load_topics`: the topic counters and the answers' counters of the period and the one
  before) for the chain over 30 days and 365 days, and for one location over 30 days;
- `stats`: /stats' NPS report of the same period (`load_report`), the baseline read in
  the same process;
- `scan`: the same topic counts summed from the raw `survey_topics` joined to the surveys
  (what the report would cost without counters), for the chain over 365 days.

Prints `name: value unit` lines and the ratios 1M / 10k (flat is about 1) and topics /
stats; asserts nothing about speed, but stops if the scan and the counters disagree.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.demo.build import demo_settings
from bot.demo.bulk import BulkWriter
from bot.demo.plan import DemoPlan, Scale
from bot.reports.outbox import load_report
from bot.reports.service import Period, SegmentBy
from bot.reports.topics import TopicReport, load_topics
from bot.topics import load_taxonomy
from storage.db import Database, create_database, migrate

NOW = datetime(2026, 12, 7, 12, tzinfo=UTC)
DAYS = 365
# Answers per day of one copy of the demo chain (6 branches) at visits=1, response=3
# (measured), and the copies: 60 locations at every size.
ANSWERS_PER_COPY_DAY = 40
COPIES = 10
MIN_SAMPLE = 80
REPEATS = 15


def out(name: str, value: float, unit: str) -> None:
    print(f"{name}: {value:.3f} {unit}", flush=True)


def scale_for(answers: int) -> Scale:
    visits = answers / (ANSWERS_PER_COPY_DAY * DAYS * COPIES)
    return Scale(days=DAYS, visits=visits, copies=COPIES, response=3.0)


async def fill(folder: Path, size: int) -> tuple[Database, int]:
    url = f"sqlite:///{folder / f'topics-{size}.sqlite3'}"
    db = create_database(url)
    await db.connect()
    await migrate(db)
    plan = DemoPlan(demo_settings(url), NOW, scale=scale_for(size))
    started = time.perf_counter()
    summary = await BulkWriter(db, plan).write(days_per_transaction=10)
    out(f"n{size}_bulk_write", time.perf_counter() - started, "s")
    out(f"n{size}_answers", summary.answers, "answers")
    async with db.read() as conn:
        row = await conn.fetch_one("SELECT COUNT(*) AS n FROM survey_topics")
        daily = await conn.fetch_one("SELECT COUNT(*) AS n FROM topic_daily")
    assert row is not None and daily is not None
    out(f"n{size}_topic_mentions", int(row["n"]), "rows")
    out(f"n{size}_topic_daily_rows", int(daily["n"]), "rows")
    return db, summary.answers


async def median_ms(work: Callable[[], Awaitable[Any]]) -> float:
    await work()  # warm: statement caches, the page cache
    timings = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        await work()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings) * 1000


async def scan_counts(db: Database, period: Period) -> Counter[tuple[str, str]]:
    async with db.read() as conn:
        rows = await conn.fetch_all(
            "SELECT t.topic, CASE WHEN s.nps >= 9 THEN 'promoters' WHEN s.nps >= 7"
            " THEN 'passives' ELSE 'detractors' END AS band, COUNT(*) AS n"
            " FROM survey_topics AS t JOIN surveys AS s ON s.id = t.survey_id"
            " WHERE s.nps IS NOT NULL AND s.day BETWEEN :start AND :end"
            " GROUP BY t.topic, band",
            {"start": period.start.isoformat(), "end": period.end.isoformat()},
        )
    return Counter({(row["topic"], row["band"]): int(row["n"]) for row in rows})


def report_counts(report: TopicReport) -> Counter[tuple[str, str]]:
    found: Counter[tuple[str, str]] = Counter()
    for figures in report.topics:
        mentions = figures.current.mentions
        for band in ("promoters", "passives", "detractors"):
            found[figures.topic, band] = getattr(mentions, band)
    return +found


async def run_size(folder: Path, size: int) -> dict[str, float]:
    db, _ = await fill(folder, size)
    ids = load_taxonomy().ids()
    today = NOW.date()
    month = Period(today - timedelta(days=29), today)
    year = Period(today - timedelta(days=DAYS - 1), today)
    location = "kyiv-podil"
    found: dict[str, float] = {}
    try:
        report = await load_topics(db, year, ids, MIN_SAMPLE)
        if report_counts(report) != await scan_counts(db, year):
            raise SystemExit("the topic counters and the raw scan disagree")
        cases: dict[str, Callable[[], Awaitable[Any]]] = {
            "topics_chain_30d": lambda: load_topics(db, month, ids, MIN_SAMPLE),
            "topics_chain_365d": lambda: load_topics(db, year, ids, MIN_SAMPLE),
            "topics_location_30d": lambda: load_topics(db, month, ids, MIN_SAMPLE, [location]),
            "stats_chain_365d": lambda: load_report(db, year, SegmentBy.NONE, MIN_SAMPLE),
            "scan_chain_365d": lambda: scan_counts(db, year),
        }
        for name, work in cases.items():
            found[name] = await median_ms(work)
            out(f"n{size}_{name}", found[name], "ms")
        out(
            f"n{size}_ratio_topics_vs_stats_365d",
            found["topics_chain_365d"] / found["stats_chain_365d"],
            "x",
        )
    finally:
        await db.close()
    return found


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10k and 100k answers")
    args = parser.parse_args(argv)
    small, large = (10_000, 100_000) if args.quick else (10_000, 1_000_000)
    with tempfile.TemporaryDirectory() as folder:
        first = asyncio.run(run_size(Path(folder), small))
        second = asyncio.run(run_size(Path(folder), large))
    for name in (
        "topics_chain_30d",
        "topics_chain_365d",
        "topics_location_30d",
        "scan_chain_365d",
    ):
        out(f"ratio_{name}_{large // 1000}k_vs_{small // 1000}k", second[name] / first[name], "x")


if __name__ == "__main__":
    main()
