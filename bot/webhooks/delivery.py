"""Delivering webhooks: a worker of its own, apart from the Telegram outbox, so that a
slow or dead receiver never holds up a survey or an alert.

It claims due rows (storage/webhooks.py `claim_due`: each the oldest open row of its
endpoint and customer, so events about one customer arrive in order), POSTs each
signed (bot/webhooks/signing.py) with a timeout, and records the outcome: delivered
on any 2xx; else pending again after an exponential backoff with jitter, until 24 hours
after the event, when the row ends failed with the last reason. A stop waits for the
requests in flight (each at most the timeout) and records them, so a restart sends
nothing twice; rows of an instance that died mid-request are resent with the same
webhook-id when their lease ends, or at once when it restarts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from dataclasses import dataclass
from urllib.parse import urlsplit

import aiohttp

from bot.core.clock import Clock, to_ms
from bot.core.metrics import Metrics
from bot.webhooks import signing
from bot.webhooks.endpoints import WebhookError, check_url
from storage import webhooks as repo
from storage.db import Database
from storage.webhooks import Delivery, DeliveryStatus, Endpoint

logger = logging.getLogger(__name__)

USER_AGENT = "otklik-webhooks/1"
# An attempt's outcome as GET /metrics counts it (otklik_webhook_deliveries_total).
_OUTCOMES = {
    DeliveryStatus.DELIVERED: "delivered",
    DeliveryStatus.PENDING: "retry",
    DeliveryStatus.FAILED: "failed",
}


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential backoff with full jitter: about 5 s, 10 s, 20 s ... up to an hour."""

    first_seconds: float = 5.0
    most_seconds: float = 3600.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        ceiling = min(self.most_seconds, self.first_seconds * 2 ** max(0, attempt - 1))
        return rng.uniform(ceiling / 2, ceiling)


@dataclass(frozen=True, slots=True)
class Attempt:
    """What one request came to. `final`: no retry can help (the URL is refused)."""

    ok: bool
    http_status: int | None = None
    error: str | None = None
    final: bool = False


def _redact(text: str, endpoint: Endpoint) -> str:
    """An error's text without the endpoint's secret, query string or password."""
    parts = urlsplit(endpoint.url)
    for secret in (endpoint.secret, endpoint.url, parts.query, parts.password or ""):
        if len(secret) >= 4:
            text = text.replace(secret, "***")
    return text


async def post(
    session: aiohttp.ClientSession,
    endpoint: Endpoint,
    message_id: str,
    body: bytes,
    timestamp: int,
    *,
    timeout: float,  # noqa: ASYNC109 -- aiohttp's per-request timeout
    allow_http: bool,
) -> Attempt:
    """One signed POST of `body`; never raises for the receiver's faults."""
    try:
        check_url(endpoint.url, allow_http=allow_http)
        headers = signing.headers(endpoint.secret, message_id, timestamp, body)
    except WebhookError as error:
        return Attempt(False, error=f"refused: {error.message}", final=True)
    except signing.BadSecret:
        return Attempt(False, error="refused: the stored secret is malformed", final=True)
    headers["user-agent"] = USER_AGENT
    try:
        async with session.post(
            endpoint.url,
            data=body,
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=timeout),
            allow_redirects=False,
        ) as response:
            if 200 <= response.status < 300:
                return Attempt(True, response.status)
            return Attempt(
                False, response.status, f"HTTP {response.status} {response.reason or ''}".strip()
            )
    except TimeoutError:
        return Attempt(False, error=f"no answer within {timeout:g} s")
    except (aiohttp.ClientError, OSError, ValueError) as error:
        return Attempt(False, error=_redact(f"{type(error).__name__}: {error}", endpoint))


