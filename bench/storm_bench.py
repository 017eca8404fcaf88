"""Storm benchmark: N customers press Start within the same moment (a QR code at a busy
counter, a campaign, a morning rush).

    python -m bench.storm_bench                  # N = 300, 1,000 and 5,000 (~5 minutes)
    python -m bench.storm_bench --quick          # N = 300 (about 20 s)
    python -m bench.storm_bench --customers 1000 # one size (repeatable)

The real bot (long polling, handlers, the reply pacer, SQLite, aiogram client) runs at
SEND_RATE_PER_SECOND=25 against the fake Bot API server in another process with
Telegram's limits: 30 messages per second overall, one per second per private chat,
20 per minute per group, 429 with retry_after above them. The server queues N /start
updates at once and watches what reaches it. A customer counts as answered when the
first message reaches them (target: within N / SEND_RATE_PER_SECOND + 30 s); they are
asked for the phone when the offer to share it arrives (one message with the welcome
since 2026-12-07; before, a second one). The last reply is the last message to any
of them (all messages / 25 s at best).

Printed: customers answered, time to the last answer and to the last reply, the
429s the bot caused (in all, and after the first second), the 429s it saw and the
replies it gave up, the log lines at WARNING and above, and the bot's peak RSS beside
a process that only imports aiogram, measured in the same run. Each size runs in a
process of its own, so that its RSS is its own. Asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from pydantic import SecretStr

from bench.delivery_bench import aiogram_floor_mb, rss_mb
from bench.fake_server import FakeServerProcess
from bot.app import Otklik
from bot.config import Settings

TOKEN = "123456:BENCH-TOKEN"
FIRST_USER = 10_000
RATE = 25.0
PHONE = "share your phone number"

FAKE_SERVER = """
import asyncio, json, sys, time
from tests.support.fake_telegram import FakeTelegram

async def main():
    count, first, deadline = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[4])
    fake = FakeTelegram(sys.argv[3])
    users = range(first, first + count)
    for user_id in users:
        fake.user(user_id, "Ann", "en")
    fake.set_rate_limits(global_per_second=30, per_chat_per_second=1, per_group_per_minute=20)
    await fake.start()
    print(fake.url, flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.readline)  # the bot is polling: go
    start = time.monotonic()
    for user_id in users:
        await fake.send_text(user_id, "/start")
    phone = PHONE
    while time.monotonic() - start < deadline:
        asked = sum(1 for m in fake.sent if phone in m.text)
        if asked >= count:
            break
        await asyncio.sleep(0.25)
    first_answer, last_reply = {}, {}
    floods = []
    for request in fake.requests:
        if request.method != "sendMessage":
            continue
        at = request.time - start
        if request.error_code == 429:
            floods.append(at)
        elif request.ok:
            chat = int(request.params["chat_id"])
            first_answer.setdefault(chat, at)
            last_reply[chat] = at
    asked = {m.chat_id for m in fake.sent if phone in m.text}
    print(json.dumps({
        "answered": len(first_answer),
        "asked_for_phone": len(asked),
        "messages": len(fake.sent),
        "last_answer": max(first_answer.values(), default=0.0),
        "last_reply": max(last_reply.values(), default=0.0),
        "floods": len(floods),
        "floods_after_first_second": sum(1 for at in floods if at > 1.0),
    }), flush=True)
    await loop.run_in_executor(None, sys.stdin.read)
    print(json.dumps([fake.too_many_requests, time.process_time()]), flush=True)
    await fake.close()

asyncio.run(main())
""".replace("PHONE", repr(PHONE))


class CountingHandler(logging.Handler):
    """Counts the bot's log records by level (the issue's '1,920 error lines')."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.levels: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        self.levels[record.levelname] += 1


def settings_for(url: str, database: Path) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        bot_token=SecretStr(TOKEN),
        api_token=SecretStr("bench-api-token-0123456789"),
        manager_chat_id=-1001,
        telegram_api_url=url,
        database_url=f"sqlite:///{database}",
        api_port=0,
        send_rate_per_second=RATE,
        digest_at="",
        log_level="WARNING",
    )


async def storm(customers: int) -> None:
    # Long enough for two messages each at the configured rate, and a minute more.
    deadline = 2 * customers / RATE + 60
    server = FakeServerProcess(FAKE_SERVER, str(customers), str(FIRST_USER), TOKEN, str(deadline))
    counting = CountingHandler()
    root = logging.getLogger()
    root.addHandler(counting)
    root.setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory() as folder:
        app = Otklik(settings_for(server.url, Path(folder) / "storm.sqlite3"))
        await app.start()
        assert server.process.stdin is not None and server.process.stdout is not None
        server.process.stdin.write("go\n")
        server.process.stdin.flush()
        line = await asyncio.get_running_loop().run_in_executor(
            None, server.process.stdout.readline
        )
        result = json.loads(line)
        peak = rss_mb()
        seen = app.limiter.floods
        # getattr: the same file also measures a bot from before the reply pacer.
        replies = getattr(app.services, "replies", None)
        given_up = getattr(replies, "given_up", 0)
        await app.stop()
    root.removeHandler(counting)
    total_429, _ = server.stop()
    target = customers / RATE + 30
    name = f"storm_{customers}"
    print(f"{name}_customers: {customers} customers pressed Start at once")
    print(f"{name}_answered: {result['answered']} customers ({customers} pressed)")
    print(f"{name}_asked_for_phone: {result['asked_for_phone']} customers")
    print(f"{name}_time_to_last_answer: {result['last_answer']:.1f} s")
    print(f"{name}_target_last_answer: {target:.1f} s (N / {RATE:.0f} per second + 30 s)")
    print(f"{name}_messages: {result['messages']} messages")
    print(f"{name}_time_to_last_reply: {result['last_reply']:.1f} s")
    ideal = result["messages"] / RATE
    print(f"{name}_ideal_last_reply: {ideal:.1f} s (messages / {RATE:.0f} per second)")
    print(f"{name}_429_caused: {total_429} responses")
    print(f"{name}_429_caused_after_first_second: {result['floods_after_first_second']} responses")
    print(f"{name}_429_seen_by_bot: {seen} responses")
    print(f"{name}_replies_given_up: {given_up} replies")
    print(f"{name}_log_lines_warning_or_above: {sum(counting.levels.values())} lines")
    print(f"{name}_peak_rss: {peak:.1f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="N = 300 only (about 20 s)")
    parser.add_argument(
        "--customers", type=int, action="append", help="one size (repeatable); default: all"
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sizes = args.customers or ([300] if args.quick else [300, 1_000, 5_000])
    if args.child:
        asyncio.run(storm(sizes[0]))
        return
    floor = aiogram_floor_mb()
    print(f"aiogram_import_floor_rss: {floor:.1f} MB", flush=True)
    for size in sizes:
        command = [sys.executable, "-m", "bench.storm_bench", "--child", "--customers", str(size)]
        started = time.monotonic()
        out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        print(out, end="", flush=True)
        for line in out.splitlines():
            if line.startswith(f"storm_{size}_peak_rss:"):
                peak = float(line.split()[1])
                print(f"storm_{size}_rss_ratio: {peak / floor:.2f} x aiogram floor")
        print(f"storm_{size}_run_time: {time.monotonic() - started:.0f} s", flush=True)


if __name__ == "__main__":
    main()
