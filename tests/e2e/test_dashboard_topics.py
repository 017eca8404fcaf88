"""The dashboard and the topics of the reasons: the Responses screen (and its CSV)
narrowed to a topic, scoped like the rest."""

from __future__ import annotations

import re
from csv import DictReader
from datetime import timedelta
from io import StringIO
from pathlib import Path
from typing import Any

from tests.e2e.test_dashboard import KATE, LEO, chain_with_answers
from tests.support.dashboard import session_for, view
from tests.support.harness import running_bot


def shown(html: str) -> list[int]:
    return [int(found) for found in re.findall(r'data-survey="(\d+)"', html)]


async def test_a_topic_narrows_the_responses_and_their_csv(tmp_path: Path) -> None:
    async with running_bot(tmp_path, min_sample=2) as h:
        # Kyiv 10 "great coffee", 9, 3 "Холодный кофе"; Lviv 2 "rude staff", 8 "ok".
        surveys = await chain_with_answers(h)
        kate = await session_for(h, KATE)
        status, html = await view(h, kate, "responses?period=30d")
        assert status == 200 and len(shown(html)) == 5
        assert '<option value="product">Products and quality</option>' in html
        status, html = await view(h, kate, "responses?period=30d&topic=product")
        assert status == 200
        assert shown(html) == [surveys[503], surveys[501]]
        assert '<option value="product" selected>' in html
        status, html = await view(h, kate, "responses?period=30d&topic=staff_attitude")
        assert shown(html) == [surveys[504]]
        status, html = await view(h, kate, "responses?period=30d&topic=product&band=detractor")
        assert shown(html) == [surveys[503]]
        status, html = await view(h, kate, "responses?period=30d&topic=wait")
        assert shown(html) == []
        status, csv = await view(h, kate, "responses.csv?period=30d&topic=product")
        assert status == 200
        rows = list(DictReader(StringIO(csv.lstrip("\ufeff"))))
        assert [(int(row["survey_id"]), row["topics"]) for row in rows] == [
            (surveys[503], "cleanliness product"),
            (surveys[501], "product"),
        ]
        # Each answer shows its topics, each a link to the answers about it.
        status, html = await view(h, kate, "responses?period=30d")
        assert (
            'data-topic="staff_attitude" href="view/responses?period=30d&amp;topic=staff_attitude"'
            in html
        )
        assert ">Staff attitude</a>" in html
        # An unknown topic is a clear 400 and nothing else.
        status, html = await view(h, kate, "responses?period=30d&topic=weather")
        assert status == 400 and "data-survey" not in html

        # A branch manager (Lviv) filters among their own answers only.
        leo = await session_for(h, LEO)
        status, html = await view(h, leo, "responses?period=30d&topic=product")
        assert status == 200 and shown(html) == []
        status, html = await view(h, leo, "responses?period=30d&topic=staff_attitude")
        assert shown(html) == [surveys[504]]


def topic_rows(html: str) -> dict[str, dict[str, str]]:
    """The Topics screen's rows: each topic's data-* figures."""
    found = {}
    for match in re.finditer(r'<li class="topic" ([^>]*)>', html):
        fields = dict(re.findall(r'data-([a-z]+)="([^"]*)"', match.group(1)))
        found[fields.pop("topic")] = fields
    return found


def api_rows(body: dict[str, Any]) -> dict[str, dict[str, str]]:
    """The same figures from GET /api/v1/topics, as the screen writes them."""
    return {
        item["id"]: {
            "impact": "" if item["impact"] is None else str(item["impact"]),
            "mentions": str(item["mentions"]),
            "detractors": str(item["detractors"]),
            "promoters": str(item["promoters"]),
            "share": "" if item["share"] is None else str(item["share"]),
        }
        for item in body["topics"]
        if item["mentions"]
    }


