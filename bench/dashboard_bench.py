"""The dashboard's server time at 1,000,000 answers (issue 18: every page at most 100 ms
p95), beside the same pages at 10,000 answers in the same process.

    python -m bench.dashboard_bench                 # 10k and 1M answers on SQLite
    python -m bench.dashboard_bench --quick         # 10k and 100k
    python -m bench.dashboard_bench --dsn URL       # also on PostgreSQL (a schema of its own)
    python -m bench.dashboard_bench --keep DIR      # keep (and reuse) the SQLite files

Each database is the demo's coffee chain written by the demo's bulk writer
(bot/demo/bulk.py: counters as the services count them live): 102 branches (the six
copied 17 times) in three regions over 365 days, the visits scaled to the size wanted.
The real dashboard (`build_services` -> `mount_dashboard`) is served by aiohttp on
127.0.0.1 and every screen is fetched through HTTP with a bearer session: the admin
(sees everything), a region manager (a third of the branches) and a branch manager
(one branch; membership answered by a stub instead of getChatMember, as cached).
A page's time is the round trip of the whole answer, body included, over a kept-alive
connection: an upper bound of the server's time. The CSV is timed to its first byte
and to its last. Prints `name: value unit` lines, p50 and p95 per page, the ratio of
each page's p95 to its p95 at the baseline size, and each screen's weight gzipped.
Asserts nothing about speed.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import re
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.core.clock import FakeClock
from bot.dashboard.access import DashboardAccess
from bot.dashboard.app import STATIC_DIR, mount_dashboard
from bot.dashboard.auth import Viewer
from bot.dashboard.facade import Dashboard
from bot.demo.build import demo_settings
from bot.demo.bulk import BulkWriter
from bot.demo.chain import BRANCHES, DEMO_ADMIN_ID, REGIONS
from bot.demo.plan import DemoPlan, Scale
from bot.wiring import Services, build_services
from storage import bulk
from storage.db import create_database, migrate

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
DAYS = 365
COPIES = 17
RESPONSE = 2.0
# Answers per unit of Scale.visits at DAYS and COPIES (measured: 936,919 at 4.24).
ANSWERS_PER_VISIT_UNIT = 221_000
REGION_MANAGER, BRANCH_MANAGER = 100_000_002, 100_000_003
BRANCH = BRANCHES[0]
REGION = REGIONS[0]
LIMIT_MS = 100.0


@dataclass(frozen=True, slots=True)
class Size:
    name: str
    answers: int
    runs: int


def scale_for(answers: int) -> Scale:
    return Scale(
        days=DAYS, visits=answers / ANSWERS_PER_VISIT_UNIT, copies=COPIES, response=RESPONSE
    )


async def build(url: str, answers: int) -> int:
    """Write the chain's year with about `answers` answers; returns how many."""
    settings = demo_settings(url)
    db = create_database(url)
    await db.connect()
    try:
        await migrate(db)
        plan = DemoPlan(settings, NOW, scale=scale_for(answers))
        summary = await BulkWriter(db, plan).write(days_per_transaction=7)
        async with db.transaction() as conn:
            await bulk.analyze(conn)
    finally:
        await db.close()
    return summary.answers


async def count_answers(url: str) -> int:
    db = create_database(url)
    await db.connect()
    try:
        async with db.read() as conn:
            row = await conn.fetch_one("SELECT COUNT(*) AS n FROM surveys WHERE nps IS NOT NULL")
    finally:
        await db.close()
    return int(row["n"]) if row else 0


def with_stub_membership(services: Services) -> Dashboard:
    """The services' dashboard, but membership answered here instead of by Telegram:
    the region manager is in the first region's chat, the branch manager in the first
    branch's chat."""
    members = {
        (REGION.manager_chat_id, REGION_MANAGER),
        (BRANCH.manager_chat_id, BRANCH_MANAGER),
    }

    async def membership(chat_id: int, user_id: int) -> bool:
        return (chat_id, user_id) in members

    old = services.dashboard
    settings = services.settings
    access = DashboardAccess(
        services.routing,
        services.chats,
        membership,
        services.clock,
        admin_ids=settings.admin_ids,
        cache_for=settings.dashboard_member_cache,
    )
    return Dashboard(settings, services.clock, services.db, old.translator, access, old.service)


@asynccontextmanager
async def serving(url: str) -> AsyncIterator[tuple[TestServer, Dashboard]]:
    settings = demo_settings(url)
    services = build_services(settings, FakeClock(NOW))
    await services.db.connect()
    await services.chats.refresh()
    await migrate(services.db)  # a kept database gets this code's indexes
    dashboard = with_stub_membership(services)
    app = web.Application()
    mount_dashboard(app, dashboard)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield server, dashboard
    finally:
        await server.close()
        await services.db.close()
        await services.bot.session.close()


Timed = Callable[[], Awaitable[float]]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


