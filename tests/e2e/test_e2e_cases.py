"""Closing the loop end to end: the case card, taking, talking to the customer through
the bot, escalation, resolution with thanks, the follow-up, /cases and /case."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from tests.support.cases import (
    ALICE,
    ANN,
    BOB,
    STRANGER,
    add_managers,
    case_one,
    closed,
    detractor_case,
    new_prompt,
    press,
)
from tests.support.fake_telegram import RecordedRequest
from tests.support.harness import BotHarness, running_bot
from tests.support.settings import MANAGER_CHAT_ID


async def test_the_whole_loop(tmp_path: Path) -> None:
    async with running_bot(tmp_path, case_take_sla_minutes=30, case_followup_days=14) as h:
        add_managers(h)
        card = await detractor_case(h)
        assert [b["text"] for b in card.buttons] == ["🙋 Take", card.buttons[1]["text"]]
        assert "New" in card.text and "Main St" in card.text

        # A stranger's press is refused and changes nothing.
        assert "managers' team" in await press(h, STRANGER, card, "Take")
        assert (await case_one(h)).status == "new"

        # The SLA passes while nobody takes it: one escalation post with a mention.
        h.clock.advance(timedelta(minutes=31))
        await h.app.maintenance()
        escalation = await h.fake.wait_for_message(MANAGER_CHAT_ID, text_contains="⏰")
        assert "#1" in escalation.text and "tg://user?id=900" in escalation.raw_text
        await h.app.maintenance()
        await h.app.worker.drain()
        assert sum("⏰" in m.text for m in h.fake.messages_to(MANAGER_CHAT_ID)) == 1

        assert "yours" in await press(h, ALICE, card, "Take")
        card = await h.fake.wait_for(
            lambda m: m.message_id == card.message_id and "Alice" in m.text
        )
        assert "Taken by Alice" in card.text
        labels = [b["text"] for b in card.buttons]
        assert any("Write" in label for label in labels) and "🙋 Take" not in labels
        # Bob opens the resolve menu, but choosing in it is refused: Alice owns the case.
        since = len(h.fake.sent)
        assert await press(h, BOB, card, "Resolve") == ""
        menu = await h.fake.wait_for_message(MANAGER_CHAT_ID, text_contains="told", since=since)
        assert "Only the manager" in await press(h, BOB, menu, "tell the customer")
        assert (await case_one(h)).status == "taken"

        await h.fake.send_text(BOB, "/cases", chat_id=MANAGER_CHAT_ID)
        listing = await h.fake.wait_for_message(
            MANAGER_CHAT_ID, text_contains="Alice", since=since
        )
        assert "#1" in listing.text

        # Alice writes to the customer: it reaches Ann from the bot.
        await press(h, ALICE, card, "Write")
        await h.fake.send_text(
            ALICE, "Sorry! Come back for a free coffee", chat_id=MANAGER_CHAT_ID
        )
        to_ann = await h.fake.wait_for_message(ANN, text_contains="free coffee")
        assert to_ann.chat_id == ANN

        # Ann's reply appears in the case thread, as a reply to the card.
        await h.fake.send_text(ANN, "Thanks, I will")
        thread = await h.fake.wait_for_message(MANAGER_CHAT_ID, text_contains="I will")
        assert thread.reply_to_message_id == card.message_id and "Case #1" in thread.text

        # Alice replies to the card directly: also sent to the customer.
        await h.fake.send_text(
            ALICE, "See you tomorrow", chat_id=MANAGER_CHAT_ID, reply_to_message_id=card.message_id
        )
        await h.fake.wait_for_message(ANN, text_contains="See you tomorrow")

        # Resolve with a note, telling the customer.
        since = len(h.fake.sent)
        await press(h, ALICE, card, "Resolve")
        menu = await h.fake.wait_for(
            lambda m: (
                m.chat_id == MANAGER_CHAT_ID
                and any("tell the customer" in b["text"] for b in m.buttons)
            ),
            since=since,
        )
        await press(h, ALICE, menu, "tell the customer")
        await h.fake.send_text(ALICE, "Gave a coffee, trained the staff", chat_id=MANAGER_CHAT_ID)
        await h.fake.wait_for(lambda m: m.chat_id == ANN and "improved" in m.text.lower())
        card = await h.fake.wait_for(
            lambda m: m.message_id == card.message_id and "Resolved" in m.text
        )
        assert card.buttons == []
        assert (await case_one(h)).status == "resolved"

        # After CASE_FOLLOWUP_DAYS the customer is asked, and the answer is stored.
        h.clock.advance(timedelta(days=14, minutes=1))
        await h.app.maintenance()
        question = await h.fake.wait_for(
            lambda m: m.chat_id == ANN and "Did we fix it" in m.text and bool(m.buttons)
        )
        await press(h, ANN, question, "Yes")
        await h.fake.wait_for(lambda m: m.message_id == question.message_id and "glad" in m.text)
        assert (await case_one(h)).followup_answer == "yes"

        since = len(h.fake.sent)
        await h.fake.send_text(ALICE, "/case 1", chat_id=MANAGER_CHAT_ID)
        history = await h.fake.wait_for(
            lambda m: m.chat_id == MANAGER_CHAT_ID and m.text.startswith("Case #1"), since=since
        )
        assert "free coffee" in history.text and "trained the staff" in history.text


async def test_second_manager_is_refused_with_the_owner_name(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        add_managers(h)
        card = await detractor_case(h)
        await press(h, ALICE, card, "Take")
        assert "Alice" in await press(h, BOB, card, "Take")
        case = await case_one(h)
        assert (case.status, case.owner_id) == ("taken", ALICE)
        # Bob may not write to Alice's customer either.
        card = await h.fake.wait_for(
            lambda m: m.message_id == card.message_id and "Alice" in m.text
        )
        assert await press(h, BOB, card, "Write") != ""


async def _state(h: BotHarness) -> tuple[object, ...]:
    """Everything a press could change: the case row, its history and the outbox."""
    await h.app.worker.drain()
    async with h.app.db.read() as conn:
        case = await conn.fetch_one("SELECT * FROM cases WHERE id = 1")
        events = await conn.fetch_one("SELECT COUNT(*) AS n FROM case_events")
        queued = await conn.fetch_one("SELECT COUNT(*) AS n FROM outbox")
    assert case is not None and events is not None and queued is not None
    return dict(case), events["n"], queued["n"]


async def test_a_stranger_is_told_only_managers_may_act_and_nothing_changes(
    tmp_path: Path,
) -> None:
    async with running_bot(tmp_path) as h:
        add_managers(h)
        card = await detractor_case(h)
        before = await _state(h)
        refusal = await press(h, STRANGER, card, "Take")
        assert refusal == "Only the managers' team can act on cases."
        refusal = await press(h, STRANGER, card, "Close")
        assert refusal == "Only the managers' team can act on cases."
        assert await _state(h) == before
        assert h.fake.message(MANAGER_CHAT_ID, card.message_id).edits == 0

        await press(h, ALICE, card, "Take")
        card = await h.fake.wait_for(
            lambda m: m.message_id == card.message_id and "Alice" in m.text
        )
        before = await _state(h)
        sent = len(h.fake.sent)
        for label in ("Write", "Templates", "Resolve", "Close"):
            assert "managers' team" in await press(h, STRANGER, card, label)
        assert await _state(h) == before
        assert len(h.fake.sent) == sent, "no prompt or menu for a stranger"
        # A manager who is not the owner keeps the owner-only answer.
        assert "Only the manager who took" in await press(h, BOB, card, "Write")

        # The card's buttons pressed outside the managers' chat (a forwarded card).
        data = card.button("Write")["callback_data"]
        for user_id, expected in ((STRANGER, "managers' team"), (BOB, "managers' chat")):
            await h.start_customer(user_id, name="Someone")
            private = h.fake.messages_to(user_id)[-1]
            update = await h.fake.press(
                user_id, private.message_id, data, chat_id=user_id, check_button=False
            )
            query_id = update["callback_query"]["id"]

            def answers_the_press(r: RecordedRequest, q: str = query_id) -> bool:
                return str(r.params.get("callback_query_id")) == q

            answer = await h.fake.wait_for_call("answerCallbackQuery", answers_the_press)
            assert expected in str(answer.params.get("text"))
        assert (await case_one(h)).pending_action is None


async def test_the_customer_hears_once_per_turn_that_their_reply_reached_the_team(
    tmp_path: Path,
) -> None:
    async with running_bot(tmp_path) as h:
        add_managers(h)
        card = await detractor_case(h, language="uk")
        await press(h, ALICE, card, "Take")
        card = await h.fake.wait_for(
            lambda m: m.message_id == card.message_id and "Alice" in m.text
        )
        await press(h, ALICE, card, "Write")
        await h.fake.send_text(ALICE, "Вибачте, будь ласка", chat_id=MANAGER_CHAT_ID)
        await h.fake.wait_for_message(ANN, text_contains="Вибачте")

        async def ann_says(*texts: str) -> int:
            """Ann's messages reach the thread; how many acknowledgements she has had."""
            for text in texts:
                await h.fake.send_text(ANN, text)
                await h.fake.wait_for_message(MANAGER_CHAT_ID, text_contains=text)
            await h.settled()
            return sum("передано команді" in m.text for m in h.fake.messages_to(ANN))

        assert await ann_says("Черга", "була", "сорок хвилин") == 1
        assert (
            h.fake.messages_to(ANN)[-1].text == "✅ Дякуємо! Ваше повідомлення передано команді."
        )
        # The manager answers: her next message is a new turn.
        await h.fake.send_text(
            ALICE,
            "Що ми можемо зробити?",
            chat_id=MANAGER_CHAT_ID,
            reply_to_message_id=card.message_id,
        )
        await h.fake.wait_for_message(ANN, text_contains="Що ми можемо")
        assert await ann_says("Знижку", "наступного разу") == 2
        # So is one after an hour of her own silence.
        h.clock.advance(timedelta(minutes=61))
        assert await ann_says("Ви тут?") == 3


