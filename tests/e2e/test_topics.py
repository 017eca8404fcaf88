"""What the reasons say, end to end: reasons answered through the real bot get their
topics, GET /api/v1/topics reports them by NPS impact (scoped, labelled, period syntax of
/api/v1/stats), and bad input gets a 400 naming the field."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from tests.support.harness import BotHarness, running_bot
from tests.support.settings import API_TOKEN, MANAGER_CHAT_ID

ANN = 501

# (customer, location, NPS, reason)
ANSWERS = [
    (511, "Main St", 10, "Friendly staff"),
    (512, "Main St", 9, "Очень вежливый персонал"),
    (513, "Dock", 3, "персонал не хамил, но очередь огромная"),
    (514, "Dock", 8, "довго чекали"),
]


async def answered(h: BotHarness) -> None:
    """Four customers answer NPS, CES and why."""
    for user_id, location, score, reason in ANSWERS:
        await h.start_customer(user_id)
        outcome = await h.post_visit(user_id, f"pos-{user_id}", location=location)
        await h.survey_for(user_id)
        survey_id = outcome["survey_id"]
        assert (await h.app.surveys.answer_nps(survey_id, user_id, score)).ok
        assert (await h.app.surveys.answer_ces(survey_id, user_id, 5)).ok
        assert (await h.app.surveys.answer_reason(survey_id, user_id, reason)).ok
    await h.app.worker.drain()


async def topics(h: BotHarness, query: str, token: str | None = API_TOKEN) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with h.http.get(h.api_url + "/api/v1/topics" + query, headers=headers) as response:
        return response.status, await response.json()


async def test_the_api_reports_topics_by_nps_impact(tmp_path: Path) -> None:
    async with running_bot(tmp_path, min_sample=2) as h:
        await answered(h)
        assert (await topics(h, "", token=None))[0] == 401

        status, body = await topics(h, "?period=30d&lang=ru")
        assert status == 200, body
        assert body["answers"]["total"] == 4 and body["answers"]["nps"] == 25.0
        by_id = {item["id"]: item for item in body["topics"]}
        wait, staff = by_id["wait"], by_id["staff_attitude"]
        assert (wait["mentions"], wait["detractors"], wait["passives"]) == (2, 1, 1)
        assert (staff["mentions"], staff["promoters"]) == (2, 2)
        # Without the two answers about waiting: 2 promoters of 2, NPS 100.
        assert wait["impact"] == -75.0 and wait["share"] == 50.0 and not wait["too_few"]
        assert staff["impact"] == 75.0
        assert body["topics"][0]["id"] == "wait"  # the costliest first
        assert wait["label"] == "Ожидание"
        assert by_id["price"]["mentions"] == 0
        assert wait["previous"]["mentions"] == 0 and wait["share_change"] is None

        status, dock = await topics(h, "?period=7d&location=Dock&lang=en")
        assert status == 200 and dock["location"] == "Dock" and dock["language"] == "en"
        assert dock["answers"]["total"] == 2
        dock_wait = next(item for item in dock["topics"] if item["id"] == "wait")
        assert dock_wait["mentions"] == 2 and dock_wait["too_few"]  # nothing left without it
        assert next(i for i in dock["topics"] if i["id"] == "staff_attitude")["mentions"] == 0

        status, error = await topics(h, "?period=soon")
        assert status == 400 and "soon" in error["error"]
        status, error = await topics(h, "?lang=de")
        assert status == 400 and error["field"] == "lang"


async def test_the_alert_card_the_csv_and_the_webhook_carry_the_reason_s_topics(
    tmp_path: Path,
) -> None:
    async with running_bot(tmp_path) as h:
        # A receiver nobody listens on: the delivery rows keep the payloads to read.
        status, _ = await h.call(
            "PUT",
            "/api/v1/webhooks/crm",
            {"url": "http://127.0.0.1:9/hook", "events": ["response.updated"]},
        )
        assert status == 201
        await h.start_customer(ANN, language="ru")
        await h.post_visit(ANN, "pos-1", location="Main St")
        survey = await h.survey_for(ANN)
        await h.press(ANN, survey, "3")
        ces = await h.fake.wait_for(
            lambda m: m.message_id == survey.message_id and len(m.callback_data) == 7
        )
        # The alert goes out before the reason: no topics on it yet.
        alert = await h.fake.wait_for_message(MANAGER_CHAT_ID, text_contains="NPS: 3")
        assert "Topics" not in alert.text
        await h.press(ANN, ces, "2")
        await h.fake.wait_for(lambda m: m.message_id == survey.message_id and len(m.buttons) == 1)
        await h.fake.send_text(ANN, "персонал не хамил, но очередь огромная")
        card = await h.fake.wait_for(
            lambda m: m.chat_id == MANAGER_CHAT_ID and "очередь" in m.text and "Topics:" in m.text
        )
        assert "Topics: Waiting" in card.text
        assert "Staff attitude" not in card.text and "Politeness" not in card.text

        async with h.http.get(
            h.api_url + "/api/v1/responses.csv?period=7d",
            headers={"Authorization": f"Bearer {API_TOKEN}"},
        ) as response:
            rows = list(csv.DictReader(io.StringIO((await response.read()).decode("utf-8-sig"))))
        assert [(row["reason"], row["topics"]) for row in rows] == [
            ("персонал не хамил, но очередь огромная", "wait")
        ]
        async with h.app.db.read() as conn:
            payloads = await conn.fetch_all(
                "SELECT payload FROM webhook_deliveries WHERE event = 'response.updated'"
                " ORDER BY id"
            )
        reason_event = json.loads(payloads[-1]["payload"])["data"]["response"]
        assert reason_event["changed"] == ["reason"] and reason_event["topics"] == ["wait"]
