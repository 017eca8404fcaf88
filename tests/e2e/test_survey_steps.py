"""SURVEY_STEPS and the questions' wording end to end: a survey asking CSAT (tapped and
typed) with its figures in /stats, the digest, GET /api/v1/stats, the dashboard and the
responses CSV; a survey without CES; the wording overridden per language."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.config import ConfigError, load_settings
from storage import surveys
from storage.models import Survey
from tests.support.dashboard import session_for, view
from tests.support.fake_telegram import SentMessage
from tests.support.harness import BotHarness, running_bot
from tests.support.settings import ADMIN_ID, API_TOKEN, MANAGER_CHAT_ID

ANN, BORIS, OKSANA = 501, 502, 503
MANAGER = 700
CSAT_STEPS = "nps,ces,csat,reason"


async def _stored(h: BotHarness, survey_id: int) -> Survey:
    async with h.app.db.read() as conn:
        survey = await surveys.get(conn, survey_id)
    assert survey is not None
    return survey


def _at(message: SentMessage, buttons: int) -> Any:
    return lambda m: (
        m.chat_id == message.chat_id
        and m.message_id == message.message_id
        and len(m.callback_data) == buttons
    )


async def _stats_command(h: BotHarness, text: str) -> str:
    h.fake.user(MANAGER, "Mia", "en")
    since = len(h.fake.sent)
    await h.fake.send_text(MANAGER, text, chat_id=MANAGER_CHAT_ID)
    return (await h.fake.wait_for_message(MANAGER_CHAT_ID, text_contains="NPS", since=since)).text


async def _get(h: BotHarness, path: str) -> tuple[int, bytes]:
    headers = {"Authorization": f"Bearer {API_TOKEN}"}
    async with h.http.get(h.api_url + path, headers=headers) as response:
        return response.status, await response.read()


async def test_a_csat_survey_end_to_end_with_its_report_figures(tmp_path: Path) -> None:
    async with running_bot(
        tmp_path, min_sample=2, survey_steps=CSAT_STEPS, digest_at="mon 09:00"
    ) as h:
        # Ann taps every answer: NPS 9, CES 6, CSAT 5, and gives a reason.
        await h.start_customer(ANN)
        ann = int((await h.post_visit(ANN, "pos-1", location="Main St"))["survey_id"])
        message = await h.survey_for(ANN)
        await h.press(ANN, message, "9")
        ces = await h.fake.wait_for(_at(message, 7))
        await h.press(ANN, ces, "6")
        csat = await h.fake.wait_for(_at(message, 5))
        assert "How satisfied are you with today’s visit?" in csat.text
        assert [b["text"] for b in csat.buttons] == ["1", "2", "3", "4", "5"]
        await h.press(ANN, csat, "5")
        await h.fake.wait_for(lambda m: m.message_id == message.message_id and "most" in m.text)
        await h.fake.send_text(ANN, "Lovely coffee")
        await h.fake.wait_for_message(ANN, text_contains="Thank you for your feedback")
        stored = await _stored(h, ann)
        assert (stored.nps, stored.ces, stored.csat, stored.status) == (9, 6, 5, "completed")

        # Boris, in Russian, types his scores: a detractor whose card shows the CSAT.
        await h.start_customer(BORIS, "Борис", "ru")
        boris = int((await h.post_visit(BORIS, "pos-2", location="Dock"))["survey_id"])
        message = await h.survey_for(BORIS)
        await h.fake.send_text(BORIS, "3")
        await h.fake.wait_for(_at(message, 7))
        await h.fake.send_text(BORIS, "2")
        csat = await h.fake.wait_for(_at(message, 5))
        assert "Насколько вы довольны сегодняшним визитом?" in csat.text
        since = len(h.fake.sent)
        await h.fake.send_text(BORIS, "6")  # off the 1-5 scale
        await h.fake.wait_for_message(BORIS, text_contains="число от 1 до 5", since=since)
        await h.fake.send_text(BORIS, "2/5")
        await h.fake.wait_for(
            lambda m: m.message_id == message.message_id and "Skip" not in m.text
        )
        await h.fake.wait_for(lambda m: m.chat_id == MANAGER_CHAT_ID and "CSAT: 2/5" in m.text)
        assert (await _stored(h, boris)).csat == 2
        await h.settled()

        # CSAT mean (5 + 2) / 2 = 3.5, satisfied (4-5): 1 of 2.
        stats = await _stats_command(h, "/stats")
        assert "CSAT 3.5 of 5 · 50% satisfied (4–5) · 2 answers" in stats
        assert "CES 4.0 of 7" in stats

        status, body = await _get(h, "/api/v1/stats?segment=location")
        assert status == 200
        answer = json.loads(body)
        total = answer["total"]
        assert (total["csat_mean"], total["csat_satisfied_share"], total["csat_count"]) == (
            3.5,
            0.5,
            2,
        )
        assert {row["key"]: row["csat_mean"] for row in answer["segments"]} == {
            "Main St": 5.0,
            "Dock": 2.0,
        }

        status, body = await _get(h, "/api/v1/responses.csv?period=7d")
        rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
        assert sorted(row["csat"] for row in rows) == ["2", "5"]
        assert all(row["csat_at"] for row in rows)

        token = await session_for(h, ADMIN_ID)
        status, html = await view(h, token, "overview?period=30d")
        assert status == 200 and 'data-metric="csat" data-value="3.500"' in html
        assert "50% satisfied (4–5)" in html
        status, text = await view(h, token, "responses.csv?period=30d")
        assert status == 200 and text.splitlines()[0].endswith("csat,csat_at")

        # The weekly digest shows it too.
        h.clock.set(datetime(2026, 11, 30, 9, 0, 30, tzinfo=UTC))
        await h.app.maintenance()
        digest = await h.fake.wait_for_message(
            MANAGER_CHAT_ID, text_contains="Weekly digest, 2026-11-23 – 2026-11-29"
        )
        assert "CSAT 3.5 of 5 · 50% satisfied (4–5) · 2 answers" in digest.text


async def test_without_csat_the_reports_do_not_show_it(tmp_path: Path) -> None:
    async with running_bot(tmp_path, min_sample=2) as h:
        await h.start_customer(ANN)
        await h.post_visit(ANN, "pos-1")
        message = await h.survey_for(ANN)
        await h.press(ANN, message, "9")
        ces = await h.fake.wait_for(_at(message, 7))
        await h.press(ANN, ces, "6")
        # After the CES comes the reason: no CSAT step.
        await h.fake.wait_for(lambda m: m.message_id == message.message_id and "most" in m.text)
        stats = await _stats_command(h, "/stats")
        assert "CES 6.0 of 7" in stats and "CSAT" not in stats
        status, body = await _get(h, "/api/v1/stats")
        assert status == 200 and b"csat" not in body
        status, body = await _get(h, "/api/v1/responses.csv?period=7d")
        assert b"csat" not in body
        token = await session_for(h, ADMIN_ID)
        html = (await view(h, token, "overview?period=30d"))[1]
        assert 'data-metric="ces"' in html and 'data-metric="csat"' not in html


async def test_a_survey_without_ces_goes_from_the_nps_to_the_reason(tmp_path: Path) -> None:
    async with running_bot(tmp_path, min_sample=2, survey_steps="nps,reason") as h:
        await h.start_customer(ANN)
        survey_id = int((await h.post_visit(ANN, "pos-1"))["survey_id"])
        message = await h.survey_for(ANN)
        await h.press(ANN, message, "2")
        reason = await h.fake.wait_for(
            lambda m: m.message_id == message.message_id and "went wrong" in m.text
        )
        assert [b["text"] for b in reason.buttons] == ["Skip"]
        # The managers' card does not wait for a CES that is never asked.
        card = await h.fake.wait_for_message(MANAGER_CHAT_ID, text_contains="NPS: 2")
        assert "CES" not in card.text
        await h.fake.send_text(ANN, "Rude staff")
        await h.fake.wait_for_message(ANN, text_contains="A manager will look into it")
        stored = await _stored(h, survey_id)
        assert (stored.nps, stored.ces, stored.reason, stored.status) == (
            2,
            None,
            "Rude staff",
            "completed",
        )
        await h.settled()
        stats = await _stats_command(h, "/stats")
        assert "CES" not in stats and "CSAT" not in stats


async def test_question_wording_is_overridden_per_language(tmp_path: Path) -> None:
    wording: dict[str, Any] = {
        "nps_question": "Would you recommend us?",
        "nps_question_ru": "Порекомендуете нас друзьям?",
        "ces_question_uk": "Чи було легко?",
        "csat_question_en": "Happy with today?",
        "survey_steps": CSAT_STEPS,
    }
    async with running_bot(tmp_path, **wording) as h:
        questions: dict[int, list[str]] = {}
        for user, name, language in (
            (ANN, "Ann", "en"),
            (BORIS, "Борис", "ru"),
            (OKSANA, "Оксана", "uk"),
        ):
            await h.start_customer(user, name, language)
            await h.post_visit(user, f"pos-{user}")
            # One message, edited at each step: its text is read before the next tap.
            message = await h.survey_for(user)
            asked = [message.text]
            await h.press(user, message, "9")
            ces = await h.fake.wait_for(_at(message, 7))
            asked.append(ces.text)
            await h.press(user, ces, "6")
            asked.append((await h.fake.wait_for(_at(message, 5))).text)
            questions[user] = asked
        ann, boris, oksana = questions[ANN], questions[BORIS], questions[OKSANA]
        # NPS: Russian has its own; English and Ukrainian read the one for all.
        assert "Would you recommend us?" in ann[0] and "Would you recommend us?" in oksana[0]
        assert "Порекомендуете нас друзьям?" in boris[0]
        assert "Would you recommend us?" not in boris[0]
        # CES: only Ukrainian is overridden; the others read the built-in question.
        assert "Чи було легко?" in oksana[1]
        assert "made it easy" in ann[1] and "позаботилась" in boris[1]
        # CSAT: only English.
        assert "Happy with today?" in ann[2] and "Насколько вы довольны" in boris[2]


@pytest.mark.parametrize(
    "steps", ["ces,nps,reason", "nps,ces", "nps,ces,ces,reason", "nps,nps_score,reason"]
)
def test_a_wrong_survey_steps_is_a_config_error_naming_it(steps: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="SURVEY_STEPS"):
        load_settings(
            _env_file=None,
            bot_token="1:test",
            manager_chat_id=-1,
            api_token="x" * 16,
            survey_steps=steps,
        )
