"""A survey whose send ended "outcome unknown" (its instance died mid-request) may still
have reached the customer; their press proves it, and what they say is kept."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.core.clock import FakeClock, to_ms
from bot.survey.keyboards import nps_keyboard
from storage import outbox
from tests.support.harness import BotHarness, running_bot

CUSTOMER = 501


async def _abandon_after_delivery(h: BotHarness, survey_id: int) -> int:
    """A dead instance marked the survey 'sending' and Telegram delivered it, but the
    instance died before recording that; the next claim ends it as outcome unknown."""
    due = to_ms(h.clock.now()) + 600_000
    async with h.app.db.transaction() as conn:
        [row] = await outbox.claim_due(conn, now=due, owner="dead", lease_ms=60_000, limit=5)
        await outbox.start_sending(conn, [row.id], owner="dead", until=due + 300_000)
    dead_bot = h.fake.make_bot()
    try:
        delivered = await dead_bot.send_message(
            CUSTOMER, "How likely are you to recommend us?", reply_markup=nps_keyboard(survey_id)
        )
    finally:
        await dead_bot.session.close()
    h.clock.advance(timedelta(seconds=600 + 301))
    await h.app.worker.run_once()
    await h.app.worker.drain()
    return delivered.message_id


async def _survey(h: BotHarness, survey_id: int) -> dict[str, object] | None:
    async with h.app.db.read() as conn:
        return await conn.fetch_one(
            "SELECT status, chat_id, message_id, nps, closed_reason FROM surveys WHERE id = :id",
            {"id": survey_id},
        )


async def test_a_press_on_an_outcome_unknown_survey_is_kept(tmp_path: Path) -> None:
    async with running_bot(tmp_path, FakeClock(), survey_delay_seconds=600) as h:
        await h.start_customer(CUSTOMER)
        survey_id = int((await h.post_visit(CUSTOMER, "pos-1"))["survey_id"])
        message_id = await _abandon_after_delivery(h, survey_id)
        assert await _survey(h, survey_id) == {
            "status": "failed",
            "chat_id": None,
            "message_id": None,
            "nps": None,
            "closed_reason": outbox.OUTCOME_UNKNOWN,
        }
        message = h.fake.message(CUSTOMER, message_id)
        await h.press(CUSTOMER, message, "9")
        await h.fake.wait_for(
            lambda m: m.message_id == message_id and m.text.startswith("Your score: 9")
        )
        assert await _survey(h, survey_id) == {
            "status": "sent",
            "chat_id": CUSTOMER,
            "message_id": message_id,
            "nps": 9,
            "closed_reason": None,
        }
        async with h.app.db.read() as conn:
            funnel = await conn.fetch_all("SELECT event, count FROM funnel_daily ORDER BY event")
        counts = {row["event"]: row["count"] for row in funnel}
        assert counts.get("sent") == 1 and counts.get("failed", 0) == 0
        assert counts.get("answered") == 1


async def test_a_stranger_cannot_recover_someone_elses_survey(tmp_path: Path) -> None:
    async with running_bot(tmp_path, FakeClock(), survey_delay_seconds=600) as h:
        await h.start_customer(CUSTOMER)
        await h.start_customer(777, "Eve")
        survey_id = int((await h.post_visit(CUSTOMER, "pos-1"))["survey_id"])
        message_id = await _abandon_after_delivery(h, survey_id)
        data = h.fake.message(CUSTOMER, message_id).callback_data[9]
        since = len(h.fake.sent)
        await h.fake.press(777, message_id, data, chat_id=CUSTOMER, check_button=False)
        await h.fake.wait_for_call("answerCallbackQuery")
        survey = await _survey(h, survey_id)
        assert survey is not None and survey["status"] == "failed" and survey["nps"] is None
        assert [m for m in h.fake.sent[since:] if m.chat_id == CUSTOMER] == []
