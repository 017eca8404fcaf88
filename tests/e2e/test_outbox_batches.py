"""Batched delivery: windows of surveys rendered together, outcomes written together."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path

from bot.core.clock import FakeClock
from bot.outbox.contracts import SendResult
from storage import outbox
from storage.db import Connection, Database
from storage.models import OutboxItem
from tests.support.harness import running_bot
from tests.support.outbox import (
    FIRST_CHAT,
    NoteRenderer,
    deliveries,
    enqueue_notes,
    fake_telegram,
    rows,
    worker,
)

CUSTOMERS = tuple(range(601, 613))


async def test_a_window_of_surveys_renders_together_and_skips_the_ones_it_must(
    tmp_path: Path,
) -> None:
    clock = FakeClock()
    async with running_bot(
        tmp_path,
        clock,
        survey_delay_seconds=600,
        send_rate_per_second=1000,
        paid_broadcast=True,
    ) as h:
        for user_id in CUSTOMERS:
            await h.start_customer(user_id)
        outcomes = {
            user_id: await h.post_visit(user_id, f"pos-w{user_id}") for user_id in CUSTOMERS
        }
        # Between the visit and its survey: one customer opts out, one is forgotten.
        await h.fake.send_text(CUSTOMERS[0], "/stop")
        await h.fake.wait_for_message(CUSTOMERS[0], text_contains="will not send you surveys")
        async with h.app.db.transaction() as conn:
            await conn.execute(
                "UPDATE customers SET unreachable = 1 WHERE telegram_id = :id",
                {"id": CUSTOMERS[1]},
            )
        since = len(h.fake.sent)
        clock.advance(timedelta(seconds=601))
        h.app.worker.kick()
        for user_id in CUSTOMERS[2:]:
            await h.survey_for(user_id, since=since)
        await h.app.worker.drain()
        surveys_sent = [m.chat_id for m in h.fake.sent[since:] if len(m.callback_data) == 11]
        assert sorted(surveys_sent) == list(CUSTOMERS[2:])
        async with h.app.db.read() as conn:
            states = {
                user_id: await conn.fetch_one(
                    "SELECT status, closed_reason, message_id FROM surveys WHERE id = :id",
                    {"id": outcomes[user_id]["survey_id"]},
                )
                for user_id in CUSTOMERS
            }
        assert states[CUSTOMERS[0]] == {
            "status": "skipped",
            "closed_reason": "opted_out",
            "message_id": None,
        }
        assert states[CUSTOMERS[1]] == {
            "status": "skipped",
            "closed_reason": "unreachable",
            "message_id": None,
        }
        for user_id in CUSTOMERS[2:]:
            state = states[user_id]
            assert state is not None and state["status"] == "sent" and state["message_id"]
        # Successes were recorded in bulk: each counted once in the funnel and rollups.
        async with h.app.db.read() as conn:
            funnel = await conn.fetch_one(
                "SELECT SUM(count) AS n FROM funnel_daily WHERE event = 'sent'"
            )
            rollup = await conn.fetch_one("SELECT SUM(sent) AS n FROM daily_rollups")
        assert funnel == {"n": len(CUSTOMERS) - 2}
        assert rollup == {"n": len(CUSTOMERS) - 2}


class FailingOnSent(NoteRenderer):
    """Recording one row's success fails (a bug in a feature's callback)."""

    def __init__(self, bad_id: int) -> None:
        super().__init__()
        self.bad_id = bad_id

    async def on_sent(self, conn: Connection, item: OutboxItem, result: SendResult) -> None:
        if item.id == self.bad_id:
            raise RuntimeError("callback bug")


async def test_one_failing_callback_loses_only_its_own_outcome_which_ends_unknown(
    db: Database, clock: FakeClock
) -> None:
    await enqueue_notes(db, clock, 6)
    async with fake_telegram(6) as fake, worker(db, clock, fake, "a") as (delivery, _):
        delivery._renderers = {"note": FailingOnSent(bad_id=3)}
        assert await delivery.run_once() == 6
        await delivery.drain()
        assert deliveries(fake) == Counter(range(FIRST_CHAT, FIRST_CHAT + 6))
        found = {row.id: row for row in await rows(db)}
        assert {row.status for key, row in found.items() if key != 3} == {"sent"}
        # Delivered, but its outcome could not be written: it never goes again, and
        # ends as outcome unknown once its lease is over.
        assert found[3].status == "sending"
        clock.advance(timedelta(minutes=6))
        assert await delivery.run_once() == 0
    [bad] = [row for row in await rows(db) if row.id == 3]
    assert (bad.status, bad.last_error) == ("failed", outbox.OUTCOME_UNKNOWN)
    assert deliveries(fake)[FIRST_CHAT + 2] == 1
