"""Unprompted feedback end to end: a customer who writes when no survey asks them
anything and no case of theirs is open is thanked, and the managers of their latest
visit's location (the head office without one) get a case without a score, which
later messages join and which they work with the buttons of any case."""

from __future__ import annotations

from pathlib import Path

from storage import cases as case_repo
from tests.support.cases import ALICE, ANN, add_managers, case_one, press
from tests.support.fake_telegram import SentMessage
from tests.support.harness import BotHarness, running_bot
from tests.support.settings import MANAGER_CHAT_ID

THANKS = "Thank you for writing to us"


async def _finished_promoter_survey(h: BotHarness) -> None:
    """Ann visits Main St and answers 10, 7, Skip: no case, nothing left to answer."""
    await h.start_customer(ANN)
    await h.post_visit(ANN, "pos-1", location="Main St", staff="Olga")
    survey = await h.survey_for(ANN)
    await h.press(ANN, survey, "10")
    ces = await h.fake.wait_for(
        lambda m: m.message_id == survey.message_id and len(m.callback_data) == 7
    )
    await h.press(ANN, ces, "7")
    reason = await h.fake.wait_for(
        lambda m: m.message_id == survey.message_id and "Skip" in str(m.buttons)
    )
    await h.press(ANN, reason, "Skip")
    await h.fake.wait_for(lambda m: m.message_id == survey.message_id and not m.buttons)
    await h.settled()


async def _card(h: BotHarness) -> SentMessage:
    return await h.fake.wait_for(
        lambda m: m.chat_id == MANAGER_CHAT_ID and "Unprompted feedback" in m.text
    )


async def test_an_unprompted_message_becomes_a_case_a_second_joins_it(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        add_managers(h)
        await _finished_promoter_survey(h)
        await h.fake.send_text(ANN, "The new menu is great, but the music is too loud")
        await h.fake.wait_for_message(ANN, text_contains=THANKS)
        card = await _card(h)
        assert "music is too loud" in card.text and "Main St" in card.text
        assert "Case #1" in card.text and "NPS" not in card.text
        assert card.buttons[0]["text"] == "🙋 Take"

        # A second message joins the case: in its thread, stored, no second card.
        await h.fake.send_text(ANN, "And the door is broken")
        thread = await h.fake.wait_for_message(MANAGER_CHAT_ID, text_contains="door is broken")
        assert "Case #1" in thread.text and thread.reply_to_message_id == card.message_id
        await h.settled()
        texts = [m.text for m in h.fake.messages_to(ANN)]
        assert sum(THANKS in text for text in texts) == 1
        assert sum("Unprompted" in m.text for m in h.fake.messages_to(MANAGER_CHAT_ID)) == 1
        async with h.app.db.read() as conn:
            events = await case_repo.events(conn, 1)
            cases = await conn.fetch_all("SELECT id, survey_id FROM cases")
        assert [(e.kind, e.text) for e in events] == [
            ("opened", None),
            ("message_in", "The new menu is great, but the music is too loud"),
            ("message_in", "And the door is broken"),
        ]
        assert cases == [{"id": 1, "survey_id": None}]

        # The managers work it like any case: take, write to the customer, resolve.
        assert "yours" in await press(h, ALICE, card, "Take")
        card = await h.fake.wait_for(
            lambda m: m.message_id == card.message_id and "Alice" in m.text
        )
        assert "Unprompted feedback" in card.text
        await press(h, ALICE, card, "Write")
        await h.fake.send_text(ALICE, "Thank you! We will fix the door", chat_id=MANAGER_CHAT_ID)
        await h.fake.wait_for_message(ANN, text_contains="fix the door")
        since = len(h.fake.sent)
        await press(h, ALICE, card, "Resolve")
        menu = await h.fake.wait_for(
            lambda m: m.chat_id == MANAGER_CHAT_ID and "tell the customer" in str(m.buttons),
            since=since,
        )
        await press(h, ALICE, menu, "without telling")
        await h.fake.send_text(ALICE, "Door fixed", chat_id=MANAGER_CHAT_ID)
        await h.fake.wait_for(lambda m: m.message_id == card.message_id and "Resolved" in m.text)
        assert (await case_one(h)).status == "resolved"

        # Not an NPS answer nor a detractor's case: the figures are as before.
        status, body = await h.call("GET", "/api/v1/stats")
        assert status == 200
        total = body["total"]
        assert (total["n"], total["promoters"], total["detractors"]) == (1, 1, 0)
        closing = body["recovery"]["total"]
        assert (closing["opened"], closing["taken"]["count"]) == (0, 0)
        assert closing["resolved"]["count"] == 0 and body["recovery"]["locations"] == []


async def test_media_without_a_visit_reaches_the_head_office_once(tmp_path: Path) -> None:
    async with running_bot(tmp_path, webhook=True) as h:
        await h.start_customer(ANN)
        # Opted out of surveys, still heard when they write.
        await h.fake.send_text(ANN, "/stop")
        await h.fake.wait_for(lambda m: m.chat_id == ANN and "any more" in m.text)
        help_update = await h.fake.send_text(ANN, "/help")
        await h.fake.wait_for_webhook_delivery(help_update["update_id"])
        update = await h.fake.send_media(ANN, "voice", duration=75)
        await h.fake.wait_for_message(ANN, text_contains=THANKS)
        card = await _card(h)
        assert "[voice 1:15]" in card.text and "head office" in card.text
        copy = await h.fake.wait_for(
            lambda m: m.chat_id == MANAGER_CHAT_ID and m.method == "copyMessage"
        )
        assert copy.media == "voice" and copy.reply_to_message_id == card.message_id
        assert h.fake.calls("copyMessage")[0].params["from_chat_id"] == ANN

        await h.fake.wait_for_webhook_delivery(update["update_id"])
        h.fake.redeliver(update["update_id"])
        assert (await h.fake.wait_for_webhook_delivery(update["update_id"], count=2)).status == 200
        await h.settled()
        assert len(h.fake.calls("copyMessage")) == 1
        assert sum("Unprompted" in m.text for m in h.fake.messages_to(MANAGER_CHAT_ID)) == 1
        assert sum(THANKS in m.text for m in h.fake.messages_to(ANN)) == 1
        async with h.app.db.read() as conn:
            rows = await conn.fetch_all("SELECT id, unprompted_location FROM cases")
        assert rows == [{"id": 1, "unprompted_location": ""}]
