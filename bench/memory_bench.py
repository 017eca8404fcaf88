"""Memory benchmark: the running bot's RSS beside a process that only imports aiogram,
measured in the same run, each part in a fresh process of its own.

    python -m bench.memory_bench                 # every part, full sizes (~25 minutes)
    python -m bench.memory_bench --quick         # every part, short sizes (~2 minutes)
    python -m bench.memory_bench --part storm    # one part (repeat --part for more)
    python -m bench.memory_bench --part storm --trace   # and what Python allocated

Parts:
- imports: RSS after importing aiogram, the libraries the bot always uses, bot.app
  (what `otklik run` imports before it starts), then those loaded only when a
  feature needs them (charts, /qr, Redis, PostgreSQL), each on top of the ones
  before; the delta of each line is what that import added.
- storm: 1,000 customers press Start within one second (long polling, Telegram-like
  limits on the fake server): peak RSS until every one is registered and the bot's
  replies have stopped.
- burst: 20,000 surveys due at once at SEND_RATE_PER_SECOND=25: peak RSS until every
  one is sent (the delivery benchmark's burst, for its memory).
- idle and pending: RSS of the running bot with 0 and with 100,000 surveys due later.

The burst's and pending's customers and visits are registered in another process
first: that is the API's work, and its memory is not the running bot's.
--quick: 300 in the storm, 500 in the burst, 5,000 pending. --trace starts tracemalloc
after start-up and prints the Python allocations alive at the peak that grew the most
(by file and line), beside the total; it slows the bot down, so its RSS is not the
figure to report. The fake Bot API server runs in another process.

Prints `name: value unit` lines; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from bench.fake_server import FakeServerProcess

# Nothing of the bot is imported up here (nor bench.delivery_bench, which imports it):
# the imports part measures each import in a fresh process. The parts import the
# delivery benchmark's helpers when they run; these two match its own.
TOKEN = "123456:BENCH-TOKEN"
FIRST_USER = 10_000

# The fake server of the storm: users exist before the bot starts; "storm N" on stdin
# makes N of them press Start within one second, "sent" prints how many messages the
# bot has had accepted so far; closing stdin stops it.
STORM_SERVER = """
import asyncio, json, sys, time
from tests.support.fake_telegram import FakeTelegram

