"""Running the real bot against the fake Bot API server: the e2e tests' harness.

`BotHarness` starts FakeTelegram on 127.0.0.1 and the whole `Otklik` process (real
aiogram polling or webhook, delivery worker, scheduler, HTTP API, SQLite file) pointed
at it, with a FakeClock so that time-driven rules are tested without waiting.
"""

from __future__ import annotations

import asyncio
import contextvars
import itertools
import json
import socket
import weakref
from collections import Counter
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aiohttp
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from bot.app import Otklik
from bot.config import Settings
from bot.core.clock import FakeClock, to_ms
from storage.models import OutboxStatus
from tests.support.fake_telegram import FakeTelegram, SentMessage
from tests.support.settings import API_TOKEN, MANAGER_CHAT_ID, make_settings


@dataclass
class BotHarness:
    fake: FakeTelegram
    app: Otklik
    clock: FakeClock
    settings: Settings
    http: aiohttp.ClientSession

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.app.api_port}"

    async def post(
        self,
        path: str,
        body: Any = None,
        *,
        token: str | None = API_TOKEN,
        raw: bytes | None = None,
        content_type: str = "application/json",
    ) -> tuple[int, dict[str, Any]]:
        return await self.call("POST", path, body, token=token, raw=raw, content_type=content_type)

    async def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        token: str | None = API_TOKEN,
        raw: bytes | None = None,
        content_type: str = "application/json",
    ) -> tuple[int, dict[str, Any]]:
        """Any API request; the answer's status and JSON body."""
        headers = {"Content-Type": content_type}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        data = (
            raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        )
        async with self.http.request(
            method, self.api_url + path, data=data, headers=headers
        ) as response:
            return response.status, await response.json()

    async def post_visit(self, telegram_id: int, visit_id: str, **fields: Any) -> dict[str, Any]:
        status, body = await self.post(
            "/api/v1/visits",
            {"visit_id": visit_id, "customer": {"telegram_id": telegram_id}, **fields},
        )
        assert status in (200, 201), body
        return body

    async def start_customer(self, user_id: int, name: str = "Ann", language: str = "en") -> None:
        """The customer opens the bot and presses Start."""
        self.fake.user(user_id, name, language)
        since = len(self.fake.sent)
        await self.fake.send_text(user_id, "/start")
        await self.fake.wait_for_message(user_id, since=since)
        # The last reply to Start offers to share the phone number.
        await self.fake.wait_for(
            lambda m: m.chat_id == user_id and m.reply_markup is not None, since=since
        )

    async def survey_for(self, user_id: int, since: int = 0) -> SentMessage:
        """Wait for the NPS question, and for the bot to have recorded sending it."""
        message = await self.fake.wait_for(
            lambda m: m.chat_id == user_id and len(m.callback_data) == 11, since=since
        )
        await self.app.worker.drain()
        return message

    async def settled(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Wait until the outbox holds nothing due or in flight and every outcome is
        written. (worker.drain() alone misses rows of a window still waiting for their
        send slot.)"""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            await self.app.worker.drain()
            async with self.app.db.read() as conn:
                row = await conn.fetch_one(
                    "SELECT COUNT(*) AS n FROM outbox WHERE status IN (:claimed, :sending)"
                    " OR (status = :pending AND due_at <= :now)",
                    {
                        "claimed": OutboxStatus.CLAIMED,
                        "sending": OutboxStatus.SENDING,
                        "pending": OutboxStatus.PENDING,
                        "now": to_ms(self.clock.now()),
                    },
                )
            if row is not None and int(row["n"]) == 0:
                return
            if loop.time() > deadline:
                raise AssertionError(f"the outbox did not settle within {timeout}s")
            await asyncio.sleep(0.02)

    async def press(self, user_id: int, message: SentMessage, label: str) -> None:
        button = next(b for b in message.buttons if b.get("text") == label)
        await self.fake.press(user_id, message.message_id, button["callback_data"])


WEBHOOK_PATH = "/telegram/webhook"
# A group's messages a minute when the fake enforces no limits: never reached by a test.
NO_GROUP_LIMIT = 1_000_000

# Each fake starts its update ids where the last one stopped, as Telegram's go on when
# a bot restarts: the database remembers which ids were handled.
_FIRST_UPDATE_IDS = itertools.count(1, 100_000)


def free_port() -> int:
    """A TCP port free right now on 127.0.0.1 (the webhook URL must name it before bind)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@asynccontextmanager
async def running_bot(
    tmp_path: Path,
    clock: FakeClock | None = None,
    *,
    users: tuple[int, ...] = (),
    webhook: bool = False,
    flood_limits: bool = False,
    **overrides: Any,
) -> AsyncIterator[BotHarness]:
    """`users` exist in Telegram before the bot starts (a restart delivers at once).

    With `webhook` the bot registers WEBHOOK_URL on its own API port and the fake
    pushes every update there instead of answering getUpdates.

    With `flood_limits` the fake enforces Telegram's limits (30 messages a second, one
    a second per private chat, 20 a minute per group: 429 above them) and the bot paces
    itself as in production. Without (the default) the fake enforces none, and the bot
    is told so: it keeps its global rate but not the per-chat ones, so that a test
    walking one customer or one group through many steps does not wait out Telegram's
    second per message (or minute per 20) at each."""
    fake = FakeTelegram(first_update_id=next(_FIRST_UPDATE_IDS))
    if flood_limits:
        fake.set_rate_limits()
    await fake.start()
    fake.group(MANAGER_CHAT_ID)
    for user_id in users:
        fake.user(user_id, "Ann", "en")
    clock = clock or FakeClock()
    if webhook and "webhook_url" not in overrides:
        port = free_port()
        overrides.update(api_port=port, webhook_url=f"http://127.0.0.1:{port}{WEBHOOK_PATH}")
    settings = make_settings(tmp_path, telegram_api_url=fake.url, **overrides)
    app = Otklik(
        settings,
        clock=clock,
        session=fake.make_bot().session,
        delivery_poll_seconds=0.05,
    )
    if not flood_limits:
        app.limiter.chat_interval = 0.0
        app.limiter.group_per_minute = NO_GROUP_LIMIT
    try:
        await app.start()
        async with aiohttp.ClientSession() as http:
            yield BotHarness(fake, app, clock, settings, http)
    finally:
        await app.stop()
        await fake.close()


# --- several instances on one database ---------------------------------------------------

# Which instance a task belongs to: set in the context each instance starts in, inherited
# by every task, timer and server connection it creates.
_INSTANCE: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "otklik_instance", default=None
)


