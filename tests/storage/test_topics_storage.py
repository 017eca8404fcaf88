"""What the reasons say, stored: a reason's topics written in its answer's transaction
and counted per day, month, location, topic and NPS band, on SQLite and PostgreSQL; the
counters equal a rebuild; a replaced reading moves the counts; a reason that came before
its NPS is counted when the NPS arrives; the period sums read the tiers."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.cli import build_parser
from bot.cli.topics import reclassify, reclassify_cli
from bot.core.clock import FakeClock, to_ms
from bot.core.policy import SurveyPolicy
from bot.i18n import load_translator
from bot.outbox.contracts import SendResult
from bot.survey.outbox import RenderContext, SurveyRenderer
from bot.survey.service import SurveyService
from bot.survey.texts import Wording
from bot.topics import TopicClassifier, load_taxonomy
from bot.visits.service import VisitRequest, VisitService
from storage import customers, outbox, topics
from storage.customers import TelegramProfile
from storage.db import Connection, Database, SqliteDatabase, migrate
from storage.models import Survey
from storage.reports import rollup_totals
from storage.rollups import Tally
from tests.support.settings import make_settings

ANN = 501
MESSAGE_ID = 4242
CLASSIFIER = TopicClassifier(load_taxonomy())
TOPIC_TABLES = ("topic_daily", "topic_monthly", "topic_total_daily", "topic_total_monthly")


@dataclass
class World:
    db: Database
    clock: FakeClock
    surveys: SurveyService
    visits: VisitService
    renderer: SurveyRenderer

    def now(self) -> int:
        return to_ms(self.clock.now())


async def _no_hook(conn: Connection, survey: Survey, now: int, *, first: bool) -> None:
    return None


@pytest.fixture
def world(db: Database, clock: FakeClock, tmp_path: Path) -> World:
    return world_on(db, clock, tmp_path)


def world_on(db: Database, clock: FakeClock, tmp_path: Path) -> World:
    settings = make_settings(tmp_path)
    policy = SurveyPolicy.from_settings(settings)
    context = RenderContext(
        db=db,
        clock=clock,
        translator=load_translator(),
        policy=policy,
        wording=Wording.from_settings(settings),
        manager_language=settings.default_language,
        zone=settings.zone,
    )
    service = SurveyService(
        db,
        clock,
        policy,
        on_detractor=_no_hook,
        classify=lambda text: CLASSIFIER.classify(text).topics,
    )
    return World(db, clock, service, VisitService(db, clock, policy), SurveyRenderer(context))


async def sent_survey(w: World, key: str, location: str = "Podil") -> int:
    """A new customer's survey, delivered (as the worker records a send)."""
    customer = ANN + int(key.rsplit("-", 1)[1])
    async with w.db.transaction() as conn:
        profile = TelegramProfile(customer, "Ann", None, "uk")
        await customers.upsert_telegram(conn, profile, w.now())
    outcome = await w.visits.register(VisitRequest(key, telegram_id=customer, location=location))
    assert outcome.survey_id is not None, outcome
    now = w.now()
    async with w.db.transaction() as conn:
        [item] = await outbox.claim_due(conn, now=now, owner="w1", lease_ms=60_000, limit=5)
        assert await outbox.start_sending(conn, [item.id], owner="w1", until=now + 300_000)
        await outbox.mark_sent_many(conn, [(item.id, MESSAGE_ID, now)])
        await w.renderer.on_sent_many(conn, [(item, SendResult(MESSAGE_ID))])
    return outcome.survey_id


async def customer_of(w: World, survey_id: int) -> int:
    async with w.db.read() as conn:
        row = await conn.fetch_one("SELECT chat_id FROM surveys WHERE id = :id", {"id": survey_id})
    assert row is not None
    return int(row["chat_id"])


async def answer(w: World, survey_id: int, nps: int, reason: str) -> None:
    who = await customer_of(w, survey_id)
    assert (await w.surveys.answer_nps(survey_id, who, nps, MESSAGE_ID)).ok
    assert (await w.surveys.answer_ces(survey_id, who, 4)).ok
    assert (await w.surveys.answer_reason(survey_id, who, reason)).ok


async def counters(db: Database) -> dict[str, list[dict[str, Any]]]:
    """Both tiers' non-zero rows (a count taken back to zero may leave its row)."""
    async with db.read() as conn:
        return {
            table: await conn.fetch_all(
                f"SELECT * FROM {table} WHERE count <> 0 ORDER BY 1, 2, 3, 4"
            )
            for table in TOPIC_TABLES
        }


async def assert_equal_to_rebuild(db: Database) -> None:
    maintained = await counters(db)
    async with db.transaction() as conn:
        await topics.rebuild(conn)
    assert await counters(db) == maintained


