"""Walking a case end to end: the managers, a detractor's case card, pressing its
buttons and waiting for the prompts they bring."""

from __future__ import annotations

from storage import cases as case_repo
from tests.support.fake_telegram import SentMessage
from tests.support.harness import BotHarness
from tests.support.settings import MANAGER_CHAT_ID

ANN = 501
ALICE = 701
BOB = 702
STRANGER = 777


async def press(h: BotHarness, user_id: int, message: SentMessage, label: str) -> str:
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


async def detractor_case(h: BotHarness, language: str = "en") -> SentMessage:
    """Ann scores 3: the card of case #1 in the managers' chat."""
    await h.start_customer(ANN, language=language)
    await h.post_visit(ANN, "pos-1", location="Main St", staff="Olga")
    survey = await h.survey_for(ANN)
    await h.press(ANN, survey, "3")
    card = await h.fake.wait_for(
        lambda m: m.chat_id == MANAGER_CHAT_ID and "Case #1" in m.text and bool(m.buttons)
    )
    await h.app.worker.drain()
    return card


def add_managers(h: BotHarness) -> None:
    """Alice and Bob in the managers' chat; Mallory, a stranger, outside it."""
    for uid, name in ((ALICE, "Alice"), (BOB, "Bob")):
        h.fake.user(uid, name)
        h.fake.add_member(MANAGER_CHAT_ID, uid)
    h.fake.user(STRANGER, "Mallory")


async def case_one(h: BotHarness) -> case_repo.Case:
    """Case #1 as stored, once the outbox has delivered what it owes."""
    await h.app.worker.drain()
    async with h.app.db.read() as conn:
        case = await case_repo.get(conn, 1)
    assert case is not None
    return case


async def new_prompt(h: BotHarness, since: int, text: str) -> SentMessage:
    """The bot's next message with buttons in the managers' chat containing `text`."""
    return await h.fake.wait_for(
        lambda m: m.chat_id == MANAGER_CHAT_ID and text in m.text and bool(m.buttons),
        since=since,
    )


async def closed(h: BotHarness, prompt: SentMessage) -> SentMessage:
    """The prompt once it has lost its buttons."""
    await h.app.worker.drain()
    return await h.fake.wait_for(
        lambda m: (
            (m.chat_id, m.message_id) == (prompt.chat_id, prompt.message_id) and not m.buttons
        )
    )
