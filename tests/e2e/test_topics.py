"""What the reasons say, end to end: reasons answered through the real bot get their
topics, GET /api/v1/topics reports them by NPS impact (scoped, labelled, period syntax of
/api/v1/stats), and bad input gets a 400 naming the field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.support.harness import BotHarness, running_bot
from tests.support.settings import API_TOKEN

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