async def test_prompts_lose_their_buttons_once_used(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        add_managers(h)
        card = await detractor_case(h)
        await press(h, ALICE, card, "Take")
        card = await h.fake.wait_for(
            lambda m: m.message_id == card.message_id and "Alice" in m.text
        )

        # Resolve: the menu shows the choice and keeps no buttons.
        since = len(h.fake.sent)
        await press(h, ALICE, card, "Resolve")
        menu = await new_prompt(h, since, "should the customer be told")
        notify_data = menu.button("tell the customer")["callback_data"]
        since = len(h.fake.sent)
        await press(h, ALICE, menu, "tell the customer")
        menu = await closed(h, menu)
        assert menu.text.endswith("➡️ ✅ Resolve and tell the customer")
        note = await new_prompt(h, since, "what was done")
        # Cancel: the prompt says so and keeps no buttons; a second press is harmless.
        cancel_data = note.button("Cancel")["callback_data"]
        assert await press(h, ALICE, note, "Cancel") == "Cancelled."
        note = await closed(h, note)
        assert note.text.endswith("Cancelled.")
        update = await h.fake.press(
            ALICE, note.message_id, cancel_data, chat_id=MANAGER_CHAT_ID, check_button=False
        )
        query_id = update["callback_query"]["id"]
        again = await h.fake.wait_for_call(
            "answerCallbackQuery", lambda r: str(r.params.get("callback_query_id")) == query_id
        )
        assert again.params.get("text") == "Cancelled."
        assert (await case_one(h)).status == "taken"

        # Write: once the text is sent, its prompt loses the Cancel button.
        since = len(h.fake.sent)
        await press(h, ALICE, card, "Write")
        write = await new_prompt(h, since, "Write your message")
        await h.fake.send_text(ALICE, "We are on it", chat_id=MANAGER_CHAT_ID)
        await h.fake.wait_for_message(ANN, text_contains="We are on it")
        await closed(h, write)

        # A template: the menu shows the pick; asking again retires the earlier prompt.
        since = len(h.fake.sent)
        await press(h, ALICE, card, "Templates")
        templates = await new_prompt(h, since, "Pick a template")
        since = len(h.fake.sent)
        await press(h, ALICE, templates, "2. Apologise")
        assert (await closed(h, templates)).text.endswith("➡️ 2. Apologise")
        template = await new_prompt(h, since, "the customer will get this message")
        assert "sorry" in template.text
        since = len(h.fake.sent)
        await press(h, ALICE, card, "Write")
        write = await new_prompt(h, since, "Write your message")
        await closed(h, template)

        # Bob cannot cancel Alice's live prompt: it keeps its button, her text still goes.
        answer = await press(h, BOB, write, "Cancel")
        assert answer == "Only the manager who started this can cancel it."
        assert h.fake.message(MANAGER_CHAT_ID, write.message_id).buttons
        await h.fake.send_text(ALICE, "Come back tomorrow", chat_id=MANAGER_CHAT_ID)
        await h.fake.wait_for_message(ANN, text_contains="Come back tomorrow")
        await closed(h, write)

        # Resolved through a fresh menu; the old, used menu answers that it is over.
        since = len(h.fake.sent)
        await press(h, ALICE, card, "Resolve")
        menu2 = await new_prompt(h, since, "should the customer be told")
        since = len(h.fake.sent)
        await press(h, ALICE, menu2, "without telling")
        note = await new_prompt(h, since, "what was done")
        await h.fake.send_text(ALICE, "Talked to the staff", chat_id=MANAGER_CHAT_ID)
        await closed(h, note)
        assert (await case_one(h)).status == "resolved"
        sent = len(h.fake.sent)
        update = await h.fake.press(
            ALICE, menu.message_id, notify_data, chat_id=MANAGER_CHAT_ID, check_button=False
        )
        query_id = update["callback_query"]["id"]
        late = await h.fake.wait_for_call(
            "answerCallbackQuery", lambda r: str(r.params.get("callback_query_id")) == query_id
        )
        assert late.params.get("text") == "This case is already closed."
        await h.app.worker.drain()
        assert len(h.fake.sent) == sent, "no new prompt for a finished case"
