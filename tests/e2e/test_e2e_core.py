"""The core loop end to end: real aiogram polling, delivery, API and SQLite against
the fake Bot API server."""

from __future__ import annotations

from pathlib import Path

from storage import surveys
from tests.support.harness import running_bot
from tests.support.settings import MANAGER_CHAT_ID

ANN = 501
BORIS = 502


async def test_visit_becomes_survey_and_every_answer_is_stored(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        await h.start_customer(ANN)
        outcome = await h.post_visit(ANN, "pos-1", location="Main St", staff="Olga")
        assert outcome["status"] == "scheduled" and outcome["survey_id"]

        survey_message = await h.survey_for(ANN)
        assert "Main St" in survey_message.text
        assert [b["text"] for b in survey_message.buttons] == [str(n) for n in range(11)]

        await h.press(ANN, survey_message, "3")
        ces = await h.fake.wait_for(
            lambda m: m.message_id == survey_message.message_id and len(m.callback_data) == 7
        )
        alert = await h.fake.wait_for_message(MANAGER_CHAT_ID, text_contains="NPS: 3")
        assert "Main St" in alert.text and "Olga" in alert.text and "Ann" in alert.text

        await h.press(ANN, ces, "2")
        await h.fake.wait_for(
            lambda m: m.message_id == survey_message.message_id and "went wrong" in m.text
        )
        await h.fake.send_text(ANN, "The queue was 40 minutes long")
        await h.fake.wait_for_message(ANN, text_contains="A manager will look into it")
        await h.fake.wait_for(
            lambda m: m.chat_id == MANAGER_CHAT_ID and "40 minutes" in m.text and m.edits > 0
        )

        async with h.app.db.read() as conn:
            stored = await surveys.get(conn, outcome["survey_id"])
        assert stored is not None
        assert (stored.nps, stored.ces, stored.reason, stored.status) == (
            3,
            2,
            "The queue was 40 minutes long",
            "completed",
        )
        # The finished survey has no buttons left to press.
        assert h.fake.message(ANN, survey_message.message_id).buttons == []


async def test_promoter_gets_no_alert_and_can_skip_the_reason(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        await h.start_customer(ANN)
        outcome = await h.post_visit(ANN, "pos-2")
        message = await h.survey_for(ANN)
        await h.press(ANN, message, "10")
        ces = await h.fake.wait_for(
            lambda m: m.message_id == message.message_id and len(m.callback_data) == 7
        )
        await h.press(ANN, ces, "7")
        reason = await h.fake.wait_for(
            lambda m: m.message_id == message.message_id and "like most" in m.text
        )
        await h.press(ANN, reason, "Skip")
        await h.fake.wait_for(
            lambda m: (
                m.message_id == message.message_id and "Thank you for your feedback" in m.text
            )
        )
        async with h.app.db.read() as conn:
            stored = await surveys.get(conn, outcome["survey_id"])
        assert stored is not None and stored.status == "completed" and stored.reason is None
        assert h.fake.messages_to(MANAGER_CHAT_ID) == []


async def test_survey_speaks_the_customers_language(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        await h.start_customer(BORIS, "Борис", "ru")
        await h.post_visit(BORIS, "pos-3", location="Тверская")
        message = await h.survey_for(BORIS)
        assert "Насколько вероятно" in message.text


async def test_a_strangers_press_and_a_double_press_change_nothing(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        await h.start_customer(ANN)
        await h.start_customer(BORIS, "Boris")
        outcome = await h.post_visit(ANN, "pos-4")
        message = await h.survey_for(ANN)
        data = message.button("9")["callback_data"]
        # Boris forges Ann's button in his own chat (he cannot see her message).
        await h.fake.press(BORIS, message.message_id, data, chat_id=ANN, check_button=False)
        answer = await h.fake.wait_for_call("answerCallbackQuery")
        assert answer.params.get("text") == "This button is not for you."
        await h.press(ANN, message, "9")
        await h.fake.wait_for(
            lambda m: m.message_id == message.message_id and len(m.callback_data) == 7
        )
        # The old NPS button pressed again (e.g. a slow client): refused, score unchanged.
        await h.fake.press(ANN, message.message_id, message_data_for(data, 2), check_button=False)
        await h.fake.wait_for_call(
            "answerCallbackQuery",
            lambda r: r.params.get("text") == "You have already answered this question.",
        )
        async with h.app.db.read() as conn:
            stored = await surveys.get(conn, outcome["survey_id"])
        assert stored is not None and stored.nps == 9


def message_data_for(nps_data: str, score: int) -> str:
    prefix, _, _ = nps_data.rpartition(":")
    return f"{prefix}:{score}"
