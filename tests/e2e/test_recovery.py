"""Closing the loop, measured, end to end: a customer's "No, not fixed" reopening the
case; the figures of a scripted set of cases in /stats, the API, the digest and the
cases CSV; a detractor won back."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from storage import cases as case_repo
from tests.support.fake_telegram import SentMessage
from tests.support.harness import BotHarness, running_bot
from tests.support.settings import MANAGER_CHAT_ID

ANN = 501
ALICE = 701


async def _press(h: BotHarness, user_id: int, message: SentMessage, label: str) -> str:
    """Press the button whose label contains `label`; the callback answer's text."""
    button = message.button(label)
    update = await h.fake.press(
        user_id, message.message_id, button["callback_data"], chat_id=message.chat_id
    )
    query_id = update["callback_query"]["id"]
    answer = await h.fake.wait_for_call(
        "answerCallbackQuery", lambda r: str(r.params.get("callback_query_id")) == query_id
    )
    return str(answer.params.get("text") or "")


async def _case(h: BotHarness, case_id: int = 1) -> case_repo.Case:
    await h.app.worker.drain()
    async with h.app.db.read() as conn:
        case = await case_repo.get(conn, case_id)
    assert case is not None
    return case


async def _resolved_and_asked(h: BotHarness) -> SentMessage:
    """Ann's detractor case, taken by Alice and resolved telling Ann; 14 days later the
    follow-up question reaches Ann."""
    h.fake.user(ALICE, "Alice")
    h.fake.add_member(MANAGER_CHAT_ID, ALICE)
    await h.start_customer(ANN)
    await h.post_visit(ANN, "pos-1", location="Main St")
    await h.press(ANN, await h.survey_for(ANN), "3")
    card = await h.fake.wait_for(
        lambda m: m.chat_id == MANAGER_CHAT_ID and "Case #1" in m.text and bool(m.buttons)
    )
    await h.app.worker.drain()
    await _press(h, ALICE, card, "Take")
    card = await h.fake.wait_for(lambda m: m.message_id == card.message_id and "Alice" in m.text)
    since = len(h.fake.sent)
    await _press(h, ALICE, card, "Resolve")
    menu = await h.fake.wait_for(
        lambda m: (
            m.chat_id == MANAGER_CHAT_ID
            and any("tell the customer" in b["text"] for b in m.buttons)
        ),
        since=since,
    )
    await _press(h, ALICE, menu, "tell the customer")
    await h.fake.send_text(ALICE, "Gave a coffee", chat_id=MANAGER_CHAT_ID)
    await h.fake.wait_for(lambda m: m.chat_id == ANN and "improved" in m.text.lower())
    h.clock.advance(timedelta(days=14, minutes=1))
    await h.app.maintenance()
    return await h.fake.wait_for(
        lambda m: m.chat_id == ANN and "Did we fix it" in m.text and bool(m.buttons)
    )


async def test_a_no_reopens_the_case_tells_its_owner_and_restarts_the_sla(
    tmp_path: Path,
) -> None:
    async with running_bot(tmp_path, case_resolve_sla_hours=48, case_followup_days=14) as h:
        question = await _resolved_and_asked(h)
        since = len(h.fake.sent)
        await _press(h, ANN, question, "No")
        await h.fake.wait_for(
            lambda m: m.message_id == question.message_id and "look into it" in m.text
        )
        # Alice is told in the case's chat, mentioned, as a reply to the card.
        notice = await h.fake.wait_for(
            lambda m: m.chat_id == MANAGER_CHAT_ID and "open again" in m.text, since=since
        )
        assert f"tg://user?id={ALICE}" in notice.raw_text and "yours again" in notice.text
        case = await _case(h)
        assert notice.reply_to_message_id == case.alert_message_id
        assert case.status == "taken" and case.owner_id == ALICE and case.reopened_count == 1
        # The card has its buttons back and says it was reopened.
        card = await h.fake.wait_for(
            lambda m: m.message_id == case.alert_message_id and "Reopened" in m.text
        )
        assert any("Resolve" in b["text"] for b in card.buttons)

        # The resolve SLA runs again from the reopen: escalated once it passes.
        h.clock.advance(timedelta(hours=47))
        await h.app.maintenance()
        await h.app.worker.drain()
        assert not any("⏰" in m.text for m in h.fake.messages_to(MANAGER_CHAT_ID))
        h.clock.advance(timedelta(hours=1, minutes=1))
        await h.app.maintenance()
        await h.fake.wait_for_message(MANAGER_CHAT_ID, text_contains="⏰")

        since = len(h.fake.sent)
        await h.fake.send_text(ALICE, "/case 1", chat_id=MANAGER_CHAT_ID)
        history = await h.fake.wait_for(
            lambda m: m.chat_id == MANAGER_CHAT_ID and m.text.startswith("Case #1"), since=since
        )
        assert "reopened: the customer says it is not fixed" in history.text