async def test_a_reason_gets_its_topics_counted_in_its_nps_band(world: World) -> None:
    first = await sent_survey(world, "pos-1")
    second = await sent_survey(world, "pos-2", location="Obolon")
    await answer(world, first, 3, "персонал не хамил, но очередь огромная")
    await answer(world, second, 10, "Fast service and fair prices")
    async with world.db.read() as conn:
        assert await topics.of_survey(conn, first) == ("wait",)
        assert await topics.of_surveys(conn, [first, second, 999]) == {
            first: ("wait",),
            second: ("price", "wait"),
        }
    day = world.clock.now().date().isoformat()
    found = await counters(world.db)
    assert [tuple(row.values()) for row in found["topic_daily"]] == [
        (day, "Obolon", "price", "promoters", 1),
        (day, "Obolon", "wait", "promoters", 1),
        (day, "Podil", "wait", "detractors", 1),
    ]
    assert [row["month"] for row in found["topic_monthly"]] == [day[:7]] * 3
    async with world.db.read() as conn:  # a scoped report's answers, read by location
        scoped = await rollup_totals(conn, day, day, "location", ["Obolon", "Lviv"])
        assert await rollup_totals(conn, day, day, "location", []) == []
    assert [(row.key, row.answered, row.promoters) for row in scoped] == [("Obolon", 1, 1)]
    assert [tuple(row.values()) for row in found["topic_total_daily"]] == [
        (day, "price", "promoters", 1),
        (day, "wait", "detractors", 1),
        (day, "wait", "promoters", 1),
    ]
    await assert_equal_to_rebuild(world.db)


async def test_a_skipped_or_topicless_reason_stores_no_topics(world: World) -> None:
    skipped, plain = await sent_survey(world, "pos-1"), await sent_survey(world, "pos-2")
    who = await customer_of(world, skipped)
    assert (await world.surveys.answer_nps(skipped, who, 8, MESSAGE_ID)).ok
    assert (await world.surveys.answer_ces(skipped, who, 6)).ok
    assert (await world.surveys.answer_reason(skipped, who, None)).ok
    await answer(world, plain, 9, "ok")
    async with world.db.read() as conn:
        assert await topics.of_surveys(conn, [skipped, plain]) == {}
    assert all(rows == [] for rows in (await counters(world.db)).values())


async def test_a_replaced_reading_moves_the_counts(world: World) -> None:
    survey_id = await sent_survey(world, "pos-1")
    await answer(world, survey_id, 5, "долго ждали")
    async with world.db.read() as conn:
        survey = await conn.fetch_one(
            "SELECT id, day, location, nps FROM surveys WHERE id = :id", {"id": survey_id}
        )
    assert survey is not None
    key = topics.SurveyKey(survey_id, survey["day"], survey["location"], survey["nps"])
    async with world.db.transaction() as conn:
        tally = Tally()
        assert await topics.replace(conn, tally, key, ["staff_attitude", "price"])
        await tally.write(conn)
    async with world.db.transaction() as conn:
        tally = Tally()
        assert not await topics.replace(conn, tally, key, ["price", "staff_attitude"])
        assert not tally
        assert await topics.of_survey(conn, survey_id) == ("price", "staff_attitude")
    daily = {
        (row["topic"], row["band"]): row["count"]
        for row in (await counters(world.db))["topic_daily"]
    }
    assert daily == {("price", "detractors"): 1, ("staff_attitude", "detractors"): 1}
    await assert_equal_to_rebuild(world.db)


async def test_topics_stored_before_the_nps_count_when_it_arrives(db: Database) -> None:
    async with db.transaction() as conn:
        row = await conn.fetch_one(
            "INSERT INTO customers (telegram_id, name, created_at, updated_at)"
            " VALUES (1, 'Ann', 0, 0) RETURNING id"
        )
        assert row is not None
        visit = await conn.fetch_one(
            "INSERT INTO visits (visit_key, customer_id, visited_at, location, staff, source,"
            " outcome, day, created_at) VALUES ('v1', :c, 0, 'Podil', '', 'api', 'scheduled',"
            " '2026-11-03', 0) RETURNING id",
            {"c": row["id"]},
        )
        assert visit is not None
        survey = await conn.fetch_one(
            "INSERT INTO surveys (visit_id, customer_id, location, staff, day, status, step,"
            " due_at, deadline_at, reason, created_at) VALUES (:v, :c, 'Podil', '',"
            " '2026-11-03', 'sent', 'nps', 0, 0, 'дорого', 0) RETURNING id",
            {"v": visit["id"], "c": row["id"]},
        )
        assert survey is not None
        survey_id = int(survey["id"])
        tally = Tally()
        await topics.store(
            conn, tally, topics.SurveyKey(survey_id, "2026-11-03", "Podil", None), ["price"]
        )
        assert not tally  # no band yet
        await conn.execute("UPDATE surveys SET nps = 9 WHERE id = :id", {"id": survey_id})
        await topics.count_answered(
            conn, tally, topics.SurveyKey(survey_id, "2026-11-03", "Podil", 9)
        )
        await tally.write(conn)
    found = await counters(db)
    assert [tuple(r.values()) for r in found["topic_daily"]] == [
        ("2026-11-03", "Podil", "price", "promoters", 1)
    ]
    await assert_equal_to_rebuild(db)


