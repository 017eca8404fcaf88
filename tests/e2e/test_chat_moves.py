"""The managers' group becomes a supergroup: Telegram gives it a new chat id, and the
bot follows it, whether it learns so from the service messages or from a refused send."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from bot.chats.service import ChatDirectory
from bot.core.clock import FakeClock
from storage import chats as chat_repo
from storage.db import Database
from tests.support.fake_telegram import SentMessage
from tests.support.harness import BotHarness, running_bot

OLD = -4001  # a basic group, as a new Telegram group starts
NEW = -1004001
ALICE = 701
FIRST_CUSTOMER = 501


async def _detractor(h: BotHarness, customer: int, chat_id: int) -> SentMessage:
    """A customer answers 3; the case card that reaches `chat_id`."""
    await h.start_customer(customer)
    await h.post_visit(customer, f"pos-{customer}", location="Main St")
    survey = await h.survey_for(customer)
    await h.press(customer, survey, "3")
    card = await h.fake.wait_for(
        lambda m: m.chat_id == chat_id and "Case #" in m.text and bool(m.buttons)
    )
    await h.app.worker.drain()
    return card


def _sends_to(h: BotHarness, chat_id: int) -> int:
    return sum(r.chat_id == chat_id for r in h.fake.calls("sendMessage"))


async def _until(condition: Callable[[], bool]) -> None:
    for _ in range(250):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the condition never came true")


async def _recorded(db: Database) -> dict[int, int]:
    async with db.read() as conn:
        return await chat_repo.migrations(conn)


async def test_a_refused_alert_follows_the_group_to_its_new_id(tmp_path: Path) -> None:
    """No service message reached the bot (it was offline): the first alert into the
    old id is refused with migrate_to_chat_id and goes to the supergroup instead, as
    does everything after it, including after a restart."""
    clock = FakeClock()
    async with running_bot(tmp_path, clock, manager_chat_id=OLD) as h:
        h.fake.group(OLD)
        h.fake.user(ALICE, "Alice")
        h.fake.add_member(OLD, ALICE)
        await _detractor(h, FIRST_CUSTOMER, OLD)
        h.fake.upgrade_group(OLD, NEW, by=ALICE, announce=False)
        refused_before = _sends_to(h, OLD)

        card = await _detractor(h, FIRST_CUSTOMER + 1, NEW)
        assert "Case #2" in card.text
        assert _sends_to(h, OLD) == refused_before + 1  # the one refusal, then no more
        assert await _recorded(h.app.db) == {OLD: NEW}
        assert h.app.chats.managers == NEW

        # Alice, a member of the supergroup, can act there; /stats answers there too.
        update = await h.fake.press(
            ALICE, card.message_id, card.button("Take")["callback_data"], chat_id=NEW
        )
        answer = await h.fake.wait_for_call(
            "answerCallbackQuery",
            lambda r: str(r.params.get("callback_query_id")) == update["callback_query"]["id"],
        )
        assert "yours" in str(answer.params.get("text"))
        since = len(h.fake.sent)
        await h.fake.send_text(ALICE, "/stats", chat_id=NEW)
        await h.fake.wait_for_message(NEW, since=since)

    async with running_bot(tmp_path, clock, manager_chat_id=OLD) as h:
        h.fake.upgrade_group(h.fake.group(OLD).id, NEW, announce=False)
        await _detractor(h, FIRST_CUSTOMER + 2, NEW)
        assert _sends_to(h, OLD) == 0  # remembered: straight to the supergroup


async def test_an_edit_of_a_card_left_in_the_old_group_fails_with_the_reason(
    tmp_path: Path,
) -> None:
    """The customer's CES answer updates their card, which stayed in the old group: it
    cannot be edited there and must not be 'edited' in the new chat (the same message
    id names another message there). The edit ends failed, with why."""
    async with running_bot(tmp_path, manager_chat_id=OLD) as h:
        h.fake.group(OLD)
        await h.start_customer(FIRST_CUSTOMER)
        await h.post_visit(FIRST_CUSTOMER, "pos-1", location="Main St")
        survey = await h.survey_for(FIRST_CUSTOMER)
        await h.press(FIRST_CUSTOMER, survey, "3")
        await h.fake.wait_for(lambda m: m.chat_id == OLD and "Case #1" in m.text)
        await h.app.worker.drain()
        h.fake.upgrade_group(OLD, NEW, announce=False)

        ces = await h.fake.wait_for(
            lambda m: m.chat_id == FIRST_CUSTOMER and len(m.callback_data) == 7
        )
        await h.press(FIRST_CUSTOMER, ces, "2")
        async with h.app.db.read() as conn:
            for _ in range(200):
                row = await conn.fetch_one(
                    "SELECT status, last_error FROM outbox WHERE kind = 'alert_edit'"
                )
                if row is not None and row["status"] == "failed":
                    break
                await asyncio.sleep(0.02)
        assert row is not None and row["status"] == "failed"
        assert "supergroup -1004001" in row["last_error"]
        assert "left in the old chat" in row["last_error"]
        assert h.fake.calls("editMessageText") == [] or all(
            r.chat_id != NEW for r in h.fake.calls("editMessageText")
        )
        assert await _recorded(h.app.db) == {OLD: NEW}


async def test_the_service_messages_move_the_team_chat_before_any_send(tmp_path: Path) -> None:
    async with running_bot(tmp_path, manager_chat_id=OLD) as h:
        h.fake.group(OLD)
        h.fake.user(ALICE, "Alice")
        h.fake.add_member(OLD, ALICE)
        h.fake.upgrade_group(OLD, NEW, by=ALICE)
        await _until(lambda: h.app.chats.managers == NEW)
        assert await _recorded(h.app.db) == {OLD: NEW}

        await _detractor(h, FIRST_CUSTOMER, NEW)
        assert _sends_to(h, OLD) == 0


async def test_another_groups_move_is_not_followed(tmp_path: Path) -> None:
    """A group the bot happens to be in, not the managers', changes nothing."""
    async with running_bot(tmp_path, manager_chat_id=OLD) as h:
        h.fake.group(OLD)
        h.fake.group(-5001, "Friends")
        h.fake.upgrade_group(-5001, -1005001)
        await _until(lambda: not h.fake.pending_updates)
        await h.app.maintenance()
        assert await _recorded(h.app.db) == {}
        assert h.app.chats.managers == OLD


async def test_the_directory_resolves_both_team_chats(db: Database) -> None:
    clock = FakeClock()
    directory = ChatDirectory(db, clock, manager_chat_id=OLD, escalation_chat_id=-4002)
    assert (directory.managers, directory.escalation) == (OLD, -4002)
    assert directory.is_team_chat(-4002) and not directory.is_team_chat(NEW)

    await directory.record(OLD, NEW)
    assert directory.managers == NEW and directory.escalation == -4002
    assert directory.is_team_chat(OLD) and directory.is_team_chat(NEW)
    assert not directory.learn(OLD, NEW)  # known already

    # Another instance learns it from the database.
    other = ChatDirectory(db, clock, manager_chat_id=OLD, escalation_chat_id=OLD)
    assert other.escalation == OLD
    await other.refresh()
    assert (other.managers, other.escalation) == (NEW, NEW)