class WebhookWorker:
    """Delivers webhook rows until stop(). `sole`: the one instance SQLite allows, so at
    start every row left 'sending' is taken back; else those of this INSTANCE_ID."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        owner: str = "main",
        sole: bool = False,
        timeout: float = 10.0,
        allow_http: bool = False,
        concurrency: int = 8,
        idle_poll: float = 1.0,
        backoff: Backoff | None = None,
        rng: random.Random | None = None,
        lease_margin: float = 30.0,
        metrics: Metrics | None = None,
    ) -> None:
        self._db = db
        self._metrics = metrics
        self._clock = clock
        self._owner = owner
        self._sole = sole
        self.timeout = timeout
        self.allow_http = allow_http
        self._concurrency = concurrency
        self._idle_poll = idle_poll
        self._backoff = backoff or Backoff()
        self._rng = rng or random.Random()
        # Longer than any request may take, so a live instance's row is never taken over.
        self._lease_ms = int((timeout + lease_margin) * 1000)
        self._wakeup = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopping = False
        self._loop_done: asyncio.Event | None = None
        self._session: aiohttp.ClientSession | None = None

    def kick(self) -> None:
        """Look for due rows now instead of at the next poll."""
        self._wakeup.set()

    def _now(self) -> int:
        return to_ms(self._clock.now())

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(trust_env=False)
        return self._session

    async def recover(self) -> int:
        """Take back at once the rows a previous life of this instance (or, when sole,
        any instance) left 'sending': they are resent with their webhook-id."""
        async with self._db.transaction() as conn:
            taken = await repo.take_back(conn, owner=None if self._sole else self._owner)
        if taken:
            logger.warning("webhooks: %d deliveries cut short by a stop are due again", taken)
        return taken

    async def run(self) -> None:
        """Deliver until stop(); survives any single failure."""
        self._loop_done = asyncio.Event()
        try:
            try:
                await self.recover()
            except Exception:
                logger.exception("webhooks: rows left sending not taken back; leases will end")
            while not self._stopping:
                try:
                    claimed = await self.run_once()
                except Exception:
                    logger.exception("webhooks: a round failed; retrying")
                    claimed = 0
                if claimed == 0 and not self._stopping:
                    await self._sleep_until_due()
        finally:
            self._loop_done.set()

    async def run_once(self) -> int:
        """Claim what free slots allow and start those requests; how many were claimed."""
        free = self._concurrency - len(self._tasks)
        if free <= 0:
            await asyncio.wait(list(self._tasks), return_when=asyncio.FIRST_COMPLETED)
            return 1
        now = self._now()
        async with self._db.transaction() as conn:
            rows = await repo.claim_due(
                conn, now=now, owner=self._owner, lease_ms=self._lease_ms, limit=free
            )
        for row in rows:
            task = asyncio.create_task(self._deliver(row))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return len(rows)

    async def _sleep_until_due(self) -> None:
        async with self._db.read() as conn:
            due = await repo.next_due_at(conn)
        timeout = self._idle_poll
        if due is not None:
            timeout = min(timeout, max(0.0, (due - self._now()) / 1000))
        self._wakeup.clear()
        if timeout > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), timeout)

    async def drain(self) -> None:
        """Wait until every request in flight has been recorded."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def stop(self) -> None:
        """Claim nothing more; finish and record the requests in flight."""
        self._stopping = True
        self._wakeup.set()
        if self._loop_done is not None:
            await self._loop_done.wait()
        await self.drain()
        await self.close()

    async def close(self) -> None:
        """Close the HTTP client (also after a crash, when stop() never ran)."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _deliver(self, row: Delivery) -> None:
        try:
            async with self._db.read() as conn:
                endpoint = await repo.get_endpoint(conn, row.endpoint)
            if endpoint is None:
                attempt = Attempt(False, error="endpoint deleted", final=True)
            else:
                attempt = await post(
                    self._http(),
                    endpoint,
                    row.message_id,
                    row.payload.encode(),
                    self._now() // 1000,
                    timeout=self.timeout,
                    allow_http=self.allow_http,
                )
            await self._record(row, attempt)
        except Exception:
            # Left 'sending': taken over when its lease ends, resent with its webhook-id.
            logger.exception("webhooks: delivery %s: outcome not recorded", row.id)
        finally:
            self.kick()  # the next row of its customer may be due now

    async def _record(self, row: Delivery, attempt: Attempt) -> None:
        now = self._now()
        if attempt.ok:
            status, due, error = DeliveryStatus.DELIVERED, None, None
        elif attempt.final or now >= row.deadline_at:
            status, due = DeliveryStatus.FAILED, None
            error = attempt.error
            if not attempt.final:
                error = f"gave up after {row.attempts} attempts in 24 h; last: {attempt.error}"
        else:
            status = DeliveryStatus.PENDING
            delay = self._backoff.delay(row.attempts, self._rng)
            due, error = min(now + int(delay * 1000), row.deadline_at), attempt.error
        async with self._db.transaction() as conn:
            mine = await repo.record(
                conn,
                row.id,
                owner=self._owner,
                status=status,
                now=now,
                http_status=attempt.http_status,
                error=error,
                due_at=due,
            )
        if not mine:
            logger.warning("webhooks: delivery %s was taken over before its outcome", row.id)
            return
        if self._metrics is not None:
            self._metrics.webhook(_OUTCOMES[status])
        if status == DeliveryStatus.FAILED:
            logger.warning(
                "webhooks: %s %s to %s failed: %s", row.event, row.message_id, row.endpoint, error
            )
        elif status == DeliveryStatus.PENDING:
            logger.info(
                "webhooks: %s to %s retries at %s: %s",
                row.event,
                row.endpoint,
                repo.iso_ms(due or now),
                error,
            )
