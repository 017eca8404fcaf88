"""The one outbound queue: claims due outbox rows and sends them within Telegram's limits.

Telegram allows a bot about 30 messages per second overall, about one per second
into one private chat and 20 per minute into one group, and answers 429 above that.
The limiter (bot/outbox/limiter.py) paces sends below those limits so that 429 is the
exception; when one comes anyway, the scope it names (one chat, or everything) pauses
for retry_after. Replies to what a customer or manager just did share the limiter and
go first (bot/outbox/replies.py): while one is ready, the worker books no slot.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from bot.core.clock import Clock, to_ms
from bot.core.metrics import Metrics
from bot.outbox.contracts import (
    ChatMoved,
    Outgoing,
    Rejected,
    Renderer,
    RetryAfter,
    Sender,
    SendError,
    SendResult,
    Transient,
    Unreachable,
)
from bot.outbox.limiter import RateLimiter
from storage import chats, leases, outbox
from storage.db import Connection, Database
from storage.models import OutboxItem, OutboxStatus

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 6
    base_delay: float = 1.0
    max_delay: float = 300.0

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Exponential backoff with full jitter (AWS' recommendation)."""
        ceiling = min(self.max_delay, self.base_delay * 2 ** max(0, attempt - 1))
        return rng.uniform(ceiling / 2, ceiling)


class Result(StrEnum):
    """What became of one send: the row's final status, or another try later."""

    SENT = OutboxStatus.SENT
    FAILED = OutboxStatus.FAILED
    EXPIRED = OutboxStatus.EXPIRED
    RETRY = "retry"


@dataclass(slots=True)
class Outcome:
    """What became of one row, waiting to be written with others in one transaction."""

    item: OutboxItem
    status: Result
    at: int
    renderer: Renderer | None = None
    reason: str = ""
    result: SendResult | None = None
    message_id: int | None = None
    error: SendError | None = None
    due_at: int = 0
    count_attempt: bool = True
    # (old chat id, new chat id) when Telegram said the chat became a supergroup.
    moved: tuple[int, int] | None = None


Slotted = tuple[OutboxItem, float]  # a row and the monotonic moment its request may start