class Client:
    def __init__(self, http: aiohttp.ClientSession, base: str, token: str) -> None:
        self._http = http
        self._base = base
        self._headers = {"Authorization": f"Bearer {token}"}

    async def get(self, path: str) -> tuple[float, bytes]:
        started = time.perf_counter()
        async with self._http.get(self._base + path, headers=self._headers) as response:
            body = await response.read()
            if response.status != 200:
                raise RuntimeError(f"{path}: {response.status} {body[:200]!r}")
        return (time.perf_counter() - started) * 1000, body

    async def stream(self, path: str) -> tuple[float, float, float, int]:
        """Milliseconds to the answer's headers, to the first bytes of its body and to
        its end, and the body's size."""
        started = time.perf_counter()
        first: float | None = None
        size = 0
        async with self._http.get(self._base + path, headers=self._headers) as response:
            headers = time.perf_counter()
            if response.status != 200:
                raise RuntimeError(f"{path}: {response.status}")
            async for chunk in response.content.iter_any():
                if first is None:
                    first = time.perf_counter()
                size += len(chunk)
        ended = time.perf_counter()
        ms = [(moment - started) * 1000 for moment in (headers, first or ended, ended)]
        return ms[0], ms[1], ms[2], size


def cursor_of(body: bytes) -> str | None:
    found = re.search(rb"before=([0-9-]{10}\.[0-9]+)", body)
    return found.group(1).decode() if found else None


@dataclass(slots=True)
class Page:
    name: str
    path: str


def pages(words: tuple[str, str]) -> list[Page]:
    """The screens a viewer opens: overview (default period, 90 days, a custom range),
    responses (first page, filters, topics), cases, topics."""
    location = f"&location={BRANCH.code}"
    common, rare = words
    listed = [
        Page("overview_30d", "overview"),
        Page("overview_90d", "overview?period=90d"),
        Page("overview_custom", "overview?period=custom&from=2026-03-01&to=2026-08-31"),
        Page("responses_first", "responses"),
        Page("responses_90d", "responses?period=90d"),
        Page("responses_365d", "responses?period=365d"),
        Page("responses_location", f"responses?period=90d{location}"),
        Page("responses_staff", f"responses?period=90d&staff={BRANCH.staff[0]}"),
        Page(
            "responses_staff_location", f"responses?period=90d&staff={BRANCH.staff[0]}{location}"
        ),
        Page("responses_detractors", "responses?period=90d&band=detractor"),
        Page("responses_text_common", f"responses?q={common}"),
        Page("responses_text_rare", f"responses?q={rare}"),
        Page("responses_text_90d", f"responses?period=90d&q={rare}"),
        Page("responses_text_365d", f"responses?period=365d&q={rare}"),
        Page("responses_topic", "responses?period=90d&topic=payment"),
        Page("cases", "cases"),
        # What the reasons say: the Topics screen (the report from the counters, three
        # latest reasons per topic) and Responses narrowed to a common and a rare topic.
        Page("topics_30d", "topics"),
        Page("topics_365d", "topics?period=365d"),
        Page("topics_location", f"topics?period=90d{location}"),
        Page("responses_topic_common", "responses?period=90d&topic=wait"),
        Page("responses_topic_rare", "responses?period=90d&topic=communication"),
        Page("responses_topic_rare_365d", "responses?period=365d&topic=communication"),
        Page("responses_topic_location", f"responses?period=90d&topic=communication{location}"),
        Page("topics_90d", "topics?period=90d"),
        Page("topics_custom", "topics?period=custom&from=2026-03-01&to=2026-08-31"),
    ]
    return listed


async def timed_page(timed: Timed, runs: int) -> tuple[float, float]:
    """p50 and p95 of `runs` timings after two warm-ups; a page far over the limit is
    timed 5 times only (its figure is clear, and the run stays short)."""
    for _ in range(2):
        await timed()
    times = [await timed() for _ in range(5)]
    if statistics.median(times) < 5 * LIMIT_MS:
        times += [await timed() for _ in range(runs - 5)]
    return statistics.median(times), percentile(times, 0.95)


class Results:
    def __init__(self, size: str) -> None:
        self.size = size
        self.pages: dict[str, tuple[float, float]] = {}

    def add(self, key: str, value: tuple[float, float], weight: int | None = None) -> None:
        self.pages[key] = value
        p50, p95 = value
        mark = "  OVER" if p95 > LIMIT_MS and "csv" not in key else ""
        print(f"{self.size}_{key}: p50 {p50:.1f} ms, p95 {p95:.1f} ms{mark}", flush=True)
        if weight is not None:
            print(f"{self.size}_{key}_weight: {weight} bytes gzipped", flush=True)


