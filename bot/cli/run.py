"""`otklik run`: the bot until SIGINT or SIGTERM."""

from __future__ import annotations

import asyncio
import signal
import sys

from bot.config import Settings


async def run(settings: Settings) -> int:
    from bot.app import Otklik, StartupError

    app = Otklik(settings)
    try:
        await app.start()
    except StartupError as error:
        print(f"otklik: {error}", file=sys.stderr)
        return 1
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        await app.stop()
    return 0