class DeliveryWorker:
    """Claims due rows, sends them paced, and records each outcome.

    At most once across instances: rows are 'claimed' (leased) in batches and turn
    'sending' in one small UPDATE per window (~100 ms of sends) just before their
    requests; only a 'sending' row can have reached Telegram, and one whose instance
    vanished is ended as outcome unknown, never resent. Outcomes are written in
    batches (one transaction per ~50 ms), the renderers' callbacks inside it.

    At most `sending_bound` rows (one claim batch) are 'sending' at any moment, from
    their UPDATE until their outcome is written: all that a crash can leave as outcome
    unknown. A window waits for room rather than go over it.

    Claims of an instance known to be gone are taken back at once rather than when
    their leases end (`recover`, `_sweep`): at start, those left under this instance's
    own INSTANCE_ID (its previous life), and with `sole` (SQLite, where only one
    instance can run) everyone's; while running, those of an instance whose heartbeat
    (a lease it renews every `heartbeat_seconds`) has ended."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        sender: Sender,
        renderers: Mapping[str, Renderer],
        limiter: RateLimiter,
        *,
        owner: str = "main",
        retry: RetryPolicy | None = None,
        lease_seconds: float = 60.0,
        sending_lease_seconds: float = 300.0,
        max_in_flight: int = 64,
        idle_poll: float = 1.0,
        max_inline_wait: float = 2.0,
        window_seconds: float = 0.1,
        flush_seconds: float = 0.05,
        flush_rows: int = 200,
        rng: random.Random | None = None,
        on_chat_moved: Callable[[int, int], object] | None = None,
        sole: bool = False,
        heartbeat_seconds: float = 5.0,
        heartbeat_lease_seconds: float = 20.0,
        metrics: Metrics | None = None,
    ) -> None:
        self._db = db
        self._metrics = metrics
        self._clock = clock
        self._sender = sender
        self._renderers = renderers
        self.limiter = limiter
        self._owner = owner
        self._retry = retry or RetryPolicy()
        self._lease_ms = int(lease_seconds * 1000)
        # Longer than any request can take (aiogram's default timeout is 60 s), so a
        # live instance's slow request is never mistaken for an abandoned one.
        self._sending_lease_ms = int(sending_lease_seconds * 1000)
        self._slots = asyncio.Semaphore(max_in_flight)
        self._idle_poll = idle_poll
        self._rng = rng or random.Random()
        self._on_chat_moved = on_chat_moved
        # Longer waits (a group's minute limit, a 429 pause) go back to the database.
        self._max_inline_wait = max_inline_wait
        self._window = window_seconds
        self._flush_seconds = flush_seconds
        self._flush_rows = flush_rows
        self._wakeup = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopping = False
        self._loop_done: asyncio.Event | None = None
        # Rows marked 'sending' whose request has not started: a stop gives them back.
        self._unsent: set[int] = set()
        self._outcomes: list[Outcome] = []
        self._flush_lock = asyncio.Lock()
        self._flush_now = asyncio.Event()
        self._flusher: asyncio.Task[None] | None = None
        # Claim about half a second of sends at a time, so that a more urgent row
        # arriving meanwhile waits at most that long.
        self._batch = max(1, min(500, int(0.5 / limiter.interval)))
        # Rows marked 'sending' whose outcome is not written yet: never more than a batch.
        self._sending: set[int] = set()
        self._room = asyncio.Event()
        self._sole = sole
        self._heartbeat_seconds = heartbeat_seconds
        self._heartbeat_ms = int(heartbeat_lease_seconds * 1000)
        self._heartbeat_every_ms = int(heartbeat_seconds * 1000)
        self._heartbeat: asyncio.Task[None] | None = None
        self._beat_at = 0
        # Other instances' heartbeats: (until_at, when we first saw that value).
        self._watched: dict[str, tuple[int, float]] = {}
        self._recovered = False

    @property
    def sending_bound(self) -> int:
        """The most rows this instance has 'sending' at once (one claim batch: half a
        second of sends at its rate, 1 to 500): what a crash can leave outcome unknown."""
        return self._batch

    def kick(self) -> None:
        """Something was enqueued: look now instead of at the next poll."""
        self._wakeup.set()

    async def run(self) -> None:
        """Deliver until stop(); survives any single failure."""
        self._loop_done = asyncio.Event()
        try:
            try:
                await self.recover()
            except Exception:
                logger.exception("delivery: orphaned claims not taken back; their leases will end")
            if not self._sole:
                self._heartbeat = asyncio.create_task(self._keep_alive())
            while not self._stopping:
                try:
                    handled = await self.run_once()
                except Exception:
                    logger.exception("delivery: a round failed; retrying")
                    handled = 0
                if handled == 0 and not self._stopping:
                    await self._sleep_until_due()
        finally:
            self._loop_done.set()

    async def stop(self) -> None:
        """Finish and record what is in flight, then give back what was claimed but
        not sent, so that another instance need not wait for the leases to end."""
        self._stopping = True
        self._wakeup.set()
        self._room.set()
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            await asyncio.gather(self._heartbeat, return_exceptions=True)
        if self._loop_done is not None:
            await self._loop_done.wait()
        await self.drain()
        try:
            async with self._db.transaction() as conn:
                released = await outbox.release(conn, owner=self._owner, unsent=list(self._unsent))
                await leases.release(conn, leases.heartbeat_name(self._owner), self._owner)
        except Exception:
            logger.exception("delivery: claimed rows not released; their leases will end")
            return
        self._sending -= self._unsent
        self._unsent.clear()
        if released:
            logger.info("delivery: gave back %d claimed rows on stop", released)

    async def drain(self) -> None:
        """Wait until every send in flight has been recorded in the database."""
        while self._tasks or self._outcomes:
            if self._tasks:
                await asyncio.gather(*list(self._tasks), return_exceptions=True)
            await self.flush()
        if self._flusher is not None and not self._flusher.done():
            self._flush_now.set()
            await self._flusher

    async def _sleep_until_due(self) -> None:
        async with self._db.read() as conn:
            due = await outbox.next_due_at(conn)
        timeout = self._idle_poll
        if due is not None:
            timeout = min(timeout, max(0.0, (due - self._now()) / 1000))
        self._wakeup.clear()
        if timeout > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), timeout)

    def _now(self) -> int:
        return to_ms(self._clock.now())

    # --- orphaned claims: a restart, an instance gone ---------------------------------

    async def recover(self) -> None:
        """At start (run() calls it; once): take back at once the claims of instances
        known to be gone. With `sole`, every instance's; else those under this
        INSTANCE_ID, a previous life's, since this one holds none yet. Claimed rows are
        sent now; 'sending' ones end as outcome unknown. With `sole`, the leases others
        held (maintenance) are free at once too."""
        if self._recovered:
            return
        self._recovered = True
        now = self._now()
        async with self._db.transaction() as conn:
            if self._sole:
                gone = await leases.bury_all_but(conn, self._owner)
                released, ended = await outbox.take_orphans(conn, now=now, owner=None)
            else:
                gone = []
                await self._beat(conn, now)
                await self._watch(conn, now)
                released, ended = await outbox.take_orphans(conn, now=now, owner=self._owner)
            await self._ended_unknown(conn, ended)
        self._log_orphans(gone, released, ended)

    async def _keep_alive(self) -> None:
        """Renew the heartbeat, and take the claims of instances whose heartbeat ended."""
        while True:
            await asyncio.sleep(self._heartbeat_seconds)
            try:
                await self._sweep()
            except Exception:
                logger.exception("delivery: heartbeat failed; retrying")

    async def _sweep(self) -> None:
        now = self._now()
        released, ended = 0, list[OutboxItem]()
        async with self._db.transaction() as conn:
            await self._beat(conn, now)
            gone = [
                owner
                for owner, until in await self._watch(conn, now)
                if await leases.bury(conn, owner, until=until)
            ]
            for owner in gone:
                count, items = await outbox.take_orphans(conn, now=now, owner=owner)
                released += count
                ended += items
            await self._ended_unknown(conn, ended)
        self._log_orphans(gone, released, ended)
        if released:
            self.kick()

    async def _beat(self, conn: Connection, now: int) -> None:
        name = leases.heartbeat_name(self._owner)
        until = now + self._heartbeat_ms
        await leases.acquire(conn, name, self._owner, now=now, until=until)
        self._beat_at = now

    async def _watch(self, conn: Connection, now: int) -> list[tuple[str, int]]:
        """The other instances' heartbeats; returns those gone: ended by the clock, and
        not renewed for two of our heartbeat intervals by our own monotonic time. The
        second test keeps a live instance alive when every heartbeat seems to have
        ended at once: the clock jumped, or the database was away for a while."""
        seen_at = asyncio.get_running_loop().time()
        beats = await leases.heartbeats(conn, but=self._owner)
        watched = {}
        gone = []
        for owner, until in beats.items():
            before = self._watched.get(owner)
            since = before[1] if before is not None and before[0] == until else seen_at
            watched[owner] = (until, since)
            if until < now and seen_at - since >= 2 * self._heartbeat_seconds:
                gone.append((owner, until))
        self._watched = watched
        return gone

    async def _ended_unknown(self, conn: Connection, items: list[OutboxItem]) -> None:
        """Rows ended as outcome unknown: their renderers close what they carried."""
        for item in items:
            renderer = self._renderers.get(item.kind)
            if renderer is not None:
                await renderer.on_failed(conn, item, SendError(outbox.OUTCOME_UNKNOWN))

    @staticmethod
    def _log_orphans(gone: list[str], released: int, ended: list[OutboxItem]) -> None:
        if gone:
            logger.warning("delivery: instances known to be gone: %s", ", ".join(gone))
        if released or ended:
            logger.warning(
                "delivery: took back at once %d rows an instance gone had claimed; "
                "%d it was sending end as outcome unknown",
                released,
                len(ended),
            )
        for item in ended:
            logger.warning("delivery: row %s (%s): %s", item.id, item.kind, outbox.OUTCOME_UNKNOWN)

    # --- claiming and pacing ---------------------------------------------------------

    async def run_once(self) -> int:
        """Claim one batch and start its sends; returns how many rows it took."""
        await self._yield_to_replies()
        now = self._now()
        async with self._db.transaction() as conn:
            if self._heartbeat is not None and now - self._beat_at >= self._heartbeat_every_ms:
                # Also here, so that it follows the clock when time jumps (tests).
                await self._beat(conn, now)
            abandoned = await outbox.end_abandoned(conn, now=now)
            await self._ended_unknown(conn, abandoned)
            items = await outbox.claim_due(
                conn, now=now, owner=self._owner, lease_ms=self._lease_ms, limit=self._batch
            )
        for item in abandoned:
            logger.warning("delivery: row %s (%s): %s", item.id, item.kind, outbox.OUTCOME_UNKNOWN)
        ready, deferred = self._plan(items)
        if deferred:
            await self._postpone(deferred)
        for window in _windows(ready, self._window):
            if self._stopping:
                break  # stop() gives the rest back
            await self._sleep_until(window[0][1])
            await self._send_window(window)
        return len(items) - len(deferred)

    def _plan(self, items: list[OutboxItem]) -> tuple[list[Slotted], list[Slotted]]:
        """Each row's global slot, in priority order; rows whose chat is busy a moment
        wait in their own task, and those busy longer go back to the database."""
        ready: list[Slotted] = []
        deferred: list[Slotted] = []
        for item in items:
            chat_wait = self.limiter.chat_wait(item.chat_id)
            if chat_wait > self._max_inline_wait:
                deferred.append((item, chat_wait))
                continue
            self.limiter.book_chat(item.chat_id, chat_wait)
            if chat_wait > 0:
                self._spawn(self._send_late(item, chat_wait))
            else:
                ready.append((item, self.limiter.now() + self.limiter.reserve_global()))
        return ready, deferred

    async def _send_late(self, item: OutboxItem, chat_wait: float) -> None:
        # Wait for the chat without holding up other chats, then take a global slot
        # like everyone else.
        await asyncio.sleep(chat_wait)
        await self._yield_to_replies()
        at = self.limiter.now() + self.limiter.reserve_global()
        await self._sleep_until(at)
        if not self._stopping:
            await self._send_window([(item, at)])

    async def _yield_to_replies(self) -> None:
        """Replies to what a customer or manager just did go first (bot/outbox/replies.py):
        while one is ready for the next global slot, book none."""
        while self.limiter.replies_ready() and not self._stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.limiter.replies_quiet(), self._window)

    async def _postpone(self, deferred: list[Slotted]) -> None:
        now = self._now()
        async with self._db.transaction() as conn:
            for item, wait in deferred:
                due = now + int(wait * 1000) + 1
                await outbox.postpone(conn, item.id, due, owner=self._owner)

    async def _sleep_until(self, at: float) -> None:
        delay = at - self.limiter.now()
        if delay > 0:
            await asyncio.sleep(delay)

    async def _send_window(self, window: list[Slotted]) -> None:
        """One UPDATE marks the window's rows 'sending'; each request starts at its slot."""
        started = await self._start_sending([item.id for item, _ in window])
        if started is None:
            return  # stopping: still only claimed, stop() gives them back
        if len(started) < len(window):
            # This instance's claim lapsed and another took the rows over.
            logger.warning("delivery: %d claimed rows were taken over", len(window) - len(started))
            window = [(item, at) for item, at in window if item.id in started]
        self._unsent |= started
        try:
            messages = await self._render([item for item, _ in window])
        except Exception:
            # A renderer's bug: the rows end as outcome unknown after their lease, and
            # take no room meanwhile.
            self._sending -= started
            raise
        for item, at in window:
            renderer, message = messages.get(item.id, (None, None))
            if renderer is None or message is None:
                continue
            await self._sleep_until(at)
            if self._stopping:
                return  # the rest stays in _unsent, for stop() to give back
            await self._slots.acquire()
            self._unsent.discard(item.id)
            self._spawn(self._deliver(item, renderer, message))

    async def _start_sending(self, ids: list[int]) -> set[int] | None:
        """Mark claimed rows 'sending', once fewer than a batch minus them are 'sending'
        (slow answers or a slow write can hold a batch up); the ids still held, or None
        when stopping."""
        wanted = set(ids)
        while len(self._sending) + len(wanted) > self._batch and not self._stopping:
            self._room.clear()
            await self._room.wait()  # until outcomes written make room
        if self._stopping:
            return None
        self._sending |= wanted  # counted before the UPDATE, which a crash may cut short
        until = self._now() + self._sending_lease_ms
        try:
            async with self._db.transaction() as conn:
                started = await outbox.start_sending(conn, ids, owner=self._owner, until=until)
        except BaseException:
            self._sending -= wanted
            raise
        self._sending -= wanted - started
        return started

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- rendering and sending -------------------------------------------------------

    async def _render(
        self, items: list[OutboxItem]
    ) -> dict[int, tuple[Renderer, Outgoing | None]]:
        """The message of each row, by id; rows that end instead are recorded so."""
        by_kind: dict[str, list[OutboxItem]] = {}
        for item in items:
            by_kind.setdefault(item.kind, []).append(item)
        messages: dict[int, tuple[Renderer, Outgoing | None]] = {}
        for kind, group in by_kind.items():
            renderer = self._renderers.get(kind)
            if renderer is None:
                for item in group:
                    self._fail(item, None, SendError(f"no renderer for kind {kind!r}"))
                continue
            for item, rendered in zip(group, await _render_group(renderer, group), strict=True):
                if isinstance(rendered, BaseException):
                    logger.error(
                        "delivery: row %s (%s) not rendered", item.id, kind, exc_info=rendered
                    )
                    # Nothing was sent: retried with backoff like a server error.
                    self._transient(item, renderer, Transient(f"render failed: {rendered!r}"))
                    continue
                if rendered is None:
                    self._record(
                        Outcome(
                            item,
                            Result.EXPIRED,
                            self._now(),
                            renderer,
                            "no longer wanted when due",
                        )
                    )
                messages[item.id] = (renderer, rendered)
        return messages

    async def _deliver(self, item: OutboxItem, renderer: Renderer, message: Outgoing) -> None:
        try:
            result = await self._sender.send(message)
        except RetryAfter as error:
            if self._metrics is not None:
                self._metrics.flood("outbox")
            self.limiter.on_retry_after(item.chat_id, error.retry_after)
            self._retry_later(item, renderer, error.retry_after, error, count=False)
        except Transient as error:
            self._transient(item, renderer, error)
        except ChatMoved as error:
            self._chat_moved(item, renderer, message, error)
        except (Unreachable, Rejected) as error:
            self._fail(item, renderer, error)
        except Exception as error:
            # Not an answer from Telegram: whether the message arrived is unknown, and
            # at most once means it is not sent again.
            logger.exception("delivery: row %s: unexpected error while sending", item.id)
            self._fail(item, renderer, SendError(f"outcome unknown: {error!r}"))
        else:
            message_id = result.message_id or message.edit_message_id
            self._record(
                Outcome(
                    item, Result.SENT, self._now(), renderer, result=result, message_id=message_id
                )
            )
        finally:
            self._slots.release()

    def _chat_moved(
        self, item: OutboxItem, renderer: Renderer, message: Outgoing, error: ChatMoved
    ) -> None:
        """The group became a supergroup: a new message goes to it at once, without
        counting an attempt; an edit fails, since its message stayed in the old chat."""
        moved = (message.chat_id, error.new_chat_id)
        if self._on_chat_moved is not None:
            self._on_chat_moved(*moved)
        now = self._now()
        if message.edit_message_id is None and message.chat_id == item.chat_id:
            self._record(
                Outcome(
                    item,
                    Result.RETRY,
                    now,
                    renderer,
                    error.reason,
                    due_at=now,
                    count_attempt=False,
                    moved=moved,
                )
            )
            return
        left_behind = "an edit of a message left in the old chat"
        if message.edit_message_id is None:
            left_behind = "a message not addressed to the row's own chat"
        reason = f"{error.reason}; not resent: {left_behind}"
        self._record(Outcome(item, Result.FAILED, now, renderer, reason, error=error, moved=moved))

    def _transient(self, item: OutboxItem, renderer: Renderer, error: SendError) -> None:
        attempt = item.attempts + 1
        if attempt >= self._retry.max_attempts:
            self._fail(item, renderer, error, f"gave up after {attempt} attempts: ")
        else:
            self._retry_later(item, renderer, self._retry.backoff(attempt, self._rng), error)

    def _retry_later(
        self,
        item: OutboxItem,
        renderer: Renderer,
        seconds: float,
        error: SendError,
        *,
        count: bool = True,
    ) -> None:
        now = self._now()
        due = now + int(seconds * 1000)
        self._record(
            Outcome(
                item, Result.RETRY, now, renderer, error.reason, due_at=due, count_attempt=count
            )
        )
        logger.info("delivery: row %s retries in %.1fs (%s)", item.id, seconds, error.reason)

    def _fail(
        self, item: OutboxItem, renderer: Renderer | None, error: SendError, prefix: str = ""
    ) -> None:
        self._record(
            Outcome(item, Result.FAILED, self._now(), renderer, prefix + error.reason, error=error)
        )
        logger.warning("delivery: row %s (%s) failed: %s", item.id, item.kind, error.reason)

    # --- recording outcomes in batches -----------------------------------------------

    def _record(self, outcome: Outcome) -> None:
        if self._metrics is not None:
            if outcome.status == Result.SENT:
                self._metrics.sent(outcome.item.kind)
            elif outcome.status == Result.FAILED:
                self._metrics.failed(outcome.item.kind)
        self._unsent.discard(outcome.item.id)
        self._outcomes.append(outcome)
        if len(self._outcomes) >= self._flush_rows:
            self._flush_now.set()
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_soon())

    async def _flush_soon(self) -> None:
        while self._outcomes:
            if not self._flush_now.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._flush_now.wait(), self._flush_seconds)
            self._flush_now.clear()
            await self.flush()

    async def flush(self) -> None:
        """Write the outcomes collected so far in one transaction. If that fails, one
        transaction each, so one bad row cannot lose the others' outcomes; a row whose
        outcome cannot be written stays 'sending' and ends as outcome unknown."""
        async with self._flush_lock:
            batch, self._outcomes = self._outcomes, []
            if not batch:
                return
            try:
                async with self._db.transaction() as conn:
                    await self._apply(conn, batch)
            except Exception:
                logger.exception("delivery: %d outcomes not written together", len(batch))
                for outcome in batch:
                    try:
                        async with self._db.transaction() as conn:
                            await self._apply(conn, [outcome])
                    except Exception:
                        logger.exception("delivery: row %s: outcome lost", outcome.item.id)
            finally:
                # Written (or lost to the database): room for the next window.
                self._sending -= {outcome.item.id for outcome in batch}
                self._room.set()

    async def _apply(self, conn: Connection, batch: list[Outcome]) -> None:
        ids = [outcome.item.id for outcome in batch]
        mine = await outbox.held(conn, ids, owner=self._owner, status=OutboxStatus.SENDING)
        await outbox.mark_sent_many(
            conn,
            [
                (o.item.id, o.message_id, o.at)
                for o in batch
                if o.status == Result.SENT and o.item.id in mine
            ],
        )
        together: dict[int, tuple[Any, list[tuple[OutboxItem, SendResult]]]] = {}
        for outcome in batch:
            item = outcome.item
            if outcome.moved is not None:
                # True whatever became of the row: the chat lives on under its new id.
                await chats.record_migration(conn, *outcome.moved, outcome.at)
            if item.id not in mine:
                logger.warning(
                    "delivery: row %s was ended elsewhere before its outcome (%s) was written",
                    item.id,
                    outcome.status,
                )
            elif outcome.status == Result.SENT:
                assert outcome.renderer is not None and outcome.result is not None
                many = getattr(outcome.renderer, "on_sent_many", None)
                if many is None:
                    await outcome.renderer.on_sent(conn, item, outcome.result)
                else:
                    # A renderer that records successes in bulk gets the batch's at once.
                    together.setdefault(id(outcome.renderer), (many, []))[1].append(
                        (item, outcome.result)
                    )
            elif outcome.status == Result.RETRY and outcome.moved is not None:
                await outbox.move_to_chat(conn, item.id, outcome.moved[1], due_at=outcome.due_at)
            elif outcome.status == Result.RETRY:
                await outbox.retry_later(
                    conn,
                    item.id,
                    outcome.due_at,
                    outcome.reason,
                    count_attempt=outcome.count_attempt,
                )
            elif outcome.status == Result.FAILED:
                await self._apply_failure(conn, outcome)
            else:
                await outbox.finish(conn, item.id, outcome.status, outcome.reason, outcome.at)
        for many, sent in together.values():
            await many(conn, sent)

    async def _apply_failure(self, conn: Connection, outcome: Outcome) -> None:
        item, error = outcome.item, outcome.error
        await outbox.finish(conn, item.id, OutboxStatus.FAILED, outcome.reason, outcome.at)
        if outcome.renderer is not None and error is not None:
            await outcome.renderer.on_failed(conn, item, error)
        if isinstance(error, Unreachable):
            await outbox.expire_pending_for_chat(
                conn, item.chat_id, "chat unreachable", outcome.at
            )


async def _render_group(
    renderer: Renderer, items: list[OutboxItem]
) -> list[Outgoing | BaseException | None]:
    """Render rows of one kind: in one go when the renderer can (it prefetches what
    they all need), else one by one; a failure is returned in its row's place."""
    many = getattr(renderer, "render_many", None)
    if many is not None and len(items) > 1:
        try:
            return list(await many(items))
        except Exception:
            logger.exception(
                "delivery: rendering %d %s rows together failed", len(items), items[0].kind
            )
    results: list[Outgoing | BaseException | None] = []
    for item in items:
        try:
            results.append(await renderer.render(item))
        except Exception as error:
            results.append(error)
    return results


def _windows(slotted: list[Slotted], seconds: float) -> list[list[Slotted]]:
    """Consecutive rows whose slots fall within `seconds` of the window's first."""
    windows: list[list[Slotted]] = []
    for entry in slotted:
        if windows and entry[1] < windows[-1][0][1] + seconds:
            windows[-1].append(entry)
        else:
            windows.append([entry])
    return windows