class CountingSession(AiohttpSession):
    """aiogram's own HTTP session, counting per Bot API method the calls answered 200,
    whether made through aiogram's methods or straight on its aiohttp client (the
    sender's lean sendMessage path): it proves which instance did the work."""

    def __init__(self, api: TelegramAPIServer) -> None:
        super().__init__(api=api)
        self.accepted: Counter[str] = Counter()
        self._trace = aiohttp.TraceConfig()
        self._trace.on_request_end.append(self._count)

    async def _count(
        self,
        session: aiohttp.ClientSession,
        context: SimpleNamespace,
        params: aiohttp.TraceRequestEndParams,
    ) -> None:
        if params.response.status == 200:
            self.accepted[params.url.path.rsplit("/", 1)[-1]] += 1

    async def create_session(self) -> aiohttp.ClientSession:
        # AiohttpSession.create_session, with the counting trace on the client.
        if self._should_reset_connector:
            await self.close()
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=self._connector_type(**self._connector_init),
                trace_configs=[self._trace],
            )
            self._should_reset_connector = False
        return self._session

    async def close(self) -> None:
        # Without AiohttpSession's 250 ms grace sleep, as FakeTelegram.make_bot's session.
        if self._session is not None and not self._session.closed:
            await self._session.close()


class _TaskOwners:
    """A task factory that remembers the instance each task was started by, so that one
    instance can be killed alone while the others in the same event loop go on."""

    def __init__(self) -> None:
        self.tasks: dict[str, weakref.WeakSet[asyncio.Task[Any]]] = {}

    def __call__(
        self,
        loop: asyncio.AbstractEventLoop,
        coro: Coroutine[Any, Any, Any],
        context: contextvars.Context | None = None,
    ) -> asyncio.Task[Any]:
        task: asyncio.Task[Any] = asyncio.Task(coro, loop=loop, context=context)
        owner = context.get(_INSTANCE) if context is not None else _INSTANCE.get()
        if owner is not None:
            self.tasks.setdefault(owner, weakref.WeakSet()).add(task)
        return task

    def alive(self, owner: str) -> list[asyncio.Task[Any]]:
        current = asyncio.current_task()
        return [t for t in self.tasks.get(owner, ()) if not t.done() and t is not current]


