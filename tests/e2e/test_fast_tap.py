"""A customer who taps a score the moment the survey arrives, before the bot has
written down that it sent it (outcomes are written in batches), is answered like any
other: the tap counts, the survey is recorded as sent once, the keyboard stays."""

from __future__ import annotations

from pathlib import Path

from bot.core.clock import FakeClock
from storage import outbox, surveys
from storage.models import OutboxStatus
from tests.support.harness import running_bot

CUSTOMER = 501
STRANGER = 777
# Long enough that every tap below lands before the outcome is written.
SLOW_FLUSH_SECONDS = 3.0


async def test_a_tap_before_the_outcome_flush_is_answered(tmp_path: Path) -> None:
    async with running_bot(tmp_path, FakeClock(), outcome_flush_seconds=SLOW_FLUSH_SECONDS) as h:
        await h.start_customer(CUSTOMER)
        await h.start_customer(STRANGER, "Eve")
        survey_id = int((await h.post_visit(CUSTOMER, "pos-1"))["survey_id"])
        survey = await h.fake.wait_for(
            lambda m: m.chat_id == CUSTOMER and len(m.callback_data) == 11
        )
        # The stranger's forged press and the customer's own, as soon as it arrives.
        stranger = await h.fake.press(
            STRANGER,
            survey.message_id,
            survey.callback_data[3],
            chat_id=CUSTOMER,
            check_button=False,
        )
        await h.press(CUSTOMER, survey, "3")
        edited = await h.fake.wait_for(
            lambda m: m.message_id == survey.message_id and m.text.startswith("Your score: 3")
        )
        async with h.app.db.read() as conn:
            row = await outbox.by_dedupe_key(conn, surveys.outbox_key(survey_id))
            recorded = await surveys.get(conn, survey_id)
        # The tap overtook the outcome: the outbox row still waits for the flush.
        assert row is not None and row.status == OutboxStatus.SENDING
        assert recorded is not None
        assert (recorded.status, recorded.chat_id, recorded.message_id, recorded.nps) == (
            "sent",
            CUSTOMER,
            survey.message_id,
            3,
        )
        answers = {a["callback_query_id"]: a.get("text") for a in h.fake.callback_answers}
        assert answers[str(stranger["callback_query"]["id"])] == "This button is not for you."
        assert [text for text in answers.values() if text] == ["This button is not for you."]
        # The next question's buttons are live and answer normally.
        await h.press(CUSTOMER, edited, "2")
        await h.fake.wait_for(
            lambda m: m.message_id == survey.message_id and "What went wrong" in m.text
        )
        await h.app.worker.drain()  # the outcome flush, late
        async with h.app.db.read() as conn:
            row = await outbox.by_dedupe_key(conn, surveys.outbox_key(survey_id))
            funnel = await conn.fetch_all("SELECT event, count FROM funnel_daily")
            total = await conn.fetch_one(
                "SELECT sent, answered, detractors, ces_count FROM monthly_segment_rollups"
                " WHERE kind = 'total'"
            )
            cases = await conn.fetch_one("SELECT COUNT(*) AS n FROM cases")
        assert row is not None and row.status == OutboxStatus.SENT
        assert row.message_id == survey.message_id
        counts = {r["event"]: r["count"] for r in funnel}
        assert (counts["sent"], counts["answered"], counts.get("failed", 0)) == (1, 1, 0)
        assert total == {"sent": 1, "answered": 1, "detractors": 1, "ces_count": 1}
        assert cases == {"n": 1}
        # The detractor's alert reached the managers.
        await h.fake.wait_for(lambda m: m.chat_id < 0 and "3" in m.text)
