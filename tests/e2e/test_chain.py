"""A chain of branches end to end: each location's alerts, case threads and escalations
reach exactly its chats, and a member of one branch's chat cannot act on or see another
branch's cases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.core.clock import FakeClock
from storage import cases as case_repo
from tests.support.fake_telegram import RecordedRequest, SentMessage
from tests.support.harness import BotHarness, running_bot
from tests.support.reports import DROP_TEXT, MONDAY, answer_days_ago, maintenance_at
from tests.support.settings import MANAGER_CHAT_ID

KYIV_CHAT = -100101
LVIV_CHAT = -100102
NORTH_CHAT = -100201
TEAM_CHATS = (MANAGER_CHAT_ID, KYIV_CHAT, LVIV_CHAT, NORTH_CHAT)
ANN, BEN, CAT = 501, 502, 503
KATE, LEO = 701, 702


async def _chain(h: BotHarness) -> None:
    """Kyiv (own chat, region north with its chat), Lviv (own chat, no region), and
    the Mall (no chat of its own: the head office's)."""
    for chat_id, title in ((KYIV_CHAT, "Kyiv"), (LVIV_CHAT, "Lviv"), (NORTH_CHAT, "North")):
        h.fake.group(chat_id, title)
    for path, body in (
        ("/api/v1/regions/north", {"name": "North", "manager_chat_id": NORTH_CHAT}),
        (
            "/api/v1/locations/kyiv",
            {"name": "Kyiv", "manager_chat_id": KYIV_CHAT, "region": "north"},
        ),
        ("/api/v1/locations/lviv", {"name": "Lviv", "manager_chat_id": LVIV_CHAT}),
        ("/api/v1/locations/mall", {"name": "Mall"}),
    ):
        status, answer = await h.call("PUT", path, body)
        assert status == 201, answer
    h.fake.user(KATE, "Kate")
    h.fake.add_member(KYIV_CHAT, KATE)
    h.fake.user(LEO, "Leo")
    h.fake.add_member(LVIV_CHAT, LEO)


async def _detractor(h: BotHarness, customer: int, location: str) -> None:
    await h.start_customer(customer)
    await h.post_visit(customer, f"visit-{customer}", location=location)
    survey = await h.survey_for(customer)
    await h.press(customer, survey, "2")


def _cards(h: BotHarness, case_id: int) -> list[int]:
    """The chats holding the alert card of case #id."""
    return sorted(
        chat
        for chat in TEAM_CHATS
        for message in h.fake.messages_to(chat)
        if f"Case #{case_id}" in message.text and message.buttons
    )


async def _press(h: BotHarness, user_id: int, chat_id: int, message_id: int, data: str) -> str:
    update = await h.fake.press(user_id, message_id, data, chat_id=chat_id, check_button=False)
    query_id = str(update["callback_query"]["id"])

    def answers(r: RecordedRequest) -> bool:
        return str(r.params.get("callback_query_id")) == query_id

    answer = await h.fake.wait_for_call("answerCallbackQuery", answers)
    return str(answer.params.get("text") or "")


async def _card(h: BotHarness, chat_id: int, case_id: int) -> SentMessage:
    return await h.fake.wait_for(
        lambda m: m.chat_id == chat_id and f"Case #{case_id}" in m.text and bool(m.buttons)
    )


async def test_each_branch_hears_its_own_and_escalations_go_one_level_up(
    tmp_path: Path,
) -> None:
    async with running_bot(tmp_path) as h:
        await _chain(h)
        await _detractor(h, ANN, "kyiv")  # case 1
        await _detractor(h, BEN, "lviv")  # case 2
        await _detractor(h, CAT, "mall")  # case 3
        for case_id, chat in ((1, KYIV_CHAT), (2, LVIV_CHAT), (3, MANAGER_CHAT_ID)):
            await _card(h, chat, case_id)
        await h.settled()
        assert [_cards(h, 1), _cards(h, 2), _cards(h, 3)] == [
            [KYIV_CHAT],
            [LVIV_CHAT],
            [MANAGER_CHAT_ID],
        ]

        # The customer's reply goes into the case thread of their branch's chat.
        since = len(h.fake.sent)
        await h.fake.send_text(ANN, "The queue was 40 minutes long")
        thread = await h.fake.wait_for(lambda m: "40 minutes" in m.text, since=since)
        assert thread.chat_id == KYIV_CHAT

        # Nobody takes them: each escalates one level up, once.
        h.clock.advance(timedelta(minutes=31))
        await h.app.maintenance()
        await h.settled()
        escalated = {
            chat: sorted(
                case_id
                for case_id in (1, 2, 3)
                for message in h.fake.messages_to(chat)
                if "⏰" in message.text and f"#{case_id}" in message.text
            )
            for chat in TEAM_CHATS
        }
        assert escalated == {
            NORTH_CHAT: [1],  # Kyiv's region
            MANAGER_CHAT_ID: [2, 3],  # Lviv has no region; the Mall has no chat
            KYIV_CHAT: [],
            LVIV_CHAT: [],
        }


async def test_a_branch_cannot_act_on_or_see_another_branchs_case(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        await _chain(h)
        await _detractor(h, ANN, "kyiv")  # case 1
        await _detractor(h, BEN, "lviv")  # case 2
        kyiv_card = await _card(h, KYIV_CHAT, 1)
        lviv_card = await _card(h, LVIV_CHAT, 2)
        await h.settled()
        take_kyiv = kyiv_card.button("Take")["callback_data"]

        # Leo (Lviv's chat) presses Kyiv's Take inside his own chat: refused.
        answer = await _press(h, LEO, LVIV_CHAT, lviv_card.message_id, take_kyiv)
        assert "another branch" in answer
        # Leo is no member of Kyiv's chat: a press there is refused as a stranger's.
        answer = await _press(h, LEO, KYIV_CHAT, kyiv_card.message_id, take_kyiv)
        assert "managers' team" in answer
        async with h.app.db.read() as conn:
            case = await case_repo.get(conn, 1)
        assert case is not None and (case.status, case.owner_id) == ("new", None)

        # Kate, in Kyiv's chat, takes it.
        assert "yours" in (await _press(h, KATE, KYIV_CHAT, kyiv_card.message_id, take_kyiv))

        # /cases and /case in Lviv's chat know only Lviv's case.
        since = len(h.fake.sent)
        await h.fake.send_text(LEO, "/cases", chat_id=LVIV_CHAT)
        listing = await h.fake.wait_for(lambda m: m.chat_id == LVIV_CHAT, since=since)
        assert "#2" in listing.text and "#1" not in listing.text
        since = len(h.fake.sent)
        await h.fake.send_text(LEO, "/case 1", chat_id=LVIV_CHAT)
        history = await h.fake.wait_for(lambda m: m.chat_id == LVIV_CHAT, since=since)
        assert history.text == "This case does not exist."
        # The head office sees both.
        since = len(h.fake.sent)
        await h.fake.send_text(KATE, "/cases", chat_id=MANAGER_CHAT_ID)
        listing = await h.fake.wait_for(lambda m: m.chat_id == MANAGER_CHAT_ID, since=since)
        assert "#1" in listing.text and "#2" in listing.text


async def _answered(h: BotHarness, customer: int, location: str, score: int) -> None:
    await h.start_customer(customer)
    outcome = await h.post_visit(customer, f"visit-{customer}", location=location)
    await h.survey_for(customer)
    assert (await h.app.surveys.answer_nps(outcome["survey_id"], customer, score)).ok


async def _command(h: BotHarness, user: int, chat_id: int, text: str) -> SentMessage:
    """The bot's answer to a command: its next message in the chat that is no alert."""
    await h.settled()
    since = len(h.fake.sent)
    await h.fake.send_text(user, text, chat_id=chat_id)
    return await h.fake.wait_for(
        lambda m: m.chat_id == chat_id and "Unhappy customer" not in m.text, since=since
    )


async def test_a_branch_sees_only_its_own_figures_and_answers(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        await _chain(h)
        for customer, location, score in ((ANN, "kyiv", 10), (BEN, "kyiv", 9), (CAT, "lviv", 3)):
            await _answered(h, customer, location, score)
        await h.settled()

        mine = await _command(h, LEO, LVIV_CHAT, "/stats 30d location")
        assert "lviv" in mine.text and "kyiv" not in mine.text
        total = await _command(h, LEO, LVIV_CHAT, "/stats 30d")
        assert "0 promoters · 0 passives · 1 detractor" in total.text
        assert "• lviv:" in total.text and "kyiv" not in total.text
        refused = await _command(h, LEO, LVIV_CHAT, "/stats 30d staff")
        assert "head office" in refused.text

        export = await _command(h, LEO, LVIV_CHAT, "/export 30d")
        assert export.document is not None
        rows = export.document.decode("utf-8-sig").splitlines()[1:]
        assert len(rows) == 1 and ",lviv," in rows[0]

        everything = await _command(h, KATE, MANAGER_CHAT_ID, "/stats 30d location")
        assert "lviv" in everything.text and "kyiv" in everything.text
        export = await _command(h, KATE, MANAGER_CHAT_ID, "/export 30d")
        assert export.document is not None
        assert len(export.document.decode("utf-8-sig").splitlines()) == 1 + 3


async def test_a_branchs_nps_drop_alert_goes_to_its_own_chat(tmp_path: Path) -> None:
    clock = FakeClock(MONDAY - timedelta(days=40))
    async with running_bot(
        tmp_path, clock, min_sample=3, nps_drop_alert=15, timezone="Europe/Kyiv"
    ) as h:
        await _chain(h)
        # Kyiv: three promoters in the 28-day baseline, then 1 promoter and 2 detractors.
        for user_id, days, score in [(601, 30, 10), (602, 20, 9), (603, 9, 10)]:
            await answer_days_ago(h, user_id, days, "kyiv", score)
        for user_id, days, score in [(604, 6, 9), (605, 4, 2), (606, 1, 0)]:
            await answer_days_ago(h, user_id, days, "kyiv", score)
        await maintenance_at(h, MONDAY)
        alert = await h.fake.wait_for_message(KYIV_CHAT, text_contains=DROP_TEXT)
        assert "NPS at kyiv fell by" in alert.text
        assert not any(DROP_TEXT in m.text for m in h.fake.messages_to(MANAGER_CHAT_ID))


async def test_sla_clocks_run_by_the_shops_opening_hours(tmp_path: Path) -> None:
    """A detractor at 21:50 in a Kyiv shop that closes at 22:00: the 30-minute take SLA
    runs out at 09:20 the next morning, not at 22:20."""
    clock = FakeClock(datetime(2026, 12, 7, 19, 50, tzinfo=UTC))  # Monday 21:50 in Kyiv
    async with running_bot(tmp_path, clock) as h:
        h.fake.group(KYIV_CHAT, "Kyiv")
        hours = {day: "09:00-22:00" for day in ("mon", "tue", "wed", "thu", "fri", "sat")}
        body = {
            "name": "Kyiv",
            "manager_chat_id": KYIV_CHAT,
            "time_zone": "Europe/Kyiv",
            "opening_hours": hours,
        }
        assert (await h.call("PUT", "/api/v1/locations/kyiv", body))[0] == 201
        await _detractor(h, ANN, "kyiv")
        await _card(h, KYIV_CHAT, 1)
        await h.settled()

        def escalations() -> list[SentMessage]:
            return [m for chat in TEAM_CHATS for m in h.fake.messages_to(chat) if "⏰" in m.text]

        for moment in (
            datetime(2026, 12, 7, 20, 21, tzinfo=UTC),
            datetime(2026, 12, 8, 7, 19, tzinfo=UTC),
        ):
            clock.set(moment)  # 22:21 that night, then 09:19 the next morning
            await h.app.maintenance()
            await h.settled()
            assert escalations() == []
        clock.set(datetime(2026, 12, 8, 7, 21, tzinfo=UTC))  # 09:21 in Kyiv
        await h.app.maintenance()
        escalation = await h.fake.wait_for_message(MANAGER_CHAT_ID, text_contains="⏰")
        assert "#1" in escalation.text and len(escalations()) == 1


async def test_each_branch_gets_its_digest_on_its_clock_and_the_head_office_the_chains(
    tmp_path: Path,
) -> None:
    """DIGEST_AT tue 09:00: Kyiv's digest goes at 09:00 Kyiv time (07:00 UTC), Lviv's
    at 09:00 in the business zone (UTC, no zone of its own); the head office's digest
    has a line per location, each branch's only its own."""
    clock = FakeClock(datetime(2026, 11, 20, 12, 0, tzinfo=UTC))
    async with running_bot(tmp_path, clock, min_sample=1, digest_at="tue 09:00") as h:
        await _chain(h)
        await h.call(
            "PUT",
            "/api/v1/locations/kyiv",
            {"name": "Kyiv", "manager_chat_id": KYIV_CHAT, "time_zone": "Europe/Kyiv"},
        )
        for customer, location, score in ((ANN, "kyiv", 10), (BEN, "lviv", 3), (CAT, "mall", 9)):
            await _answered(h, customer, location, score)
        await h.settled()

        def digests(chat_id: int) -> list[SentMessage]:
            return [m for m in h.fake.messages_to(chat_id) if "Weekly digest" in m.text]

        clock.set(datetime(2026, 11, 24, 7, 0, 30, tzinfo=UTC))  # 09:00 in Kyiv
        await h.app.maintenance()
        kyiv = await h.fake.wait_for_message(KYIV_CHAT, text_contains="Weekly digest")
        assert "kyiv" in kyiv.text and "lviv" not in kyiv.text and "mall" not in kyiv.text
        await h.settled()
        assert digests(LVIV_CHAT) == [] and digests(MANAGER_CHAT_ID) == []

        clock.set(datetime(2026, 11, 24, 9, 0, 30, tzinfo=UTC))  # 09:00 UTC
        await h.app.maintenance()
        lviv = await h.fake.wait_for_message(LVIV_CHAT, text_contains="Weekly digest")
        assert "lviv" in lviv.text and "kyiv" not in lviv.text
        chain = await h.fake.wait_for_message(MANAGER_CHAT_ID, text_contains="Weekly digest")
        assert all(code in chain.text for code in ("kyiv", "lviv", "mall"))

        clock.advance(timedelta(minutes=5))
        await h.app.maintenance()
        await h.settled()
        assert [len(digests(chat)) for chat in (KYIV_CHAT, LVIV_CHAT, MANAGER_CHAT_ID)] == [
            1,
            1,
            1,
        ]
