"""`otklik demo`: the managers' dashboard on a demo coffee chain, in one command, with no
bot token and no settings: builds (or reuses) the demo database, serves the dashboard on
http://127.0.0.1:8080/app/ and prints the addresses that log a visitor in, until
Ctrl+C or SIGTERM (exit 0). It never talks to Telegram."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:  # the bot itself is imported when the command runs, not by `otklik`
    from bot.demo.serve import DemoDatabase, DemoServer

DEFAULT_FILE = Path("otklik-demo.sqlite3")
DEFAULT_DAYS = 90


def _bounded(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"expected {low} to {high}")
        return value

    return parse


def add_parser(commands: Any) -> None:
    """Add the `demo` command."""
    demo = commands.add_parser(
        "demo",
        help="the dashboard on a demo coffee chain (6 branches, 90 days of feedback):"
        " no bot token or settings needed",
        description=__doc__,
    )
    demo.add_argument(
        "--database",
        type=Path,
        default=DEFAULT_FILE,
        help=f"the demo's SQLite file (default: {DEFAULT_FILE} here); reused when it is"
        " a finished demo, built when missing",
    )
    demo.add_argument("--fresh", action="store_true", help="build the demo database anew")
    demo.add_argument(
        "--days",
        type=_bounded(1, 365),
        default=DEFAULT_DAYS,
        help=f"days of feedback when building, 1 to 365 (default {DEFAULT_DAYS})",
    )
    demo.add_argument("--host", default="127.0.0.1", help="listen on (default 127.0.0.1)")
    demo.add_argument(
        "--port", type=_bounded(0, 65535), default=8080, help="port (default 8080; 0: any free)"
    )


def demo_cli(args: argparse.Namespace) -> int:
    """`otklik demo` from the command line: until Ctrl+C or SIGTERM."""
    try:
        return asyncio.run(run_demo(args))
    except KeyboardInterrupt:  # Ctrl+C while building: its leftovers go next time
        print("otklik demo: stopped while building", file=sys.stderr)
        return 130


async def run_demo(
    args: argparse.Namespace,
    *,
    out: TextIO | None = None,
    stop: asyncio.Event | None = None,
    started: Callable[[DemoServer], None] | None = None,
) -> int:
    """Build or reuse the database, serve, print the addresses, and wait for `stop` (by
    default set by SIGINT or SIGTERM). 0 after a stop, 2 for a file that is not a demo,
    1 when the port cannot be listened on. `started` sees the running server (tests)."""
    from bot.demo.serve import NotADemo, prepare_database

    out = out or sys.stdout

    def say(line: str) -> None:
        print(line, file=out, flush=True)

    def building() -> None:
        say(
            f"Building the demo database {args.database} ({args.days} days of feedback;"
            f" about {max(2, round(args.days * 0.3))} s) ..."
        )

    try:
        database = await prepare_database(
            args.database, fresh=args.fresh, days=args.days, on_build=building
        )
    except NotADemo as error:
        print(f"otklik demo: {error}", file=sys.stderr)
        return 2
    say(_describe(database))
    signals: tuple[signal.Signals, ...] = ()
    loop = asyncio.get_running_loop()
    if stop is None:
        # From here on Ctrl+C and SIGTERM stop the demo cleanly (before it listens:
        # whoever reached it can stop it).
        stop, signals = asyncio.Event(), (signal.SIGINT, signal.SIGTERM)
        for signum in signals:
            loop.add_signal_handler(signum, stop.set)
    try:
        return await _serve(args, database, stop, say, started)
    finally:
        for signum in signals:
            loop.remove_signal_handler(signum)


async def _serve(
    args: argparse.Namespace,
    database: DemoDatabase,
    stop: asyncio.Event,
    say: Callable[[str], None],
    started: Callable[[DemoServer], None] | None,
) -> int:
    from bot.demo.serve import LOGINS, DemoServer

    server = DemoServer(database, host=args.host, port=args.port)
    try:
        await server.start()
    except OSError as error:
        print(f"otklik demo: cannot listen on {args.host}:{args.port}: {error}", file=sys.stderr)
        return 1
    say(
        f"The dashboard: {server.url()}. Open a link to be logged in (again and again;"
        " add ?lang=ru or ?lang=uk for Russian or Ukrainian):"
    )
    width = max(len(server.url(login)) for login in LOGINS)
    for login in LOGINS:
        say(f"  {server.url(login):<{width}}  {login.who}")
    say("Ctrl+C stops.")
    if started is not None:
        started(server)
    try:
        await stop.wait()
    finally:
        with contextlib.suppress(Exception):
            await server.stop()
    say("otklik demo: stopped")
    return 0


def _describe(database: DemoDatabase) -> str:
    from bot.demo.chain import BRANCHES, COMPANY

    ends = f"{database.ends_at:%Y-%m-%d %H:%M} UTC"
    if database.summary is None:
        return (
            f"Using the demo database {database.path} (its story ends {ends}; --fresh"
            " builds it anew)."
        )
    summary = database.summary
    return (
        f"Built {database.path} in {database.seconds or 0:.1f} s: {COMPANY},"
        f" {len(BRANCHES)} branches, {summary.visits:,} visits, {summary.surveys:,} surveys,"
        f" {summary.answers:,} answers, {summary.opened:,} cases, ending {ends}."
    )
