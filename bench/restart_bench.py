"""A crash mid-burst on SQLite, and the restart: how long until the last survey, and
what was lost or sent twice.

N surveys fall due at one moment in a fresh SQLite file. A bot process (the real bot:
delivery worker, scheduler, HTTP API) sends them at SEND_RATE_PER_SECOND=25 to the
fake Bot API server, which runs in another process with Telegram's limits (30/s, 1/s
per chat) and answers each message `--latency` seconds late. Once half the surveys
are sent, the bot process is killed with SIGKILL (kill -9) and a new one is started on
the same file, with a new INSTANCE_ID as a real restart has. The baseline is the same
burst without a kill, in the same run.

    python -m bench.restart_bench              # 500 surveys, killed after 250
    python -m bench.restart_bench --quick      # 200 surveys, killed after 100

Figures: seconds from the kill to the restarted process's first and last survey (and
what the remaining surveys take at the rate alone), the whole burst against the
baseline, customers who got a survey twice or never, rows ended outcome unknown and
how many of them had arrived, beside the worker's bound (one claim batch).

Prints `name: value unit` lines; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO, Any

from pydantic import SecretStr

from bench.fake_server import FakeServerProcess
from bench.instances_bench import FIRST_USER, TOKEN, prepare
from bot.app import Otklik
from bot.config import Settings

RATE = 25.0  # the default SEND_RATE_PER_SECOND
FINAL = "('sent', 'failed', 'expired')"

# The fake Bot API server with Telegram's limits, answering `latency` seconds late. On
# stdin's end it prints, per chat, when each accepted sendMessage arrived (epoch s).
FAKE_SERVER = """
import asyncio, collections, json, sys, time
from tests.support.fake_telegram import FakeTelegram

