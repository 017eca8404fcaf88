"""`otklik run`: the bot until SIGINT or SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys

from bot.config import Settings


async def run(settings: Settings) -> int:
    """0 after a stop by signal (also while still waiting for Telegram at start-up),
    2 for a setting that is refused (a wrong BOT_TOKEN), 1 for another start-up fault."""
    from bot.app import Otklik, StartupError

    try:
        app = Otklik(settings)
    except StartupError as error:
        print(f"otklik: {error}", file=sys.stderr)
        return error.exit_code
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    starting = asyncio.create_task(app.start(), name="start-up")
    stopped = asyncio.create_task(stop.wait(), name="signals")
    await asyncio.wait({starting, stopped}, return_when=asyncio.FIRST_COMPLETED)
    if not starting.done():
        # Stopped while start-up still waits (for Telegram): what started is stopped.
        starting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await starting
        await app.stop()
        return 0
    try:
        starting.result()
    except StartupError as error:
        stopped.cancel()
        print(f"otklik: {error}", file=sys.stderr)
        return error.exit_code
    try:
        await stopped
    finally:
        await app.stop()
    return 0
