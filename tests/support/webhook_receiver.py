"""A webhook receiver for tests: a real aiohttp server on 127.0.0.1 that records every
request and checks its signature with an implementation of Standard Webhooks other
than otklik's (the `standardwebhooks` package), and that answers as a test scripts it:
a status code, or hanging until released (a receiver that times out)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from standardwebhooks import Webhook

HANG = -1


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    answered: int

    @property
    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.body)
        return data

    @property
    def type(self) -> str:
        return str(self.payload["type"])

    @property
    def message_id(self) -> str:
        return self.headers["webhook-id"]

    @property
    def timestamp(self) -> int:
        return int(self.headers["webhook-timestamp"])


def independently_signed(secret: str, received: Received) -> bool:
    """Whether one of the request's v1 signatures is the one the standardwebhooks
    package computes for its id, timestamp and body with `secret`."""
    expected = Webhook(secret).sign(
        received.message_id,
        datetime.fromtimestamp(received.timestamp, tz=UTC),
        received.body.decode(),
    )
    given = received.headers.get("webhook-signature", "").split(" ")
    return expected in given


@dataclass
class Receiver:
    """`script`: what the next requests get, in order (a status, or HANG); then 200."""

    script: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    port: int = 0
    _runner: web.AppRunner | None = None
    _release: asyncio.Event = field(default_factory=asyncio.Event)
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    async def start(self) -> Receiver:
        app = web.Application()
        app.router.add_post("/hooks", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        return self

    async def close(self) -> None:
        self._release.set()
        if self._runner is not None:
            await self._runner.cleanup()

    def release(self) -> None:
        """Let hanging requests answer (200)."""
        self._release.set()

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        answer = self.script.pop(0) if self.script else 200
        self.received.append(Received(dict(request.headers.items()), body, answer))
        self._arrived.set()
        if answer == HANG:
            await self._release.wait()
            answer = 200
        return web.Response(status=answer, text="ok" if answer < 300 else "no")

    async def wait_for(self, count: int, timeout: float = 5.0) -> list[Received]:  # noqa: ASYNC109
        """Until `count` requests have arrived; all of them."""
        async with asyncio.timeout(timeout):
            while len(self.received) < count:
                self._arrived.clear()
                await self._arrived.wait()
        return self.received

    def types(self) -> list[str]:
        return [r.type for r in self.received]
