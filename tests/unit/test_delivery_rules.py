"""The delivery rules without Telegram: pacing, 429 scopes, backoff, priorities, quiet hours."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from bot.config import QuietHours
from bot.core.clock import FakeClock, to_ms
from bot.core.policy import SurveyPolicy
from bot.outbox.contracts import Priority
from bot.outbox.limiter import RateLimiter
from bot.outbox.worker import RetryPolicy
from storage import outbox
from storage.db import SqliteDatabase


class Ticks:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_global_rate_spaces_sends_evenly() -> None:
    ticks = Ticks()
    limiter = RateLimiter(25, monotonic=ticks)
    delays = [limiter.reserve_global() for _ in range(50)]
    assert delays[0] == 0
    assert abs(delays[-1] - 49 / 25) < 1e-9
    # Never more than 26 sends in any one-second window: under Telegram's 30.
    slots = [ticks.now + d for d in delays]
    assert max(sum(1 for s in slots if a <= s < a + 1) for a in slots) <= 26


def test_private_chat_gets_one_message_per_second() -> None:
    ticks = Ticks()
    limiter = RateLimiter(25, monotonic=ticks)
    assert limiter.chat_wait(42) == 0
    limiter.book_chat(42)
    assert limiter.chat_wait(42) == 1.0
    assert limiter.chat_wait(43) == 0  # other chats are not held up
    ticks.now += 1.0
    assert limiter.chat_wait(42) == 0


def test_group_allows_twenty_per_minute() -> None:
    ticks = Ticks()
    limiter = RateLimiter(25, monotonic=ticks)
    for _ in range(20):
        assert limiter.chat_wait(-100) == 0
        limiter.book_chat(-100)
        ticks.now += 0.5
    assert limiter.chat_wait(-100) == 50.0  # the first of the 20 leaves the window then
    ticks.now += 50.0
    assert limiter.chat_wait(-100) == 0


def test_retry_after_pauses_one_chat_then_everything_when_it_spreads() -> None:
    ticks = Ticks()
    limiter = RateLimiter(25, monotonic=ticks)
    assert limiter.on_retry_after(1, 5) == "chat"
    assert limiter.chat_wait(1) == 5
    assert limiter.reserve_global() == 0  # other chats go on
    assert limiter.on_retry_after(2, 5) == "global"
    assert limiter.reserve_global() >= 5


def test_backoff_grows_exponentially_with_jitter_and_a_ceiling() -> None:
    policy = RetryPolicy(max_attempts=6, base_delay=1.0, max_delay=30.0)
    rng = random.Random(7)
    for attempt, ceiling in [(1, 1), (2, 2), (3, 4), (4, 8), (9, 30)]:
        delay = policy.backoff(attempt, rng)
        assert ceiling / 2 <= delay <= ceiling


async def test_claim_takes_alerts_first_then_surveys_by_deadline(db: SqliteDatabase) -> None:
    now = to_ms(datetime(2026, 11, 23, 12, tzinfo=UTC))
    async with db.transaction() as conn:
        for kind, priority, deadline in [
            ("anniversary", Priority.BULK, None),
            ("survey-late", Priority.SURVEY, now + 900_000),
            ("reminder", Priority.REMINDER, None),
            ("survey-early", Priority.SURVEY, now + 60_000),
            ("alert", Priority.ALERT, None),
        ]:
            await outbox.enqueue(
                conn,
                kind=kind,
                chat_id=1,
                priority=priority,
                due_at=now - 1000,
                now=now,
                deadline_at=deadline,
            )
        await outbox.enqueue(
            conn, kind="future", chat_id=1, priority=Priority.ALERT, due_at=now + 5000, now=now
        )
        claimed = await outbox.claim_due(conn, now=now, owner="a", lease_ms=60_000, limit=10)
        again = await outbox.claim_due(conn, now=now, owner="b", lease_ms=60_000, limit=10)
        # A lease held by a dead instance is taken over once it ends.
        taken_over = await outbox.claim_due(
            conn, now=now + 61_000, owner="b", lease_ms=60_000, limit=10
        )
    assert [item.kind for item in claimed] == [
        "alert",
        "survey-early",
        "survey-late",
        "reminder",
        "anniversary",
    ]
    assert again == []
    assert {item.kind for item in taken_over} == {
        "alert",
        "survey-early",
        "survey-late",
        "reminder",
        "anniversary",
        "future",
    }


def test_quiet_hours_move_a_survey_to_the_morning_in_the_customers_zone() -> None:
    policy = SurveyPolicy(
        delay=timedelta(minutes=5),
        cooldown=timedelta(days=30),
        max_age=timedelta(hours=14),
        expires_after=timedelta(hours=24),
        reminder_after=None,
        quiet_hours=QuietHours.parse("22:00-09:00"),
        zone=FakeClock().now().tzinfo,  # type: ignore[arg-type]
    )
    # 23:30 in Moscow (UTC+3) is quiet: the survey waits until 09:00 Moscow time.
    late = datetime(2026, 11, 23, 20, 30, tzinfo=UTC)
    assert policy.after_quiet_hours(late, 180) == datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
    # 12:00 there is not quiet.
    noon = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    assert policy.after_quiet_hours(noon, 180) == noon
