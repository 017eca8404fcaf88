"""The demo's data seen by the running bot: /stats in the managers' chat and
GET /api/v1/stats show exactly the counts the demo's plan implies."""

from __future__ import annotations

from pathlib import Path

from bot.core.clock import FakeClock
from bot.demo.build import demo_settings, generate
from bot.demo.chain import TIMEZONE
from bot.demo.plan import DemoPlan
from tests.support.demo import NOW, SMALL, expected
from tests.support.harness import running_bot
from tests.support.settings import MANAGER_CHAT_ID

MANAGER = 700


async def test_stats_and_the_api_show_what_the_demo_plan_implies(tmp_path: Path) -> None:
    settings = demo_settings(f"sqlite:///{tmp_path / 'otklik.sqlite3'}")
    summary = await generate(settings, NOW, scale=SMALL)
    assert summary.refused == []
    plan = DemoPlan(settings, NOW, scale=SMALL)
    want = expected(settings, NOW, SMALL, plan.start_day, NOW.date())
    total = {
        name: sum(counts[name] for counts in want.by_location.values())
        for name in ("sent", "answered", "promoters", "passives", "detractors", "ces_count")
    }

    async with running_bot(tmp_path, FakeClock(NOW), timezone=TIMEZONE, min_sample=1) as h:
        status, body = await h.call("GET", "/api/v1/stats?period=10d&segment=location")
        h.fake.user(MANAGER, "Mia", "en")
        since = len(h.fake.sent)
        await h.fake.send_text(MANAGER, "/stats 10d location", chat_id=MANAGER_CHAT_ID)
        reply = await h.fake.wait_for(
            lambda m: m.chat_id == MANAGER_CHAT_ID and "NPS" in m.text, since=since
        )

    assert status == 200, body
    assert body["period"] == {"start": plan.start_day.isoformat(), "end": NOW.date().isoformat()}
    api = {
        item["key"]: {
            name: item[name]
            for name in ("sent", "answered", "promoters", "passives", "detractors", "ces_count")
        }
        for item in body["segments"]
    }
    assert api == {
        key: {name: counts[name] for name in next(iter(api.values()))}
        for key, counts in want.by_location.items()
    }
    assert {name: body["total"][name] for name in total} == total
    nps = body["total"]["nps"]
    assert f"Overall: NPS {nps} ±" in reply.text and f"(n={total['answered']})" in reply.text
    assert f"Surveys: {total['sent']} sent · {total['answered']} answered" in reply.text
