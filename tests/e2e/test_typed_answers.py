"""What a customer types instead of tapping, and the edits of their reason: the real bot
against the fake Bot API."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.core.clock import FakeClock
from storage import surveys, topics
from storage.models import Survey
from tests.support.fake_telegram import SentMessage
from tests.support.harness import BotHarness, running_bot
from tests.support.settings import MANAGER_CHAT_ID

ANN = 501
BORIS = 502


async def _stored(h: BotHarness, survey_id: int) -> Survey:
    async with h.app.db.read() as conn:
        survey = await surveys.get(conn, survey_id)
    assert survey is not None
    return survey


async def _counters(h: BotHarness) -> dict[str, Any]:
    async with h.app.db.read() as conn:
        row = await conn.fetch_one(
            "SELECT answered, passives, detractors, ces_sum, ces_count FROM"
            " daily_segment_rollups WHERE kind = 'total'"
        )
    return dict(row or {})


async def _open_survey(h: BotHarness, user: int, visit: str) -> tuple[int, SentMessage]:
    survey_id = int((await h.post_visit(user, visit, location="Main St"))["survey_id"])
    return survey_id, await h.survey_for(user)


async def test_a_typed_score_is_taken_like_the_tap(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        await h.start_customer(ANN)
        survey_id, message = await _open_survey(h, ANN, "pos-1")
        await h.fake.send_text(ANN, " 7/10 ")
        # The survey message moves on to the CES question with its buttons, as on a tap.
        ces = await h.fake.wait_for(
            lambda m: m.message_id == message.message_id and len(m.callback_data) == 7
        )
        assert ces.text.startswith("Your score: 7")
        await h.fake.send_text(ANN, "6")
        reason = await h.fake.wait_for(
            lambda m: m.message_id == message.message_id and "earn a 10" in m.text
        )
        assert [b["text"] for b in reason.buttons] == ["Skip"]
        stored = await _stored(h, survey_id)
        assert (stored.nps, stored.ces, stored.step) == (7, 6, "reason")
        assert await _counters(h) == {
            "answered": 1,
            "passives": 1,
            "detractors": 0,
            "ces_sum": 6,
            "ces_count": 1,
        }
        # At the reason step a number is the reason.
        await h.fake.send_text(ANN, "7")
        await h.fake.wait_for_message(ANN, text_contains="Thank you for your feedback")
        assert (await _stored(h, survey_id)).reason == "7"


async def test_a_typed_detractor_score_alerts_the_managers(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        await h.start_customer(ANN)
        survey_id, _ = await _open_survey(h, ANN, "pos-1")
        await h.fake.send_text(ANN, "3")
        await h.fake.wait_for_message(MANAGER_CHAT_ID, text_contains="NPS: 3")
        assert (await _stored(h, survey_id)).nps == 3


async def test_text_that_is_no_score_gets_a_hint_in_the_customers_language(
    tmp_path: Path,
) -> None:
    async with running_bot(tmp_path) as h:
        await h.start_customer(BORIS, "Борис", "ru")
        survey_id, message = await _open_survey(h, BORIS, "pos-1")
        for text in ("всё отлично", "11", "7/5"):
            since = len(h.fake.sent)
            await h.fake.send_text(BORIS, text)
            await h.fake.wait_for_message(BORIS, text_contains="число от 0 до 10", since=since)
        stored = await _stored(h, survey_id)
        assert (stored.nps, stored.step) == (None, "nps")
        assert len(h.fake.message(BORIS, message.message_id).callback_data) == 11
        # At the CES step a number off its scale gets the CES hint.
        await h.fake.send_text(BORIS, "9")
        await h.fake.wait_for(
            lambda m: m.message_id == message.message_id and len(m.callback_data) == 7
        )
        await h.fake.send_text(BORIS, "9")
        await h.fake.wait_for_message(BORIS, text_contains="число от 1 до 7")
        assert (await _stored(h, survey_id)).ces is None


async def test_words_at_the_ces_step_are_the_reason(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        await h.start_customer(ANN)
        survey_id, message = await _open_survey(h, ANN, "pos-1")
        await h.press(ANN, message, "8")
        await h.fake.wait_for(
            lambda m: m.message_id == message.message_id and len(m.callback_data) == 7
        )
        await h.fake.send_text(ANN, "Coffee was cold")
        await h.fake.wait_for_message(ANN, text_contains="Thank you for your feedback")
        stored = await _stored(h, survey_id)
        assert (stored.nps, stored.ces, stored.reason, stored.status) == (
            8,
            None,
            "Coffee was cold",
            "completed",
        )
        assert h.fake.message(ANN, message.message_id).buttons == []


async def test_a_tap_and_a_typed_score_racing_store_one(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        await h.start_customer(ANN)
        survey_id, message = await _open_survey(h, ANN, "pos-1")
        await asyncio.gather(h.press(ANN, message, "2"), h.fake.send_text(ANN, "9"))
        await h.fake.wait_for(
            lambda m: m.message_id == message.message_id and len(m.callback_data) == 7
        )
        await h.settled()
        stored = await _stored(h, survey_id)
        assert stored.nps in (2, 9) and stored.ces is None
        counters = await _counters(h)
        assert counters["answered"] == 1


async def test_a_redelivered_typed_score_counts_once(tmp_path: Path) -> None:
    async with running_bot(tmp_path, webhook=True) as h:
        await h.start_customer(ANN)
        survey_id, message = await _open_survey(h, ANN, "pos-1")
        update = await h.fake.send_text(ANN, "9")
        await h.fake.wait_for(
            lambda m: m.message_id == message.message_id and len(m.callback_data) == 7
        )
        await h.fake.wait_for_webhook_delivery(update["update_id"])
        h.fake.redeliver(update["update_id"])
        # The webhook answers once the update was handled: the copy must do nothing.
        second = await h.fake.wait_for_webhook_delivery(update["update_id"], count=2)
        assert second.status == 200
        await h.settled()
        # 9 is off the CES scale: a second handling would hint and count again.
        assert h.fake.messages_to(ANN)[-1].message_id == message.message_id
        assert (await _stored(h, survey_id)).nps == 9
        assert (await _counters(h))["answered"] == 1


async def _answer_as_detractor(h: BotHarness, reason: str) -> tuple[int, int]:
    survey_id, message = await _open_survey(h, ANN, "pos-1")
    await h.press(ANN, message, "2")
    ces = await h.fake.wait_for(
        lambda m: m.message_id == message.message_id and len(m.callback_data) == 7
    )
    await h.press(ANN, ces, "3")
    await h.fake.wait_for(lambda m: m.message_id == message.message_id and "went wrong" in m.text)
    sent = await h.fake.send_text(ANN, reason)
    await h.fake.wait_for_message(ANN, text_contains="A manager will look into it")
    await h.fake.wait_for(lambda m: m.chat_id == MANAGER_CHAT_ID and reason in m.text)
    await h.settled()
    return survey_id, int(sent["message"]["message_id"])


def _webhooks() -> dict[str, Any]:
    return {
        "webhooks": json.dumps(
            {
                "crm": {
                    "url": "http://127.0.0.1:9/hook",
                    "secret": "whsec_" + "c2VlZGVkLXNlY3JldC1mb3ItdGVzdHMtMDEyMzQ1",
                    "events": ["response.updated"],
                }
            }
        ),
        "webhook_allow_http": True,
    }


async def _reason_events(h: BotHarness) -> list[str]:
    async with h.app.db.read() as conn:
        rows = await conn.fetch_all(
            "SELECT payload FROM webhook_deliveries WHERE event = 'response.updated' ORDER BY id"
        )
    found = []
    for row in rows:
        response = json.loads(row["payload"])["data"]["response"]
        if response.get("changed") == ["reason"]:
            found.append(response["reason"])
    return found


async def test_an_edited_reason_replaces_the_stored_one_while_open(tmp_path: Path) -> None:
    async with running_bot(tmp_path, FakeClock(), **_webhooks()) as h:
        await h.start_customer(ANN)
        survey_id, message_id = await _answer_as_detractor(h, "The queue was long")
        assert await _topics(h, survey_id) == ["wait"]
        await h.fake.edit_text(ANN, message_id, "The cashier was rude")
        # The managers' card shows the edited reason.
        await h.fake.wait_for(
            lambda m: m.chat_id == MANAGER_CHAT_ID and "cashier was rude" in m.text and m.edits > 0
        )
        assert (await _stored(h, survey_id)).reason == "The cashier was rude"
        assert await _reason_events(h) == ["The queue was long", "The cashier was rude"]
        # The reason's topics are read again.
        after = await _topics(h, survey_id)
        assert "staff_attitude" in after and "wait" not in after


async def _topics(h: BotHarness, survey_id: int) -> list[str]:
    async with h.app.db.read() as conn:
        return sorted(await topics.of_survey(conn, survey_id))


async def test_an_edit_after_the_survey_closed_changes_nothing(tmp_path: Path) -> None:
    clock = FakeClock()
    async with running_bot(tmp_path, clock, **_webhooks()) as h:
        await h.start_customer(ANN)
        survey_id, message_id = await _answer_as_detractor(h, "The queue was long")
        # Another message's edit is nothing either.
        other = await h.fake.send_text(ANN, "/help")
        await h.fake.wait_for_message(ANN, text_contains="/forget")
        clock.advance(timedelta(hours=24, seconds=1))
        await h.fake.edit_text(ANN, message_id, "Never mind")
        await h.fake.edit_text(ANN, int(other["message"]["message_id"]), "/help me")
        since = len(h.fake.sent)
        await h.fake.send_text(ANN, "/help")  # handled after both edits
        await h.fake.wait_for_message(ANN, text_contains="/forget", since=since)
        await h.settled()
        assert (await _stored(h, survey_id)).reason == "The queue was long"
        assert await _reason_events(h) == ["The queue was long"]
        card = h.fake.messages_to(MANAGER_CHAT_ID)[0]
        assert "Never mind" not in card.text
