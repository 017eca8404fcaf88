"""`python -m tests.support.fake_telegram`: the fake server on its own, for manual runs."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging

from tests.support.fake_telegram.server import FakeTelegram


async def _serve(args: argparse.Namespace) -> None:
    # A Telegram token starts with the bot's id.
    prefix = args.token.split(":", 1)[0]
    bot_id = int(prefix) if prefix.isdigit() else 123456
    fake = FakeTelegram(args.token, bot_username=args.bot_username, bot_id=bot_id)
    for user_id in args.user:
        fake.user(user_id)
    for chat_id in args.group:
        fake.group(chat_id)
    await fake.start(port=args.port, host=args.host)
    print(f"fake Telegram Bot API at {fake.url} (token {fake.token})", flush=True)
    print(
        f"  drive it: curl -X POST '{fake.url}/_fake/send_text?user_id=1&text=/start'; "
        f"see: {fake.url}/_fake/sent",
        flush=True,
    )
    try:
        await asyncio.Event().wait()
    finally:
        await fake.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Fake Telegram Bot API server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", default="123456:TEST-TOKEN")
    parser.add_argument("--bot-username", default="otklik_test_bot")
    parser.add_argument("--user", type=int, action="append", default=[], help="register a user")
    parser.add_argument("--group", type=int, action="append", default=[], help="register a group")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))


if __name__ == "__main__":
    main()