async def main():
    users, latency = int(sys.argv[1]), float(sys.argv[3])
    fake = FakeTelegram(sys.argv[2], clock=time.time)
    for user_id in range({first}, {first} + users):
        fake.user(user_id)
    fake.group(-1001)
    fake.set_rate_limits(global_per_second=30, per_chat_per_second=1)
    fake.delay_answers("sendMessage", latency)
    await fake.start()
    print(fake.url, flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    arrivals = collections.defaultdict(list)
    for r in fake.calls("sendMessage"):
        if r.ok and int(r.chat_id) > 0:
            arrivals[int(r.chat_id)].append(r.time)
    print(json.dumps({"arrivals": arrivals, "too_many_requests": fake.too_many_requests}))
    await fake.close()

asyncio.run(main())
""".replace("{first}", str(FIRST_USER))


def settings_for(fake_url: str, database_url: str) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        bot_token=SecretStr(TOKEN),
        api_token=SecretStr("bench-api-token-0123456789"),
        manager_chat_id=-1001,
        telegram_api_url=fake_url,
        database_url=database_url,
        api_port=0,
        survey_delay_seconds=0,
        survey_cooldown_days=0,
        send_rate_per_second=RATE,
        digest_at="",
        log_level="ERROR",
    )


async def serve(fake_url: str, database_url: str) -> None:
    """One bot process: say `started` once running; stop gracefully when stdin ends
    (the baseline), or die by SIGKILL (the crash)."""
    app = Otklik(settings_for(fake_url, database_url), polling=False)
    await app.start()
    print(f"started {app.worker.sending_bound}", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await app.stop()


def start_bot(fake_url: str, database_url: str) -> tuple[subprocess.Popen[str], int]:
    """A bot process, once running; and its worker's bound."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.restart_bench", "--serve", fake_url, database_url],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline().split()
    assert line and line[0] == "started", line
    return process, int(line[1])


def stop_bot(process: subprocess.Popen[str]) -> None:
    stdin: IO[str] | None = process.stdin
    if stdin is not None and not stdin.closed:
        stdin.close()
    process.wait(timeout=60)


def counts(path: Path) -> dict[str, int]:
    with sqlite3.connect(path, timeout=30) as conn:
        rows = conn.execute("SELECT status, COUNT(*) FROM outbox GROUP BY status").fetchall()
    return {str(status): int(n) for status, n in rows}


def unknown_chats(path: Path) -> set[int]:
    with sqlite3.connect(path, timeout=30) as conn:
        rows = conn.execute(
            "SELECT chat_id FROM outbox WHERE last_error LIKE 'outcome unknown%'"
        ).fetchall()
    return {int(chat_id) for (chat_id,) in rows}


def until_final(path: Path, total: int) -> None:
    while sum(n for status, n in counts(path).items() if status in FINAL) < total:
        time.sleep(0.05)


def burst(surveys: int, latency: float, kill_after: int | None) -> dict[str, Any]:
    """One burst in a fresh file; with `kill_after`, SIGKILL once that many were sent
    and start a new process at once. Returns what happened."""
    server = FakeServerProcess(FAKE_SERVER, str(surveys), TOKEN, str(latency))
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "otklik.sqlite3"
        url = f"sqlite:///{path}"
        asyncio.run(prepare(server.url, url, surveys))
        bot, bound = start_bot(server.url, url)
        result: dict[str, Any] = {"bound": bound, "started": time.time()}
        if kill_after is not None:
            while counts(path).get("sent", 0) < kill_after:
                time.sleep(0.005)
            bot.kill()  # SIGKILL: no graceful stop, nothing handed over
            result["killed"] = time.time()
            bot.wait()
            left = counts(path)
            result["sending_at_kill"] = left.get("sending", 0)
            result["claimed_at_kill"] = left.get("claimed", 0)
            result["sent_at_kill"] = left.get("sent", 0)
            bot, _ = start_bot(server.url, url)
        until_final(path, surveys)
        stop_bot(bot)
        result["unknown_chats"] = unknown_chats(path)
    received = server.stop()
    result["arrivals"] = {int(chat): times for chat, times in received["arrivals"].items()}
    result["too_many_requests"] = received["too_many_requests"]
    return result


def report(surveys: int, baseline: dict[str, Any], crash: dict[str, Any]) -> None:
    arrivals: dict[int, list[float]] = crash["arrivals"]
    every = sorted(t for times in arrivals.values() for t in times)
    base_every = sorted(t for times in baseline["arrivals"].values() for t in times)
    base_elapsed = base_every[-1] - baseline["started"]
    elapsed = every[-1] - crash["started"]
    killed = crash["killed"]
    after = [t for t in every if t > killed]
    remaining = surveys - crash["sent_at_kill"]
    unknown = crash["unknown_chats"]
    doubled = sum(1 for times in arrivals.values() if len(times) > 1)
    without = sum(1 for user in range(FIRST_USER, FIRST_USER + surveys) if user not in arrivals)
    print(f"restart_surveys: {surveys} messages")
    print(f"restart_configured_rate: {RATE:.0f} per second")
    print(f"restart_sending_bound: {crash['bound']} rows (one claim batch)")
    print(f"restart_baseline_elapsed: {base_elapsed:.2f} s (running bot to last survey, no kill)")
    print(f"restart_crash_elapsed: {elapsed:.2f} s (the same, killed and restarted)")
    print(f"restart_crash_ratio: {elapsed / base_elapsed:.2f} x (crash run / baseline)")
    print(f"restart_sent_at_kill: {crash['sent_at_kill']} messages")
    print(f"restart_kill_to_first_survey: {after[0] - killed:.2f} s (a new process starting)")
    print(f"restart_kill_to_last_survey: {after[-1] - killed:.2f} s")
    print(f"restart_remaining_at_rate: {remaining / RATE:.2f} s ({remaining} surveys at the rate)")
    print(f"restart_claimed_at_kill: {crash['claimed_at_kill']} rows (sent by the restart)")
    print(f"restart_sending_at_kill: {crash['sending_at_kill']} rows")
    print(f"restart_outcome_unknown: {len(unknown)} rows")
    print(
        f"restart_outcome_unknown_arrived: {sum(1 for c in unknown if c in arrivals)} rows"
        " (the customer has it)"
    )
    print(f"restart_without_survey: {without} customers (each has an outcome-unknown row)")
    print(f"restart_doubled: {doubled} customers (two surveys)")
    print(f"restart_429_responses: {crash['too_many_requests']} responses")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="200 surveys instead of 500")
    parser.add_argument("--surveys", type=int, default=None)
    parser.add_argument(
        "--latency", type=float, default=0.1, help="seconds the fake answers late (0.1)"
    )
    parser.add_argument("--serve", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(*args.serve))
        return
    surveys = args.surveys or (200 if args.quick else 500)
    print(f"restart_latency: {args.latency:.2f} s (the fake's answers)")
    baseline = burst(surveys, args.latency, None)
    crash = burst(surveys, args.latency, surveys // 2)
    report(surveys, baseline, crash)


if __name__ == "__main__":
    main()