async def main():
    users = int(sys.argv[1])
    fake = FakeTelegram(sys.argv[3])
    for user_id in range({first}, {first} + users):
        fake.user(user_id)
    fake.group(-1001)
    fake.set_rate_limits(global_per_second=30, per_chat_per_second=1)
    await fake.start()
    print(fake.url, flush=True)
    loop = asyncio.get_running_loop()
    while line := await loop.run_in_executor(None, sys.stdin.readline):
        command = line.split()
        if command[0] == "storm":
            count = int(command[1])
            started = time.monotonic()
            for offset in range(count):
                await fake.send_text({first} + offset, "/start")
                if offset % max(1, count // 20) == 0:
                    # Spread over one second: 20 slices of a twentieth.
                    due = started + offset / count
                    await asyncio.sleep(max(0.0, due - time.monotonic()))
            print("ok", flush=True)
        elif command[0] == "sent":
            print(len(fake.sent), fake.too_many_requests, flush=True)
    print(json.dumps([fake.too_many_requests, time.process_time()]), flush=True)
    await fake.close()

asyncio.run(main())
""".replace("{first}", str(FIRST_USER))

# What the bot may import, heaviest first after aiogram, each measured on top of the
# ones before it; bot.app last (what `otklik run` imports).
IMPORTS = [
    "aiogram",
    "aiohttp",
    "pydantic_settings",
    "apscheduler.schedulers.asyncio",
    "fluent.runtime",
    "babel",
    "aiosqlite",
    "bot.app",
    "matplotlib.figure",
    "matplotlib.backends.backend_agg",
    "segno",
    "redis.asyncio",
    "asyncpg",
]


def _status_mb(field: str) -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status (Linux only)")


def peak_rss_mb() -> float:
    """Peak RSS since this program started. VmHWM, not getrusage's ru_maxrss, which
    Linux carries over fork and exec: a part would report its parent's size."""
    return _status_mb("VmHWM")


def current_rss_mb() -> float:
    return _status_mb("VmRSS")


def aiogram_floor_mb() -> float:
    """Peak RSS of a fresh process that only imports aiogram (the delivery benchmark's
    floor; importing it loads the bot here, which VmHWM in the child ignores)."""
    from bench.delivery_bench import FLOOR

    command = [sys.executable, "-c", FLOOR]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return int(out) / 1024


def imports() -> None:
    """The RSS each import adds, in this (fresh) process."""
    before = current_rss_mb()
    print(f"imports_python: {before:.1f} MB")
    for name in IMPORTS:
        importlib.import_module(name)
        now = current_rss_mb()
        print(f"imports_{name}: {now:.1f} MB (+{now - before:.1f})")
        before = now
    loaded = [name for name in ("matplotlib", "segno", "redis", "asyncpg") if name in sys.modules]
    print(f"imports_heavy_loaded: {len(loaded)} modules ({', '.join(loaded)})")


class Tracer:
    """tracemalloc from after start-up to the peak: what Python allocated and kept."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.start: tracemalloc.Snapshot | None = None
        self.peak: tracemalloc.Snapshot | None = None
        self.peak_size = 0

    def begin(self) -> None:
        if self.enabled:
            tracemalloc.start(1)
            self.start = tracemalloc.take_snapshot()

    def sample(self) -> None:
        """Keep the snapshot of the largest traced size seen so far."""
        if not self.enabled:
            return
        size, _ = tracemalloc.get_traced_memory()
        if size > self.peak_size:
            self.peak_size = size
            self.peak = tracemalloc.take_snapshot()

    def report(self, name: str) -> None:
        if not self.enabled or self.start is None or self.peak is None:
            return
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"{name}_traced_peak: {peak / 2**20:.1f} MB (Python allocations since start-up)")
        stats = self.peak.compare_to(self.start, "lineno")
        for stat in stats[:15]:
            frame = stat.traceback[0]
            where = f"{Path(frame.filename).name}:{frame.lineno}"
            size = stat.size_diff / 2**20
            print(f"{name}_traced {where}: {size:.2f} MB ({stat.count_diff} blocks)")


class ErrorCount(logging.Handler):
    """Counts the log records at ERROR and above instead of printing their tracebacks
    (a handler that fails on a 429 logs one per update)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


async def storm(users: int, trace: bool) -> None:
    """`users` customers press Start within one second; the bot polls."""
    errors = ErrorCount()
    logging.getLogger().addHandler(errors)
    server = FakeServerProcess(STORM_SERVER, str(users), "telegram", TOKEN)
    tracer = Tracer(trace)
    with tempfile.TemporaryDirectory() as folder:
        from bench.delivery_bench import settings_for
        from bot.app import Otklik

        app = Otklik(settings_for(server.url, Path(folder) / "bench.sqlite3", 25, False, 0))
        await app.start()
        started_rss = current_rss_mb()
        tracer.begin()
        t0 = time.monotonic()
        await exchange(server, f"storm {users}")
        registered = await wait_for_customers(app, users, tracer)
        elapsed = time.monotonic() - t0
        # The replies go on after the last customer is registered (pacing, retries):
        # wait until the server has seen no new message for 3 seconds.
        sent, floods = await wait_for_quiet(server, tracer)
        tracer.report("storm")
        peak = peak_rss_mb()
        await app.stop()
    server.stop()
    print(f"storm_customers: {registered} of {users} registered in {elapsed:.1f} s")
    print(f"storm_replies: {sent} messages accepted, {floods} responses 429")
    print(f"storm_errors_logged: {errors.count} records")
    print(f"storm_started_rss: {started_rss:.1f} MB")
    print(f"storm_peak_rss: {peak:.1f} MB")


async def exchange(server: FakeServerProcess, command: str) -> str:
    """One line to the fake server and its one-line answer, off the event loop."""

    def talk() -> str:
        process = server.process
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(command + "\n")
        process.stdin.flush()
        return process.stdout.readline().strip()

    return await asyncio.to_thread(talk)


async def wait_for_customers(app: object, count: int, tracer: Tracer) -> int:
    from bot.app import Otklik

    assert isinstance(app, Otklik)
    deadline = time.monotonic() + 600
    registered = 0
    while time.monotonic() < deadline:
        async with app.db.read() as conn:
            row = await conn.fetch_one("SELECT COUNT(*) AS n FROM customers")
        registered = int(row["n"]) if row is not None else 0
        tracer.sample()
        if registered >= count:
            break
        await asyncio.sleep(0.2)
    return registered


async def wait_for_quiet(server: FakeServerProcess, tracer: Tracer) -> tuple[int, int]:
    last, quiet_since = -1, time.monotonic()
    deadline = time.monotonic() + 600
    sent = floods = 0
    while time.monotonic() < deadline:
        sent, floods = map(int, (await exchange(server, "sent")).split())
        tracer.sample()
        now = time.monotonic()
        if sent != last:
            last, quiet_since = sent, now
        elif now - quiet_since >= 3:
            break
        await asyncio.sleep(0.5)
    return sent, floods


async def seed_in_child(database: Path, surveys: int, delay: int) -> None:
    """Customers and their visits, registered in a process of their own: that work is
    the API's, and its memory must not count in the running bot's peak."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.memory_bench",
        "--seed",
        str(database),
        str(surveys),
        str(delay),
    )
    if await process.wait() != 0:
        raise RuntimeError("seeding failed")


async def seed(database: Path, surveys: int, delay: int) -> None:
    from bench.delivery_bench import register, seed_customers, settings_for
    from bot.app import Otklik
    from storage.db import migrate

    # Never started: the Bot API address is not called.
    app = Otklik(settings_for("http://127.0.0.1:9", database, 25, False, delay), polling=False)
    await app.db.connect()
    await migrate(app.db)
    await seed_customers(app, surveys)
    await register(app, FIRST_USER, surveys, "bench")
    await app.db.close()
    await app.bot.session.close()


async def burst(surveys: int, trace: bool) -> None:
    """`surveys` surveys due at the same moment at 25 per second: peak RSS."""
    from bench.delivery_bench import FAKE_SERVER, settings_for, wait_until_done
    from bot.app import Otklik

    server = FakeServerProcess(FAKE_SERVER, str(surveys), "telegram", TOKEN)
    tracer = Tracer(trace)
    with tempfile.TemporaryDirectory() as folder:
        database = Path(folder) / "bench.sqlite3"
        # Registered before the worker runs, so every survey is due at once.
        await seed_in_child(database, surveys, 0)
        app = Otklik(settings_for(server.url, database, 25, False, 0), polling=False)
        await app.start()
        started_rss = current_rss_mb()
        tracer.begin()
        sampler = asyncio.create_task(sample_every(tracer, 1.0))
        await wait_until_done(app, surveys)
        sampler.cancel()
        tracer.report("burst")
        peak = peak_rss_mb()
        await app.stop()
    server.stop()
    print(f"burst_surveys: {surveys} messages")
    print(f"burst_started_rss: {started_rss:.1f} MB")
    print(f"burst_peak_rss: {peak:.1f} MB")


async def sample_every(tracer: Tracer, seconds: float) -> None:
    while True:
        tracer.sample()
        await asyncio.sleep(seconds)


async def pending(count: int) -> None:
    """RSS of the running bot with `count` surveys due in 20 minutes: pending work
    stays in the database, so 0 and 100,000 should cost the same memory."""
    from bench.delivery_bench import FAKE_SERVER, settings_for
    from bot.app import Otklik

    server = FakeServerProcess(FAKE_SERVER, str(max(count, 1)), "telegram", TOKEN)
    with tempfile.TemporaryDirectory() as folder:
        database = Path(folder) / "bench.sqlite3"
        await seed_in_child(database, count, 1200)
        app = Otklik(settings_for(server.url, database, 25, False, 1200), polling=False)
        await app.start()
        # The worker, the scheduler and the time-driven rules run a few rounds.
        await asyncio.sleep(5)
        await app.maintenance()
        running = current_rss_mb()
        peak = peak_rss_mb()
        await app.stop()
    server.stop()
    print(f"pending_{count}_surveys: {count} surveys due in 20 minutes")
    print(f"pending_{count}_running_rss: {running:.1f} MB")
    print(f"pending_{count}_peak_rss: {peak:.1f} MB")


PARTS = ["imports", "storm", "burst", "idle", "pending"]


def run_part(part: str, quick: bool, trace: bool) -> None:
    if part == "imports":
        imports()
    elif part == "storm":
        asyncio.run(storm(300 if quick else 1_000, trace))
    elif part == "burst":
        asyncio.run(burst(500 if quick else 20_000, trace))
    elif part == "idle":
        asyncio.run(pending(0))
    else:
        asyncio.run(pending(5_000 if quick else 100_000))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="short sizes: about two minutes")
    parser.add_argument("--part", dest="parts", choices=PARTS, action="append")
    parser.add_argument(
        "--trace", action="store_true", help="tracemalloc: what Python holds at the peak"
    )
    parser.add_argument("--in-process", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--seed", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed:
        database, surveys, delay = args.seed
        asyncio.run(seed(Path(database), int(surveys), int(delay)))
        return
    parts = args.parts or PARTS
    if args.in_process:
        run_part(parts[0], args.quick, args.trace)
        return
    floor = aiogram_floor_mb()
    print(f"aiogram_import_floor_rss: {floor:.1f} MB", flush=True)
    # Each part in its own process, so that its RSS belongs to that part alone.
    for part in parts:
        command = [sys.executable, "-m", "bench.memory_bench", "--in-process", "--part", part]
        command += ["--quick"] if args.quick else []
        command += ["--trace"] if args.trace else []
        out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        print(out, end="", flush=True)
        for line in out.splitlines():
            name, _, value = line.partition(": ")
            if name.endswith(("_peak_rss", "_running_rss")):
                mb = float(value.split()[0])
                print(f"{name}_over_floor: {mb - floor:+.1f} MB", flush=True)
    print(f"aiogram_import_floor_rss_after: {aiogram_floor_mb():.1f} MB (machine drift check)")


if __name__ == "__main__":
    main()