async def test_the_topics_screen_shows_the_figures_of_the_topics_api(tmp_path: Path) -> None:
    async with running_bot(tmp_path, min_sample=2) as h:
        surveys = await chain_with_answers(h)
        kate = await session_for(h, KATE)
        status, html = await view(h, kate, "topics?period=30d")
        assert status == 200
        assert 'data-screen="topics"' in html and 'class="active"' in html
        code, body = await h.call("GET", "/api/v1/topics?period=30d&lang=en")
        assert code == 200
        rows = topic_rows(html)
        assert rows == api_rows(body)
        # By hand: 5 answers, promoters 10 and 9, detractors 3 and 2: NPS 0. Staff
        # attitude (the 2): without it 10, 9, 3, 8: 25, so -25.0; cleanliness ("cold"
        # coffee, the 3) alike, after it in the taxonomy; products (the 10 and the 3):
        # without them 9, 2, 8: 0, so 0.0. Costliest first.
        assert list(rows) == ["staff_attitude", "cleanliness", "product"]
        assert rows["staff_attitude"]["impact"] == rows["cleanliness"]["impact"] == "-25.0"
        assert rows["product"] == {
            "impact": "0.0",
            "mentions": "2",
            "detractors": "1",
            "promoters": "1",
            "share": "40.0",
        }
        assert 'data-metric="topic-answers" data-value="5"' in html
        # A few recent reasons each, and the way to all of them in Responses.
        product = html.split('data-topic="product"')[1].split("</li>\n    <li")[0]
        assert shown(product) == [surveys[503], surveys[501]]
        assert "Холодный кофе" in product and "great coffee" in product
        assert "view/responses?period=30d&amp;topic=product" in product
        assert "Not mentioned: " in html and "Waiting" in html

        # One location, and a branch manager: their own only, another's is 403.
        status, html = await view(h, kate, "topics?period=30d&location=lviv")
        code, body = await h.call("GET", "/api/v1/topics?period=30d&location=lviv")
        assert topic_rows(html) == api_rows(body) and list(topic_rows(html)) == ["staff_attitude"]
        leo = await session_for(h, LEO, language="uk")
        status, html = await view(h, leo, "topics?period=30d")
        assert status == 200 and "Теми за впливом на NPS" in html
        assert topic_rows(html) == api_rows(body)
        assert "Холодный кофе" not in html
        assert '<option value="lviv"' in html and '<option value="kyiv"' not in html
        assert (await view(h, leo, "topics?period=30d&location=kyiv"))[0] == 403
        # Below MIN_SAMPLE it says so, and shows no impact.
        status, html = await view(h, leo, "topics?period=30d&location=lviv")
        assert "data-too-few" not in html  # Lviv: 2 answers, MIN_SAMPLE 2
        assert topic_rows(html)["staff_attitude"]["impact"] == ""  # 1 left without it
        assert "замало даних" in html


def topic_weeks(html: str, topic: str) -> list[tuple[str, str, str]]:
    """A topic's weekly trend on the screen: (week start, share %, bar height %)."""
    row = html.split(f'data-topic="{topic}"')[1].split("</li>\n    <li")[0]
    return re.findall(
        r'data-week="([\d-]+)" data-week-share="([^"]*)"><span class="week-fill"'
        r' data-height="([^"]*)"',
        row,
    )


async def test_the_topics_screen_shows_each_topics_share_week_by_week(tmp_path: Path) -> None:
    async with running_bot(tmp_path, min_sample=2) as h:
        await chain_with_answers(h)  # this week: 5 answers, 2 about products
        first = h.clock.now().date()
        h.clock.advance(timedelta(days=7))
        await h.start_customer(506)
        outcome = await h.post_visit(506, "visit-506", location="kyiv", staff="staff-1")
        await h.survey_for(506)
        survey_id = outcome["survey_id"]
        assert (await h.app.surveys.answer_nps(survey_id, 506, 5)).ok
        assert (await h.app.surveys.answer_ces(survey_id, 506, 3)).ok
        assert (await h.app.surveys.answer_reason(survey_id, 506, "the coffee was awful")).ok
        await h.settled()

        kate = await session_for(h, KATE)
        status, html = await view(h, kate, "topics?period=30d")
        assert status == 200
        weeks = topic_weeks(html, "product")
        monday = first - timedelta(days=first.weekday())
        busy = {start: (share, height) for start, share, height in weeks if share}
        # By hand: 2 of 5 answers the first week, 1 of 1 the next; bars against the top.
        assert busy == {
            monday.isoformat(): ("40.0", "40.0"),
            (monday + timedelta(days=7)).isoformat(): ("100.0", "100.0"),
        }
        assert len(weeks) >= 5  # every week touching the 30 days, empty ones too
        week = first.isocalendar()
        assert f'title="{week.year}-W{week.week:02d}: 2 / 5"' in html  # the counts
        # A year shows its last 13 weeks only.
        status, html = await view(h, kate, "topics?period=365d")
        assert len(topic_weeks(html, "product")) == 13
        # Staff attitude (Lviv's "rude staff") only the first week; Leo sees Lviv's alone.
        leo = await session_for(h, LEO)
        status, html = await view(h, leo, "topics?period=30d")
        lviv = {start: share for start, share, _ in topic_weeks(html, "staff_attitude") if share}
        assert lviv == {monday.isoformat(): "50.0"}  # 1 of Lviv's 2 answers
        assert 'data-topic="product"' not in html
