"""The dashboard over HTTP against the whole bot: Telegram's initData in, a session out,
the screens scoped like the chat's commands, the numbers those of /api/v1/stats, and a
case taken from the page shown as taken on the chat's card."""

from __future__ import annotations

import gzip
import re
from datetime import timedelta
from pathlib import Path

import pytest

from bot.dashboard import service as dashboard_service
from storage import cases as case_repo
from tests.support.dashboard import exchange, session_for, sign_init_data, view
from tests.support.harness import BotHarness, running_bot
from tests.support.settings import ADMIN_ID, BOT_TOKEN, MANAGER_CHAT_ID

KYIV_CHAT, LVIV_CHAT = -100101, -100102
KATE, LEO, STRANGER = 701, 702, 703
CUSTOMERS = (501, 502, 503, 504, 505)


async def chain_with_answers(h: BotHarness) -> dict[int, int]:
    """Kyiv and Lviv with chats of their own; Kate in the head office, Leo in Lviv's chat;
    answers: Kyiv 10, 9, 3 (a case); Lviv 2 (a case), 8. Returns survey id by customer."""
    for chat_id, title in ((KYIV_CHAT, "Kyiv"), (LVIV_CHAT, "Lviv")):
        h.fake.group(chat_id, title)
    for code, chat_id in (("kyiv", KYIV_CHAT), ("lviv", LVIV_CHAT)):
        status, answer = await h.call(
            "PUT", f"/api/v1/locations/{code}", {"name": code.title(), "manager_chat_id": chat_id}
        )
        assert status == 201, answer
    h.fake.user(KATE, "Kate")
    h.fake.add_member(MANAGER_CHAT_ID, KATE)
    h.fake.user(LEO, "Leo", "ru")
    h.fake.add_member(LVIV_CHAT, LEO)
    h.fake.user(STRANGER, "Sam")
    surveys = {}
    plan = zip(
        CUSTOMERS,
        ("kyiv", "kyiv", "kyiv", "lviv", "lviv"),
        (10, 9, 3, 2, 8),
        ("great coffee", None, "Холодный кофе", "rude staff", "ok"),
        strict=True,
    )
    for customer, location, score, reason in plan:
        await h.start_customer(customer)
        outcome = await h.post_visit(
            customer, f"visit-{customer}", location=location, staff=f"staff-{score % 2}"
        )
        await h.survey_for(customer)
        survey_id = outcome["survey_id"]
        assert (await h.app.surveys.answer_nps(survey_id, customer, score)).ok
        assert (await h.app.surveys.answer_ces(survey_id, customer, 6)).ok
        if reason:
            assert (await h.app.surveys.answer_reason(survey_id, customer, reason)).ok
        surveys[customer] = survey_id
    await h.settled()
    return surveys


def metric(html: str, name: str) -> str:
    found = re.search(rf'data-metric="{name}" data-value="([^"]*)"', html)
    assert found, name
    return found.group(1)


async def test_forged_stale_and_missing_init_data_get_401_and_no_data(tmp_path: Path) -> None:
    async with running_bot(tmp_path, min_sample=2) as h:
        now = h.clock.now()
        good = sign_init_data(ADMIN_ID, now)
        forged = sign_init_data(ADMIN_ID, now, token="123456:SOMEONE-ELSES")
        tampered = good.replace(f"%22id%22%3A{ADMIN_ID}", "%22id%22%3A901")
        stale = sign_init_data(ADMIN_ID, now - timedelta(hours=1, seconds=1))
        for init_data, error in (
            (forged, "forged"),
            (tampered, "forged"),
            (stale, "stale"),
            ("", "missing"),
        ):
            status, body = await exchange(h, init_data)
            assert (status, body) == (401, {"ok": False, "error": error})
        assert (await exchange(h, good))[0] == 200
        # The screens: no session, a made-up one, or one of another bot: 401, no figures.
        for token in (None, "x.y", "eyJ1IjoxfQ.c2ln"):
            status, text = await view(h, token, "overview")
            assert status == 401 and "data-metric" not in text
        # A session ends after DASHBOARD_SESSION_TTL.
        token = await session_for(h, ADMIN_ID)
        assert (await view(h, token, "overview"))[0] == 200
        h.clock.advance(timedelta(hours=1))
        assert (await view(h, token, "overview"))[0] == 401
        assert BOT_TOKEN not in text


