"""The dashboard and the topics of the reasons: the Responses screen (and its CSV)
narrowed to a topic, scoped like the rest."""

from __future__ import annotations

import re
from pathlib import Path

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
        rows = csv.lstrip("\ufeff").splitlines()
        assert len(rows) == 3 and rows[1].startswith(f"{surveys[503]},")
        # An unknown topic is a clear 400 and nothing else.
        status, html = await view(h, kate, "responses?period=30d&topic=weather")
        assert status == 400 and "data-survey" not in html

        # A branch manager (Lviv) filters among their own answers only.
        leo = await session_for(h, LEO)
        status, html = await view(h, leo, "responses?period=30d&topic=product")
        assert status == 200 and shown(html) == []
        status, html = await view(h, leo, "responses?period=30d&topic=staff_attitude")
        assert shown(html) == [surveys[504]]