@dataclass
class Member:
    """One instance of a cluster; `harness` posts to its own API."""

    harness: BotHarness
    session: CountingSession
    killed: bool = False

    @property
    def app(self) -> Otklik:
        return self.harness.app

    @property
    def name(self) -> str:
        return self.app.instance_id


@dataclass
class Cluster:
    fake: FakeTelegram
    clock: FakeClock
    members: list[Member]
    _owners: _TaskOwners
    _http: aiohttp.ClientSession

    async def start(self, settings: Settings) -> Member:
        """Start an instance with `settings`, in a context of its own, so that every
        task it starts is known as its own and kill() can find them."""
        session = CountingSession(self.fake.api_server)
        app = Otklik(settings, clock=self.clock, session=session, delivery_poll_seconds=0.05)
        member = Member(BotHarness(self.fake, app, self.clock, settings, self._http), session)
        self.members.append(member)
        context = contextvars.copy_context()
        context.run(_INSTANCE.set, member.name)
        await asyncio.create_task(app.start(), context=context)
        return member

    async def restart(self, member: Member, **overrides: Any) -> Member:
        """Start a killed instance again, as its supervisor would: a new process on the
        same database with the same settings (INSTANCE_ID too, unless overridden)."""
        assert member.killed, "restart() follows kill()"
        return await self.start(member.harness.settings.model_copy(update=overrides))

    async def kill(self, member: Member) -> None:
        """End an instance as a crash would: no graceful stop, so its claims on outbox
        rows and its maintenance lease stay in the database until they time out.

        Every task it started is cancelled where it stands (a send in flight may or
        may not have reached the fake; outcomes not yet written are lost), then its
        sockets close: API server, Bot API session, Redis, database pool. A database
        transaction cut short rolls back, as the server does when a process dies."""
        app = member.app
        member.killed = True
        # Private parts of Otklik: stop() would hand the work over, which a crash does not.
        app._scheduler.shutdown(wait=False)
        while tasks := self._owners.alive(member.name):
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        await app._close_resources()


@asynccontextmanager
async def running_instances(
    tmp_path: Path,
    clock: FakeClock,
    *,
    database_url: str,
    count: int = 2,
    users: tuple[int, ...] | range = (),
    **overrides: Any,
) -> AsyncIterator[Cluster]:
    """`count` bot instances on one database (and Redis, when `redis_url` is given),
    against one FakeTelegram, in webhook mode, each on its own API port and with its
    own INSTANCE_ID (bot-1, bot-2, ...); INSTANCE_COUNT is `count`.

    They start one after another, so bot-1 takes the maintenance lease and the last
    one's setWebhook wins: the fake pushes every update to it, as Telegram does to
    the one URL behind a load balancer. Survivors stop gracefully at the end."""
    fake = FakeTelegram(first_update_id=next(_FIRST_UPDATE_IDS))
    await fake.start()
    fake.group(MANAGER_CHAT_ID)
    for user_id in users:
        fake.user(user_id, "Ann", "en")
    loop = asyncio.get_running_loop()
    previous_factory = loop.get_task_factory()
    owners = _TaskOwners()
    loop.set_task_factory(owners)  # type: ignore[arg-type]
    members: list[Member] = []
    try:
        async with aiohttp.ClientSession() as http:
            cluster = Cluster(fake, clock, members, owners, http)
            for number in range(1, count + 1):
                port = free_port()
                settings = make_settings(
                    tmp_path,
                    telegram_api_url=fake.url,
                    database_url=database_url,
                    instance_id=f"bot-{number}",
                    instance_count=count,
                    api_port=port,
                    webhook_url=f"http://127.0.0.1:{port}{WEBHOOK_PATH}",
                    **overrides,
                )
                await cluster.start(settings)
            yield cluster
    finally:
        for member in members:
            if not member.killed:
                await member.app.stop()
        loop.set_task_factory(previous_factory)
        await fake.close()