async def test_period_sums_read_months_and_edge_days_and_filter_locations(db: Database) -> None:
    tally = Tally()
    for day in ("2026-09-30", "2026-10-01", "2026-10-15", "2026-10-31", "2026-11-01"):
        tally.add_topic(day, "Podil", "wait", 3)
        tally.add_topic(day, "Obolon", "wait", 10)
    tally.add_topic("2026-10-15", "Obolon", "price", 8, 2)
    async with db.transaction() as conn:
        await tally.write(conn)
    async with db.read() as conn:
        october = await topics.totals(conn, "2026-10-01", "2026-10-31")
        edges = await topics.totals(conn, "2026-09-30", "2026-10-01", ["Podil"])
        nowhere = await topics.totals(conn, "2026-10-01", "2026-10-31", [])
    assert [(t.topic, t.band, t.count) for t in october] == [
        ("price", "passives", 2),
        ("wait", "detractors", 3),
        ("wait", "promoters", 3),
    ]
    assert [(t.topic, t.band, t.count) for t in edges] == [("wait", "detractors", 2)]
    assert nowhere == []


QUEUE_ONLY = """
mode = "replace"
[topics.queue]
labels = { en = "Queue", ru = "Очередь", uk = "Черга" }
phrases = { ru = ["очеред*"], uk = ["черг*"], en = ["queue*"] }
"""


async def test_reclassify_relabels_every_reason_and_rebuilds_the_counters(
    world: World, tmp_path: Path
) -> None:
    first, second = await sent_survey(world, "pos-1"), await sent_survey(world, "pos-2")
    await answer(world, first, 3, "персонал не хамил, но очередь огромная")
    await answer(world, second, 10, "Очень вежливый персонал")
    path = tmp_path / "topics.toml"
    path.write_text(QUEUE_ONLY, encoding="utf-8")

    done = await reclassify(world.db, TopicClassifier(load_taxonomy(path)), batch_size=1)
    assert (done.reasons, done.changed) == (2, 2)
    async with world.db.read() as conn:
        assert await topics.of_surveys(conn, [first, second]) == {first: ("queue",)}
    found = await counters(world.db)
    assert [(r["topic"], r["band"], r["count"]) for r in found["topic_monthly"]] == [
        ("queue", "detractors", 1)
    ]
    await assert_equal_to_rebuild(world.db)

    # Again with the same taxonomy: nothing changes. The built-in one puts them back.
    again = await reclassify(world.db, TopicClassifier(load_taxonomy(path)))
    assert (again.reasons, again.changed) == (2, 0)
    back = await reclassify(world.db, CLASSIFIER)
    assert back.changed == 2
    async with world.db.read() as conn:
        assert await topics.of_surveys(conn, [first, second]) == {
            first: ("wait",),
            second: ("staff_attitude",),
        }


async def test_otklik_topics_reclassify_uses_topics_file(
    tmp_path: Path, clock: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "topics.toml"
    path.write_text(QUEUE_ONLY, encoding="utf-8")
    settings = make_settings(tmp_path, topics_file=path)
    db = SqliteDatabase(tmp_path / "otklik.sqlite3")
    await db.connect()
    try:
        await migrate(db)
        w = world_on(db, clock, tmp_path)
        survey_id = await sent_survey(w, "pos-1")
        await answer(w, survey_id, 5, "очередь на кассе")
    finally:
        await db.close()
    args = build_parser().parse_args(["topics", "reclassify", "--batch-size", "100"])
    assert await reclassify_cli(settings, args.batch_size) == 0
    out = capsys.readouterr().out
    assert "reclassified 1 reasons: 1 changed" in out
    db = SqliteDatabase(tmp_path / "otklik.sqlite3")
    await db.connect()
    try:
        async with db.read() as conn:
            assert await topics.of_survey(conn, survey_id) == ("queue",)
    finally:
        await db.close()
    with pytest.raises(SystemExit):
        build_parser().parse_args(["topics", "reclassify", "--batch-size", "0"])