async def measure_viewer(client: Client, viewer: str, runs: int, results: Results) -> None:
    for page in pages(("coffee", "zzzqx")):
        last: list[bytes] = [b""]

        async def timed(path: str = page.path, last: list[bytes] = last) -> float:
            elapsed, last[0] = await client.get(path)
            return elapsed

        key = f"{viewer}_{page.name}"
        results.add(key, await timed_page(timed, runs), len(gzip.compress(last[0])))
        if page.name in ("responses_first", "responses_location"):
            # A later page by its cursor: the tenth of a year's answers (or the last).
            first = page.path.replace("period=90d", "period=365d")
            if "period=" not in first:
                first += "?period=365d"
            path = first
            for _ in range(9):
                _, body = await client.get(path)
                found = cursor_of(body)
                if found is None:
                    break
                path = f"{first}&before={found}"

            async def later(path: str = path) -> float:
                return (await client.get(path))[0]

            results.add(f"{key}_page10", await timed_page(later, runs))
    # The CSV of the default period and of 90 days: to its headers, its first bytes
    # and its end (a download: the browser shows it from the headers on).
    for name, path, csv_runs in (
        ("csv_30d", "responses.csv", 3),
        ("csv_90d", "responses.csv?period=90d", 1),
    ):
        streams = [await client.stream(path) for _ in range(csv_runs)]
        for index, part in enumerate(("headers", "first_bytes", "total")):
            values = [float(item[index]) for item in streams]
            results.add(f"{viewer}_{name}_{part}", (statistics.median(values), max(values)))
        size = int(streams[-1][3])
        seconds = statistics.median(item[2] for item in streams) / 1000
        print(
            f"{results.size}_{viewer}_{name}_size: {size} bytes ({size / seconds / 1e6:.1f} MB/s)",
            flush=True,
        )


async def measure(url: str, size: str, runs: int) -> dict[str, tuple[float, float]]:
    results = Results(size)
    async with serving(url) as (server, dashboard):
        base = str(server.make_url("/app/view/"))
        async with aiohttp.ClientSession() as http:
            for viewer, user_id in (
                ("admin", DEMO_ADMIN_ID),
                ("region", REGION_MANAGER),
                ("branch", BRANCH_MANAGER),
            ):
                token = dashboard.issue_session(Viewer(user_id, viewer.title(), "en"))
                await measure_viewer(Client(http, base, token), viewer, runs, results)
    return results.pages


def static_weight() -> int:
    """The shell's static files gzipped, as a browser loads them once."""
    return sum(
        len(gzip.compress(path.read_bytes())) for path in STATIC_DIR.rglob("*") if path.is_file()
    )


async def run_size(size: Size, url: str, keep: bool) -> dict[str, tuple[float, float]]:
    started = time.perf_counter()
    if keep and _exists(url):
        answers = await count_answers(url)
        print(f"{size.name}_reused: {answers} answers", flush=True)
    else:
        answers = await build(url, size.answers)
        elapsed = time.perf_counter() - started
        print(f"{size.name}_build: {elapsed:.1f} s for {answers} answers", flush=True)
    return await measure(url, size.name, size.runs)


def _exists(url: str) -> bool:
    return url.startswith("sqlite:///") and Path(url.removeprefix("sqlite:///")).exists()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10k and 100k answers")
    parser.add_argument(
        "--dsn", default=None, help="also on this PostgreSQL server (a schema of its own)"
    )
    parser.add_argument("--keep", type=Path, help="keep the SQLite files here (and reuse them)")
    parser.add_argument("--only", choices=("sqlite", "postgres"), default=None)
    args = parser.parse_args()
    big = Size("100k", 100_000, 30) if args.quick else Size("1m", 1_000_000, 40)
    sizes = (Size("10k", 10_000, 40), big)
    print(f"static_weight: {static_weight()} bytes gzipped")
    with tempfile.TemporaryDirectory(prefix="otklik-dashboard-bench-") as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        if args.only != "postgres":
            base: dict[str, tuple[float, float]] = {}
            for size in sizes:
                url = f"sqlite:///{folder / f'dashboard-{size.name}.sqlite3'}"
                found = asyncio.run(run_size(size, url, args.keep is not None))
                if not base:
                    base = found
                    continue
                report_ratios(size, base, found)
        if args.dsn and args.only != "sqlite":
            asyncio.run(run_postgres(args.dsn, sizes))


def report_ratios(
    size: Size, base: dict[str, tuple[float, float]], found: dict[str, tuple[float, float]]
) -> None:
    over = [key for key, (_, p95) in found.items() if p95 > LIMIT_MS and "csv" not in key]
    for key, (_, p95) in found.items():
        print(f"{size.name}_{key}_vs_10k: {p95 / base[key][1]:.2f} x")
    worst = max((p95, key) for key, (_, p95) in found.items() if "csv" not in key)
    print(f"{size.name}_worst_page_p95: {worst[0]:.1f} ms ({worst[1]})")
    print(f"{size.name}_pages_over_{LIMIT_MS:.0f}ms: {len(over)} {' '.join(over)}".rstrip())


async def run_postgres(dsn: str, sizes: tuple[Size, ...]) -> None:
    from bench.instances_bench import fresh_schema

    base: dict[str, tuple[float, float]] = {}
    for size in sizes:
        async with fresh_schema(dsn) as url:
            pg = Size(f"pg_{size.name}", size.answers, size.runs)
            found = await run_size(pg, url, False)
        if not base:
            base = found
        else:
            report_ratios(pg, base, found)


if __name__ == "__main__":
    main()
