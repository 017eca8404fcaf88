"""Closing the loop, measured, end to end: a customer's "No, not fixed" reopening the
case; the figures of a scripted set of cases in /stats, the API, the digest and the
cases CSV; a detractor won back."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.reports.recovery import load_recovery
from bot.reports.service import Period
from tests.support.cases import ALICE, ANN, BOB, add_managers, case_one, detractor_case, press
from tests.support.fake_telegram import SentMessage
from tests.support.harness import BotHarness, running_bot
from tests.support.settings import ADMIN_ID, API_TOKEN, MANAGER_CHAT_ID


async def _resolved_and_asked(h: BotHarness) -> SentMessage:
    """Ann's detractor case, taken by Alice and resolved telling Ann; 14 days later the
    follow-up question reaches Ann."""
    add_managers(h)
    card = await detractor_case(h)
    await h.app.worker.drain()
    await press(h, ALICE, card, "Take")
    card = await h.fake.wait_for(lambda m: m.message_id == card.message_id and "Alice" in m.text)
    await _menu_choice(h, ALICE, card, "tell the customer")
    await _send_and_wait(h, ALICE, "Gave a coffee")
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
        await press(h, ANN, question, "No")
        await h.fake.wait_for(
            lambda m: m.message_id == question.message_id and "look into it" in m.text
        )
        # Alice is told in the case's chat, mentioned, as a reply to the card.
        notice = await h.fake.wait_for(
            lambda m: m.chat_id == MANAGER_CHAT_ID and "open again" in m.text, since=since
        )
        assert f"tg://user?id={ALICE}" in notice.raw_text and "yours again" in notice.text
        case = await case_one(h)
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


# --- the figures of a scripted set of cases ------------------------------------------

BEN, CAT, DAN = 502, 503, 504


async def _detractor(h: BotHarness, user_id: int, location: str, visit: str) -> SentMessage:
    """A customer visits `location`, answers 3: the case's card in the managers' chat."""
    await h.start_customer(user_id)
    await h.post_visit(user_id, visit, location=location)
    since = len(h.fake.sent)
    await h.press(user_id, await h.survey_for(user_id), "3")
    card = await h.fake.wait_for(
        lambda m: m.chat_id == MANAGER_CHAT_ID and "Case #" in m.text and bool(m.buttons),
        since=since,
    )
    await h.app.worker.drain()
    return card


async def _take(h: BotHarness, user_id: int, card: SentMessage) -> SentMessage:
    await press(h, user_id, card, "Take")
    return await h.fake.wait_for(lambda m: m.message_id == card.message_id and "Taken" in m.text)


async def _menu_choice(h: BotHarness, user_id: int, card: SentMessage, choice: str) -> None:
    since = len(h.fake.sent)
    await press(h, user_id, card, "Resolve")
    menu = await h.fake.wait_for(
        lambda m: m.chat_id == MANAGER_CHAT_ID and any(choice in b["text"] for b in m.buttons),
        since=since,
    )
    await press(h, user_id, menu, choice)


async def _text_after(
    h: BotHarness, user_id: int, card: SentMessage, button: str, text: str
) -> None:
    """Press `button` (Write, Close) and send the text it asks for; wait for the answer."""
    since = len(h.fake.sent)
    await press(h, user_id, card, button)
    await h.fake.wait_for(lambda m: m.chat_id == MANAGER_CHAT_ID and "#" in m.text, since=since)
    await _send_and_wait(h, user_id, text)


async def _send_and_wait(h: BotHarness, user_id: int, text: str) -> None:
    since = len(h.fake.sent)
    await h.fake.send_text(user_id, text, chat_id=MANAGER_CHAT_ID)
    await h.fake.wait_for(lambda m: m.chat_id == MANAGER_CHAT_ID, since=since)
    await h.app.worker.drain()


async def _scripted_cases(h: BotHarness) -> None:
    """Four detractors at t0 (three at Main St, one at Oak Rd), then:
    case 1 taken after 4 min, written to after 12 min, resolved telling the customer
    after 2 h 30 min; case 2 taken after 50 min, resolved silently after 20 h; case 3
    closed without a fix after 3 days, never taken; case 4 left alone."""
    add_managers(h)
    t0 = h.clock.now()
    one = await _detractor(h, ANN, "Main St", "v-ann-1")
    two = await _detractor(h, BEN, "Main St", "v-ben-1")
    three = await _detractor(h, CAT, "Main St", "v-cat-1")
    await _detractor(h, DAN, "Oak Rd", "v-dan-1")

    h.clock.set(t0 + timedelta(minutes=4))
    one = await _take(h, ALICE, one)
    h.clock.set(t0 + timedelta(minutes=12))
    await _text_after(h, ALICE, one, "Write", "Sorry, we will fix it")
    h.clock.set(t0 + timedelta(minutes=50))
    two = await _take(h, BOB, two)
    h.clock.set(t0 + timedelta(hours=2, minutes=30))
    await _menu_choice(h, ALICE, one, "tell the customer")
    await _send_and_wait(h, ALICE, "Gave a coffee")
    h.clock.set(t0 + timedelta(hours=20))
    await _menu_choice(h, BOB, two, "without telling")
    await _send_and_wait(h, BOB, "Fixed the till")
    h.clock.set(t0 + timedelta(days=3))
    await _text_after(h, BOB, three, "Close", "A prank")


async def test_figures_of_scripted_cases_match_hand_computed_values(tmp_path: Path) -> None:
    async with running_bot(tmp_path, min_sample=2, survey_cooldown_days=0) as h:
        await _scripted_cases(h)
        since = len(h.fake.sent)
        await h.fake.send_text(ALICE, "/stats 7d location", chat_id=MANAGER_CHAT_ID)
        stats = await h.fake.wait_for(
            lambda m: m.chat_id == MANAGER_CHAT_ID and "Closing the loop" in m.text, since=since
        )
        text = stats.text
        # By hand: taken 4 min (bucket 5 min) and 50 min (1 h): p50 is the 1st of 2, p90
        # the 2nd. Contacted: 12 min (15 min). Resolved: 2 h 30 (3 h), 20 h (1 d), 3 d
        # (3 d): p50 the 2nd of 3, p90 the 3rd.
        assert "4 detractors · 4 cases opened" in text
        assert "Taken: 2 of 4 (50%) · half within 5 min, 90% within 1 h" in text
        assert "Customer contacted: 1 of 4 (25%) · half within 15 min, 90% within 15 min" in text
        assert "Resolved: 3 of 4 (75%) · half within 1 d, 90% within 3 d" in text
        assert "fixed and told 1 · fixed silently 1 · closed without a fix 1" in text
        assert "Main St: 3 cases · taken 67% · resolved 100% · won back 0 of 0" in text
        assert "Oak Rd: 1 case · taken 0% · resolved 0% · won back 0 of 0" in text

        response = await h.http.get(
            h.api_url + "/api/v1/stats?period=7d",
            headers={"Authorization": f"Bearer {API_TOKEN}"},
        )
        body = await response.json()
        total = body["recovery"]["total"]
        assert total["opened"] == 4 and total["detractors"] == 4
        assert total["taken"] == {
            "count": 2,
            "share": 0.5,
            "p50": {"le_s": 300},
            "p90": {"le_s": 3600},
        }
        assert total["first_contact"]["p90"] == {"le_s": 900}
        assert total["resolved"]["p50"] == {"le_s": 86400}
        assert total["resolved"]["p90"] == {"le_s": 259200}
        assert total["resolved"]["by_resolution"] == {"notified": 1, "silent": 1, "closed": 1}
        oak = next(item for item in body["recovery"]["locations"] if item["key"] == "Oak Rd")
        assert oak["opened"] == 1 and oak["taken"]["count"] == 0

        csv_response = await h.http.get(
            h.api_url + "/api/v1/cases.csv?period=7d",
            headers={"Authorization": f"Bearer {API_TOKEN}"},
        )
        assert csv_response.status == 200
        rows = list(csv.DictReader(io.StringIO((await csv_response.read()).decode("utf-8-sig"))))
        assert [row["case_id"] for row in rows] == ["1", "2", "3", "4"]
        first, second, third, fourth = rows
        assert (first["take_s"], first["first_contact_s"], first["resolve_s"]) == (
            "240",
            "720",
            "9000",
        )
        assert first["resolution"] == "notified" and first["owner"] == "Alice"
        assert (second["take_s"], second["resolve_s"], second["resolution"]) == (
            "3000",
            "72000",
            "silent",
        )
        assert third["take_s"] == "" and third["resolve_s"] == str(3 * 86400)
        assert third["resolution"] == "closed" and fourth["status"] == "new"

        # A branch's view: only its own location's cases count.
        scoped = await load_recovery(h.app.db, _period(h), 2, frozenset({"Oak Rd"}))
        assert scoped.total.opened == 1 and scoped.total.detractors == 1

        # /export cases: the same rows as a document.
        since = len(h.fake.sent)
        await h.fake.send_text(ALICE, "/export cases 7d", chat_id=MANAGER_CHAT_ID)
        document = await h.fake.wait_for(
            lambda m: m.chat_id == MANAGER_CHAT_ID and m.media == "document", since=since
        )
        assert document.filename is not None and document.filename.startswith("otklik-cases-")
        assert document.document is not None
        assert len(document.document.decode("utf-8-sig").splitlines()) == 5


async def test_a_detractor_won_back_on_their_next_visit(tmp_path: Path) -> None:
    async with running_bot(
        tmp_path, min_sample=2, survey_cooldown_days=0, digest_at="tue 09:00"
    ) as h:
        await _detractor(h, ANN, "Main St", "v-ann-1")
        await _detractor(h, BEN, "Oak Rd", "v-ben-1")
        # Ann comes back three hours later and is happy; Ben does not come back.
        h.clock.advance(timedelta(hours=3))
        since = len(h.fake.sent)
        await h.post_visit(ANN, "v-ann-2", location="Oak Rd")
        await h.press(ANN, await h.survey_for(ANN, since=since), "9")
        await h.app.worker.drain()

        h.fake.user(ADMIN_ID, "Ada", "en")
        since = len(h.fake.sent)
        await h.fake.send_text(ADMIN_ID, "/stats 7d")
        stats = await h.fake.wait_for(
            lambda m: m.chat_id == ADMIN_ID and "Closing the loop" in m.text, since=since
        )
        assert (
            "Won back: of 1 detractor who came back, 1 scored 9–10 and 0 scored 7–8"
            " (0 again 0–6) — too few to say (n=1, at least 2 needed)"
        ) in stats.text

        # The weekly digest carries the same block.
        h.clock.set(datetime(2026, 11, 24, 9, 0, 30, tzinfo=UTC))
        await h.app.maintenance()
        digest = await h.fake.wait_for_message(MANAGER_CHAT_ID, text_contains="Weekly digest")
        assert "Closing the loop" in digest.text and "Won back: of 1 detractor" in digest.text
        # Won back counts on the location the detractor was unhappy with.
        assert "Main St: 1 case · taken 0% · resolved 0% · won back 1 of 1" in digest.text
        assert "Oak Rd: 1 case · taken 0% · resolved 0% · won back 0 of 0" in digest.text


def _period(h: BotHarness) -> Period:
    today = h.clock.now().astimezone(h.settings.zone).date()
    return Period.last_days(7, today)


async def test_cli_exports_the_cases_and_rebuilds_their_counters(tmp_path: Path) -> None:
    from bot.cli.reports import export_responses, rebuild

    async with running_bot(tmp_path, survey_cooldown_days=0) as h:
        await _detractor(h, ANN, "Main St", "v-ann-1")
        await _detractor(h, BEN, "Oak Rd", "v-ben-1")
        settings, db = h.settings, h.app.db
        before = await load_recovery(db, _period(h), 2)
        period = _period(h)
    output = tmp_path / "cases.csv"
    # The command line reads the system clock: name the fake clock's days.
    assert await export_responses(settings, period.label, output, cases=True) == 0
    lines = output.read_bytes().decode("utf-8-sig").splitlines()
    assert lines[0].startswith("case_id,survey_id,day,location,") and len(lines) == 3
    assert await export_responses(settings, "someday", output, cases=True) == 2
    assert await rebuild(settings) == 0
    async with running_bot(tmp_path, survey_cooldown_days=0) as h:
        after = await load_recovery(h.app.db, period, 2)
    assert after == before and after.total.opened == 2