async def test_overview_shows_the_numbers_of_the_stats_api(tmp_path: Path) -> None:
    async with running_bot(tmp_path, min_sample=2) as h:
        await chain_with_answers(h)
        token = await session_for(h, KATE)
        status, html = await view(h, token, "overview?period=30d")
        assert status == 200
        code, stats = await h.call("GET", "/api/v1/stats?period=30d")
        assert code == 200
        total = stats["total"]
        assert metric(html, "nps") == str(total["nps"]) == "0"
        assert f'data-n="{total["n"]}"' in html and total["n"] == 5
        assert float(metric(html, "ces")) == total["ces_mean"]
        assert float(metric(html, "response-rate")) == total["response_rate"]
        assert 'data-location="kyiv"' in html and 'data-location="lviv"' in html
        assert ">Kyiv</a>" in html  # the catalogue's name, not the code


async def test_a_branch_manager_sees_only_their_locations(tmp_path: Path) -> None:
    async with running_bot(tmp_path, min_sample=2) as h:
        await chain_with_answers(h)
        token = await session_for(h, LEO, language="ru")
        status, html = await view(h, token, "overview?period=30d")
        assert status == 200 and "Точки" in html
        assert 'data-location="lviv"' in html and 'data-location="kyiv"' not in html
        assert 'data-n="2"' in html
        status, html = await view(h, token, "responses?period=30d")
        assert status == 200
        assert html.count('data-location="lviv"') == 2 and 'data-location="kyiv"' not in html
        assert (await view(h, token, "responses?period=30d&location=kyiv"))[0] == 403
        assert (await view(h, token, "responses.csv?location=kyiv"))[0] == 403
        # A stranger (no managers' chat, no admin) gets no session at all.
        status, body = await exchange(h, sign_init_data(STRANGER, h.clock.now()))
        assert (status, body) == (403, {"ok": False, "error": "forbidden"})


