"""Reports end to end: /stats, /chart, /export, the HTTP API, the weekly digest and
the NPS drop alert through the real bot and the fake Bot API server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp

from bot.core.clock import FakeClock
from bot.reports.outbox import DROP_KIND, due_digest
from tests.support.fake_telegram import SentMessage
from tests.support.harness import BotHarness, running_bot
from tests.support.reports import DROP_TEXT, MONDAY, answer_days_ago, maintenance_at
from tests.support.settings import ADMIN_ID, API_TOKEN, MANAGER_CHAT_ID

MANAGER = 700
STRANGER = 701
# (customer, location, NPS)
ANSWERS = [(511, "Main St", 10), (512, "Main St", 9), (513, "Dock", 3), (514, "Dock", 8)]


async def answered_surveys(h: BotHarness) -> None:
    """Four customers visit, get the survey, and answer its NPS question."""
    for user_id, location, score in ANSWERS:
        await h.start_customer(user_id)
        outcome = await h.post_visit(user_id, f"pos-{user_id}", location=location)
        await h.survey_for(user_id)
        result = await h.app.surveys.answer_nps(outcome["survey_id"], user_id, score)
        assert result is not None
    await h.app.worker.drain()


async def command(
    h: BotHarness, text: str, chat_id: int = MANAGER_CHAT_ID, user: int = MANAGER
) -> SentMessage:
    h.fake.user(user, "Mia", "en")
    since = len(h.fake.sent)
    await h.fake.send_text(user, text, chat_id=chat_id if chat_id != user else None)
    return await h.fake.wait_for_message(chat_id, since=since)


async def test_stats_by_location_shows_scores_margins_and_funnel(tmp_path: Path) -> None:
    async with running_bot(tmp_path, min_sample=2) as h:
        await answered_surveys(h)
        reply = await command(h, "/stats 30d location")
    text = reply.text
    assert "NPS" in text and "Overall: NPS 25 ±" in text and "(n=4)" in text
    assert "2 promoters · 1 passive · 1 detractor" in text
    assert "4 sent · 4 answered · response rate 100%" in text
    assert "Main St: NPS 100 ±" in text and "Dock: NPS -50 ±" in text
    assert "Needs attention first: Dock" in text
    assert "Delivery funnel" in text and "reported 2" in text and "answered 2" in text


async def test_stats_below_min_sample_says_not_enough(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        await answered_surveys(h)
        reply = await command(h, "/stats 7d")
    assert "not enough answers (n=4, at least 80 needed)" in reply.text


async def test_bad_period_gets_a_clear_error(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        reply = await command(h, "/stats yesterday")
        assert "I do not understand the period “yesterday”" in reply.text
        reply = await command(h, "/chart 2026-13")
        assert "not a valid date" in reply.text


async def test_chart_sends_a_png(tmp_path: Path) -> None:
    async with running_bot(tmp_path, min_sample=2) as h:
        await answered_surveys(h)
        reply = await command(h, "/chart 90d")
    assert reply.media == "photo" and reply.photo is not None
    assert reply.photo.startswith(b"\x89PNG\r\n\x1a\n")
    assert reply.caption is not None and "NPS" in reply.caption


async def test_export_sends_a_csv_document_to_an_admin(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        await answered_surveys(h)
        reply = await command(h, "/export 30d", chat_id=ADMIN_ID, user=ADMIN_ID)
    assert reply.media == "document" and reply.document is not None
    assert reply.filename is not None and reply.filename.endswith(".csv")
    lines = reply.document.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("survey_id,visit_id,")
    assert len(lines) == 1 + len(ANSWERS)


async def test_private_stats_from_a_non_admin_gets_no_answer(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        h.fake.user(STRANGER, "Eve", "en")
        await h.fake.send_text(STRANGER, "/stats")
        # An admin's command sent after it is answered, so the first one was processed.
        await command(h, "/stats", chat_id=ADMIN_ID, user=ADMIN_ID)
        assert all("NPS" not in m.text for m in h.fake.messages_to(STRANGER))


async def get(h: BotHarness, path: str, token: str | None = API_TOKEN) -> aiohttp.ClientResponse:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await h.http.get(h.api_url + path, headers=headers)
    await response.read()
    return response


async def test_api_stats_and_csv_need_the_token(tmp_path: Path) -> None:
    async with running_bot(tmp_path, min_sample=2) as h:
        await answered_surveys(h)
        assert (await get(h, "/api/v1/stats", token=None)).status == 401
        assert (await get(h, "/api/v1/responses.csv", token="wrong")).status == 401

        response = await get(h, "/api/v1/stats?period=30d&segment=location")
        assert response.status == 200
        body = await response.json()
        assert body["total"]["nps"] == 25 and body["total"]["n"] == 4
        assert {item["key"]: item["nps"] for item in body["segments"]} == {
            "Main St": 100,
            "Dock": -50,
        }
        assert {row["location"]: row["answered"] for row in body["funnel"]} == {
            "Main St": 2,
            "Dock": 2,
        }
        bad = await get(h, "/api/v1/stats?period=soon")
        assert bad.status == 400 and "soon" in (await bad.json())["error"]

        csv_response = await get(h, "/api/v1/responses.csv?period=7d")
        assert csv_response.status == 200
        assert csv_response.headers["Content-Type"].startswith("text/csv")
        assert len((await csv_response.read()).decode("utf-8-sig").splitlines()) == 5


def test_digest_is_due_only_within_its_hour_window() -> None:
    from zoneinfo import ZoneInfo

    zone = ZoneInfo("Europe/Moscow")
    monday_9 = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)  # 09:00 in Moscow
    assert due_digest(monday_9 - timedelta(minutes=1), zone, "mon 09:00") is None
    assert due_digest(monday_9, zone, "mon 09:00") == monday_9.date()
    assert due_digest(monday_9 + timedelta(hours=7), zone, "mon 09:00") is None
    assert due_digest(monday_9, zone, "") is None


async def test_weekly_digest_fires_once_at_its_time(tmp_path: Path) -> None:
    async with running_bot(tmp_path, min_sample=2, digest_at="tue 09:00") as h:
        await answered_surveys(h)
        await h.app.maintenance()
        await h.app.worker.drain()
        assert not [m for m in h.fake.messages_to(MANAGER_CHAT_ID) if "digest" in m.text]

        h.clock.set(datetime(2026, 11, 24, 9, 0, 30, tzinfo=UTC))
        await h.app.maintenance()
        digest = await h.fake.wait_for_message(MANAGER_CHAT_ID, text_contains="Weekly digest")
        assert "2026-11-17 – 2026-11-23" in digest.text and "Main St" in digest.text
        await h.fake.wait_for(lambda m: m.chat_id == MANAGER_CHAT_ID and m.media == "photo")

        h.clock.advance(timedelta(minutes=5))
        await h.app.maintenance()
        await h.app.worker.drain()
    digests = [m for m in h.fake.messages_to(MANAGER_CHAT_ID) if "Weekly digest" in m.text]
    assert len(digests) == 1


async def test_cli_export_and_rebuild_rollups(tmp_path: Path) -> None:
    from bot.cli.reports import export_responses, rebuild

    async with running_bot(tmp_path, min_sample=2) as h:
        await answered_surveys(h)
        settings = h.settings
    output = tmp_path / "out.csv"
    assert await export_responses(settings, "2026-11-23", output) == 0
    assert len(output.read_bytes().decode("utf-8-sig").splitlines()) == 1 + len(ANSWERS)
    assert await export_responses(settings, "nonsense", output) == 2
    assert await rebuild(settings) == 0


# --- the NPS drop alert ----------------------------------------------------------------


def drop_alerts(h: BotHarness) -> list[SentMessage]:
    return [m for m in h.fake.messages_to(MANAGER_CHAT_ID) if DROP_TEXT in m.text]


async def test_nps_drop_alert_is_told_once_and_only_with_enough_answers(tmp_path: Path) -> None:
    clock = FakeClock(MONDAY - timedelta(days=40))
    async with running_bot(
        tmp_path, clock, min_sample=3, nps_drop_alert=15, timezone="Europe/Kyiv"
    ) as h:
        # Dock: three promoters in the 28-day baseline, then 1 promoter and 2 detractors
        # in the last 7 days: 100 -> -33. Main St falls as far, with one answer a side.
        for user_id, days, location, score in [
            (601, 30, "Dock", 10),
            (602, 20, "Dock", 9),
            (603, 9, "Dock", 10),
            (604, 6, "Dock", 9),
            (605, 4, "Dock", 2),
            (606, 1, "Dock", 0),
            (607, 25, "Main St", 10),
            (608, 2, "Main St", 0),
            # Today's answers are still coming in: not part of the recent window.
            (609, 0, "Dock", 10),
        ]:
            await answer_days_ago(h, user_id, days, location, score)
        await h.app.worker.drain()
        # The recent window had only two Dock answers so far: nothing to say yet.
        await maintenance_at(h, MONDAY - timedelta(days=3))
        assert drop_alerts(h) == []

        await maintenance_at(h, MONDAY)
        alert = await h.fake.wait_for_message(MANAGER_CHAT_ID, text_contains=DROP_TEXT)
        assert "NPS at Dock fell by 133 points" in alert.text
        assert "-33 ±" in alert.text and "(n=3)" in alert.text and "100 ±" in alert.text

        # Again later the same day and the next day (same week): still told once. Count
        # the queued alerts too: a second one might still be waiting for its send slot.
        await maintenance_at(h, MONDAY + timedelta(hours=2))
        await maintenance_at(h, MONDAY + timedelta(days=1))
        async with h.app.db.read() as conn:
            queued = await conn.fetch_all(
                "SELECT dedupe_key FROM outbox WHERE kind = :kind", {"kind": DROP_KIND}
            )
    assert [row["dedupe_key"] for row in queued] == ["nps-drop:2026-W48:Dock"]
    alerts = drop_alerts(h)
    assert len(alerts) == 1
    assert not any("Main St" in m.text for m in alerts)