async def test_a_search_reads_a_bounded_number_of_answers_and_goes_on_when_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rare match among a million answers must not read them all in one request: the
    page searches SCAN_LIMIT surveys, says how far back, and links to the rest."""
    monkeypatch.setattr(dashboard_service, "SCAN_LIMIT", 2)
    async with running_bot(tmp_path, min_sample=2) as h:
        surveys = await chain_with_answers(h)
        token = await session_for(h, KATE)
        path, pages = "responses?period=30d&q=great", 0
        while True:
            status, html = await view(h, token, path)
            assert status == 200
            pages += 1
            if 'data-survey="' in html:
                break
            assert "data-scan-stopped" in html and "No matches among the answers" in html
            found = re.search(r'href="view/(responses\?[^"]*before=[^"]*)" data-older', html)
            assert found, html
            path = found.group(1).replace("&amp;", "&")
        assert f'data-survey="{surveys[501]}"' in html and "great coffee" in html
        assert pages == 3  # five answers, two surveys a read: the oldest is in the third
        assert "data-scan-stopped" not in html
        # Without a search the read shows what it found, and goes on the same way.
        status, html = await view(h, token, "responses?period=30d")
        assert html.count('data-survey="') == 2 and "data-scan-stopped" in html
        # The CSV is never cut short.
        status, csv = await view(h, token, "responses.csv?period=30d&q=great")
        assert status == 200 and "great coffee" in csv


async def _case_of(h: BotHarness, survey_id: int) -> int:
    async with h.app.db.read() as conn:
        case = await case_repo.get_by_survey(conn, survey_id)
    assert case is not None
    return case.id


async def test_a_case_taken_in_the_page_shows_as_taken_in_the_chat(tmp_path: Path) -> None:
    async with running_bot(tmp_path, min_sample=2) as h:
        surveys = await chain_with_answers(h)
        kyiv_case = await _case_of(h, surveys[503])
        card = await h.fake.wait_for(
            lambda m: m.chat_id == KYIV_CHAT and f"Case #{kyiv_case}" in m.text
        )
        leo = await session_for(h, LEO)
        status, html = await view(h, leo, "cases")
        assert status == 200 and f'data-case="{kyiv_case}"' not in html
        assert (await view(h, leo, f"cases/{kyiv_case}/take", form={}))[0] == 403

        kate = await session_for(h, KATE)
        status, html = await view(h, kate, "cases")
        assert f'data-case="{kyiv_case}" data-status="new"' in html
        status, html = await view(h, kate, f"cases/{kyiv_case}/take", form={})
        assert status == 200 and f"Case #{kyiv_case} is yours." in html
        assert f'data-case="{kyiv_case}" data-status="taken"' in html
        await h.settled()
        edited = h.fake.message(KYIV_CHAT, card.message_id)
        assert "Taken by Kate" in edited.text

        # Resolving needs a note, and is the owner's (or an admin's), as in the chat.
        status, html = await view(h, kate, f"cases/{kyiv_case}/resolve", form={"note": " "})
        assert status == 200 and f'data-case="{kyiv_case}" data-status="taken"' in html
        status, html = await view(
            h, kate, f"cases/{kyiv_case}/resolve", form={"note": "called back", "notify": "1"}
        )
        assert f"Case #{kyiv_case} is resolved." in html and f'data-case="{kyiv_case}"' not in html
        await h.settled()
        assert "Resolved by Kate" in h.fake.message(KYIV_CHAT, card.message_id).text
        # The customer hears it was fixed, in their language, like from the chat.
        assert "we fixed the problem" in h.fake.messages_to(503)[-1].text


async def test_dashboard_command_gives_managers_the_app_and_a_one_time_link(
    tmp_path: Path,
) -> None:
    public = "https://bot.example.com"
    async with running_bot(tmp_path, min_sample=2, public_url=public) as h:
        await chain_with_answers(h)
        since = len(h.fake.sent)
        await h.fake.send_text(LEO, "/dashboard")
        answer = await h.fake.wait_for(lambda m: m.chat_id == LEO, since=since)
        assert "Панель" in answer.text
        assert answer.reply_markup is not None
        (app_button,), (link_button,) = answer.reply_markup["inline_keyboard"]
        assert app_button["web_app"] == {"url": f"{public}/app/"}
        menu = await h.fake.wait_for_call("setChatMenuButton")
        assert str(menu.params["chat_id"]) == str(LEO)
        assert f"{public}/app/" in str(menu.params["menu_button"])

        # The browser's link: once, within five minutes.
        token = link_button["url"].removeprefix(f"{public}/app/?login=")
        assert token != link_button["url"]
        url = h.api_url + "/app/auth/link"
        async with h.http.post(url, json={"token": token}) as first:
            session = (await first.json())["token"]
        assert (await view(h, session, "overview"))[0] == 200
        async with h.http.post(url, json={"token": token}) as second:
            assert (second.status, await second.json()) == (401, {"ok": False, "error": "used"})

        since = len(h.fake.sent)
        await h.fake.send_text(LEO, "/dashboard")
        later = await h.fake.wait_for(lambda m: m.chat_id == LEO, since=since)
        assert later.reply_markup is not None
        token = later.reply_markup["inline_keyboard"][1][0]["url"].split("login=")[1]
        h.clock.advance(timedelta(minutes=5))
        async with h.http.post(url, json={"token": token}) as late:
            assert (late.status, await late.json()) == (401, {"ok": False, "error": "expired"})

        # A customer hears nothing of it.
        since = len(h.fake.sent)
        await h.fake.send_text(CUSTOMERS[0], "/dashboard")
        await h.settled()
        assert not [m for m in h.fake.sent[since:] if m.chat_id == CUSTOMERS[0]]


async def test_the_page_weighs_under_300_kb_gzipped_and_forbids_inline_code(
    tmp_path: Path,
) -> None:
    """What a first visit downloads: the shell, its script, styles and the chart library,
    and the Overview screen."""
    async with running_bot(tmp_path, min_sample=2) as h:
        await chain_with_answers(h)
        token = await session_for(h, KATE)
        total = 0
        async with h.http.get(h.api_url + "/app/") as shell:
            html = await shell.text()
            policy = shell.headers["Content-Security-Policy"]
        assert "script-src 'self';" in policy and "style-src 'self';" in policy
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
        assert "<script>" not in html and "style=" not in html
        total += len(gzip.compress(html.encode()))
        assets = re.findall(r'(?:src|href)="(static/[^"]+)"', html)
        assert len(assets) == 4
        for asset in assets:
            async with h.http.get(f"{h.api_url}/app/{asset}") as response:
                assert response.status == 200
                total += len(gzip.compress(await response.read()))
        status, overview = await view(h, token, "overview")
        assert status == 200 and "style=" not in overview and "<script" not in overview
        total += len(gzip.compress(overview.encode()))
        assert 10_000 < total <= 300 * 1024


async def test_membership_is_asked_of_telegram_once_per_cache_period(tmp_path: Path) -> None:
    async with running_bot(tmp_path, min_sample=2) as h:
        await chain_with_answers(h)
        token = await session_for(h, LEO)
        asked = len(h.fake.calls("getChatMember"))
        for _ in range(3):
            assert (await view(h, token, "overview"))[0] == 200
        assert len(h.fake.calls("getChatMember")) == asked
        # Leo leaves the Lviv chat: within DASHBOARD_MEMBER_CACHE he keeps the page,
        # after it he loses it.
        h.fake.add_member(LVIV_CHAT, LEO, "left")
        h.clock.advance(timedelta(minutes=4))
        assert (await view(h, token, "overview"))[0] == 200
        h.clock.advance(timedelta(minutes=2))
        status, text = await view(h, token, "overview")
        assert (status, text) == (403, '{"ok": false, "error": "forbidden"}')
        assert len(h.fake.calls("getChatMember")) > asked


async def test_the_cases_screen_shows_closing_the_loop_as_stats_does(tmp_path: Path) -> None:
    async with running_bot(tmp_path, min_sample=2) as h:
        surveys = await chain_with_answers(h)
        kate = await session_for(h, KATE)
        kyiv_case = await _case_of(h, surveys[503])
        assert (await view(h, kate, f"cases/{kyiv_case}/take", form={}))[0] == 200
        code, stats = await h.call("GET", "/api/v1/stats?period=30d")
        assert code == 200
        recovery = stats["recovery"]["total"]
        assert (recovery["opened"], recovery["taken"]["count"]) == (2, 1)

        status, html = await view(h, kate, "cases?period=30d")
        assert status == 200
        assert 'data-recovery-opened="2"' in html
        assert "Taken: 1 of 2 (50%)" in html  # the line of /stats
        assert 'data-recovery-location="kyiv"' in html
        assert 'data-recovery-location="lviv"' in html
        # A branch manager sees their branch's figures only.
        leo = await session_for(h, LEO, language="ru")
        status, html = await view(h, leo, "cases?period=30d")
        assert status == 200 and 'data-recovery-opened="1"' in html
        assert "Взято в работу: 0 из 1 (0%)" in html
        assert 'data-recovery-location="kyiv"' not in html
        # A period it cannot read is a clear error, not a 500.
        status, html = await view(h, kate, "cases?period=custom&from=2026-13-01&to=x")
        assert status == 400
