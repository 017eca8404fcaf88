"""The dashboard's queries on both databases: filters narrow the answers, paging walks
them newest first, a login link's nonce is used once."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import date
from typing import Any, cast

import pytest

from storage import bulk, cases, dashboard
from storage.db import Connection, Database
from storage.reports import rebuild_rollups
from tests.support.reports import Answer, insert_customer, insert_survey

DAY = "2026-11-10"
START, END = date(2026, 11, 1), date(2026, 11, 30)


async def _seed(db: Database) -> list[int]:
    answers = [
        Answer(DAY, "kyiv", "ann", "till", True, 10, 6, "Great coffee"),
        Answer(DAY, "kyiv", "bob", "till", True, 3, 2, "Холодный КОФЕ"),
        Answer(DAY, "lviv", "ann", "web", True, 8, None, "ok 100%"),
        Answer(DAY, "lviv", "cat", "web", True, None, None, None),  # sent, not answered
        Answer("2026-12-02", "kyiv", "ann", "till", True, 9, 7, "later"),
    ]
    async with db.transaction() as conn:
        customer = await insert_customer(conn)
        ids = [await insert_survey(conn, customer, answer) for answer in answers]
        await rebuild_rollups(conn)
    return ids


async def _ids(db: Database, **filters: object) -> list[int]:
    query = dashboard.ResponseFilter(start=START, end=END, **filters)  # type: ignore[arg-type]
    async with db.read() as conn:
        return [item.row.survey_id for item in await dashboard.responses_page(conn, query)]


async def test_filters_narrow_the_answers(db: Database) -> None:
    ids = await _seed(db)
    assert await _ids(db) == [ids[2], ids[1], ids[0]]
    assert await _ids(db, locations=["lviv"]) == [ids[2]]
    assert await _ids(db, locations=[]) == []
    assert await _ids(db, location="kyiv") == [ids[1], ids[0]]
    assert await _ids(db, staff="ann") == [ids[2], ids[0]]
    assert await _ids(db, touchpoint="web") == [ids[2]]
    assert await _ids(db, band=dashboard.ScoreBand.DETRACTOR) == [ids[1]]
    assert await _ids(db, band=dashboard.ScoreBand.PASSIVE) == [ids[2]]
    assert await _ids(db, band=dashboard.ScoreBand.PROMOTER) == [ids[0]]
    assert await _ids(db, text="coffee") == [ids[0]]
    assert await _ids(db, text="кофе") == [ids[1]]
    assert await _ids(db, text="0%") == [ids[2]]  # a LIKE wildcard is a plain character
    assert await _ids(db, text="_") == []
    query = dashboard.ResponseFilter(start=START, end=END)
    async with db.read() as conn:
        first = await dashboard.responses_page(conn, query, limit=2)
        page = await dashboard.responses_page(
            conn, query, before=dashboard.cursor_after(first), limit=2
        )
        every = [row.survey_id async for row in dashboard.iter_filtered(conn, query, 2)]
        facets = await dashboard.facets(conn, START, END, ["kyiv"])
    assert [item.row.survey_id for item in first] == [ids[2], ids[1]]
    assert [item.row.survey_id for item in page] == [ids[0]]
    assert dashboard.Cursor.parse(str(dashboard.cursor_after(first))) == dashboard.Cursor(
        DAY, ids[1]
    )
    for bad in ("", "12", "2026-13-01.5", "2026-11-10.x", "2026-11-10"):
        assert dashboard.Cursor.parse(bad) is None
    assert every == [ids[2], ids[1], ids[0]]
    assert facets == dashboard.Facets(["kyiv"], ["ann", "bob"], ["till"])


async def test_a_topic_narrows_the_answers_to_those_mentioning_it(db: Database) -> None:
    ids = await _seed(db)
    async with db.transaction() as conn:
        await conn.execute_many(
            "INSERT INTO survey_topics (survey_id, topic) VALUES (:id, :topic)",
            [
                {"id": ids[0], "topic": "product"},
                {"id": ids[1], "topic": "product"},
                {"id": ids[1], "topic": "staff_attitude"},
                {"id": ids[4], "topic": "product"},  # outside the period
            ],
        )
        # A forgotten customer's reason is blanked; its answer stays.
        await conn.execute("UPDATE surveys SET reason = '' WHERE id = :id", {"id": ids[2]})
    assert await _ids(db, topic="product") == [ids[1], ids[0]]
    assert await _ids(db, topic="staff_attitude") == [ids[1]]
    assert await _ids(db, topic="product", location="kyiv", band=dashboard.ScoreBand.PROMOTER) == [
        ids[0]
    ]
    assert await _ids(db, topic="wait") == []
    assert await _ids(db, topic="product", locations=["lviv"]) == []
    # The Topics screen's examples: answers with words only.
    assert await _ids(db) == [ids[2], ids[1], ids[0]]
    assert await _ids(db, with_reason=True) == [ids[1], ids[0]]
    query = dashboard.ResponseFilter(start=START, end=END, topic="product")
    async with db.read() as conn:
        every = [
            (row.survey_id, row.topics) async for row in dashboard.iter_filtered(conn, query, 1)
        ]
    # Each answer carries all its topics (the screen's labels, the CSV's column).
    assert every == [(ids[1], ("product", "staff_attitude")), (ids[0], ("product",))]


async def test_each_topics_latest_examples_in_scope_and_period(db: Database) -> None:
    ids = await _seed(db)
    async with db.transaction() as conn:
        await conn.execute_many(
            "INSERT INTO survey_topics (survey_id, topic) VALUES (:id, :topic)",
            [{"id": survey_id, "topic": "product"} for survey_id in ids]
            + [{"id": ids[0], "topic": "wait"}, {"id": ids[2], "topic": "wait"}],
        )
        await conn.execute("UPDATE surveys SET reason = '' WHERE id = :id", {"id": ids[2]})
    query = dashboard.ResponseFilter(start=START, end=END)
    async with db.read() as conn:
        found = await dashboard.topic_examples(conn, query, ["product", "wait", "price"])
        one = await dashboard.topic_examples(conn, query, ["product"], limit=1)
        kyiv = await dashboard.topic_examples(conn, replace(query, locations=["kyiv"]), ["wait"])
        lviv = await dashboard.topic_examples(conn, replace(query, location="lviv"), ["wait"])
        short = await dashboard.topic_examples(conn, query, ["product", "wait"], scan=3)
        none = await dashboard.topic_examples(conn, query, [])

    def shown(examples: dict[str, list[dashboard.Response]]) -> dict[str, list[int]]:
        return {topic: [item.row.survey_id for item in items] for topic, items in examples.items()}

    # Latest first; the blanked reason, the unanswered survey and December's left out;
    # a topic not asked for (or never mentioned) has no entry.
    assert shown(found) == {"product": [ids[1], ids[0]], "wait": [ids[0]]}
    assert found["product"][0].row.topics == ("product",)
    assert found["wait"][0].row.topics == ("product", "wait")
    assert shown(one) == {"product": [ids[1]]}
    assert shown(kyiv) == {"wait": [ids[0]]}
    assert lviv == {} and none == {}
    # Only the `scan` latest surveys of the period are looked through (here the
    # unanswered one, the blanked reason and the 3).
    assert shown(short) == {"product": [ids[1]]}


async def _window(
    db: Database,
    *,
    scan: int,
    limit: int = 50,
    before: dashboard.Cursor | None = None,
    **f: object,
) -> tuple[list[int], dashboard.Cursor | None]:
    query = dashboard.ResponseFilter(start=START, end=END, **f)  # type: ignore[arg-type]
    async with db.read() as conn:
        found = await dashboard.responses_window(
            conn, query, before=before, limit=limit, scan=scan
        )
    return [item.row.survey_id for item in found.items], found.resume


async def test_a_rare_match_is_read_within_the_scan_and_the_next_read_goes_on(
    db: Database,
) -> None:
    ids = await _seed(db)  # November, newest first: ids[3] (not answered), 2, 1, 0
    # Two surveys read: no "coffee" among them; the next read starts below them.
    assert await _window(db, scan=2, text="coffee") == ([], dashboard.Cursor(DAY, ids[2]))
    after = dashboard.Cursor(DAY, ids[2])
    assert await _window(db, scan=2, text="coffee", before=after) == ([ids[0]], None)
    # Enough surveys to reach it, or a full page: nothing to go on with.
    assert await _window(db, scan=4, text="coffee") == ([ids[0]], None)
    assert await _window(db, scan=2, limit=1) == ([ids[2]], None)
    # One location's surveys are counted alone (read along its own index).
    assert await _window(db, scan=1, location="kyiv", text="coffee") == (
        [],
        dashboard.Cursor(DAY, ids[1]),
    )
    assert await _window(db, scan=1, locations=["kyiv"], text="кофе") == (
        [ids[1]],
        dashboard.Cursor(DAY, ids[1]),
    )
    # Without a scan bound the same filters find the same answers.
    assert await _ids(db, text="coffee") == [ids[0]]


class _Recorder:
    """A connection that remembers the reads a repository makes."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self.dialect = conn.dialect
        self.reads: list[tuple[str, Any]] = []

    async def fetch_all(self, sql: str, params: Any = None) -> list[Any]:
        self.reads.append((sql, params))
        return await self._conn.fetch_all(sql, params)


async def _plans(db: Database, read: Callable[[Connection], Awaitable[object]]) -> list[str]:
    async with db.read() as conn:
        recorder = _Recorder(conn)
        await read(cast(Connection, recorder))
        plans = []
        for sql, params in recorder.reads:
            rows = await conn.fetch_all("EXPLAIN QUERY PLAN " + sql, params)
            plans.append(" | ".join(str(row["detail"]) for row in rows))
    return plans


async def test_pages_are_read_along_an_index_in_their_order(db: Database) -> None:
    """At a million answers a page must not sort its period or read other branches'
    answers: one location goes along (location, day, id), several along (day, id),
    and a scope's filter values come from its own locations' counters."""
    if db.dialect != "sqlite":
        pytest.skip("checks SQLite's EXPLAIN QUERY PLAN")
    await _seed(db)

    def span(**filters: Any) -> dashboard.ResponseFilter:
        return replace(dashboard.ResponseFilter(START, END), **filters)

    for query, index in (
        (span(location="kyiv", text="x"), "surveys_location_day"),
        (
            span(locations=["kyiv"], band=dashboard.ScoreBand.PASSIVE),
            "surveys_location_day",
        ),
        (span(locations=["kyiv", "lviv"], staff="a"), "surveys_day"),
        (span(text="x"), "surveys_day"),
    ):

        def read(conn: Connection, query: dashboard.ResponseFilter = query) -> Awaitable[object]:
            return dashboard.responses_window(conn, query)

        edge, page = (await _plans(db, read))[:2]  # then the page's topics
        for plan in (edge, page):
            assert f"INDEX {index} " in plan, (query, plan)
            assert "TEMP B-TREE FOR ORDER BY" not in plan, (query, plan)
        assert "COVERING INDEX" in edge, edge  # the scan's floor: the index alone
    locations, facets = await _plans(db, lambda conn: dashboard.facets(conn, START, END, ["kyiv"]))
    assert "daily_rollups_location" in facets, facets
    assert "daily_rollups" not in locations.replace("segment_rollups", ""), locations


async def test_topic_examples_are_read_along_an_index(db: Database) -> None:
    """The Topics screen's examples at a million answers: the scan's floor on the index
    alone, the answers above it along the same index in order, their topics by key."""
    if db.dialect != "sqlite":
        pytest.skip("checks SQLite's EXPLAIN QUERY PLAN")
    await _seed(db)
    for query, index in (
        (dashboard.ResponseFilter(START, END), "surveys_day"),
        (dashboard.ResponseFilter(START, END, locations=["kyiv"]), "surveys_location_day"),
        (dashboard.ResponseFilter(START, END, locations=["kyiv", "lviv"]), "surveys_day"),
    ):

        def read(conn: Connection, query: dashboard.ResponseFilter = query) -> Awaitable[object]:
            return dashboard.topic_examples(conn, query, ["product"], scan=2)

        edge, pairs = (await _plans(db, read))[:2]
        assert f"COVERING INDEX {index} " in edge, (query, edge)
        assert f"INDEX {index} " in pairs and "TEMP B-TREE" not in pairs, (query, pairs)
        assert "survey_topics" in pairs, pairs


async def test_a_login_nonce_is_used_once(db: Database) -> None:
    async with db.transaction() as conn:
        assert await dashboard.use_login(conn, "n1", 42, now=1_000, expires_at=2_000)
        assert not await dashboard.use_login(conn, "n1", 42, now=1_500, expires_at=2_000)
        # Forgotten once it would have expired anyway (it cannot open again then).
        assert await dashboard.use_login(conn, "n2", 42, now=3_000, expires_at=4_000)
        row = await conn.fetch_one("SELECT COUNT(*) AS n FROM dashboard_logins")
    assert row is not None and int(row["n"]) == 1


async def test_open_cases_come_by_their_running_deadline(db: Database) -> None:
    ids = await _seed(db)
    async with db.transaction() as conn:
        customer = await insert_customer(conn)
        late_new = await cases.insert(
            conn, survey_id=ids[1], customer_id=customer, now=0, take_due_at=500
        )
        taken = await cases.insert(
            conn, survey_id=ids[0], customer_id=customer, now=0, take_due_at=100
        )
        later_new = await cases.insert(
            conn, survey_id=ids[2], customer_id=customer, now=0, take_due_at=3_000
        )
        done = await cases.insert(
            conn, survey_id=ids[4], customer_id=customer, now=0, take_due_at=50
        )
        assert None not in (late_new, taken, later_new, done)
        assert taken is not None and done is not None
        # Taken: its resolve deadline runs now (2,000), not the take deadline it met.
        assert await cases.try_take(
            conn, taken, owner_id=7, owner_name="Kate", now=90, resolve_due_at=2_000
        )
        await conn.execute("UPDATE cases SET status = 'resolved' WHERE id = :id", {"id": done})
        every = await dashboard.open_cases_by_due(conn, None)
        kyiv = await dashboard.open_cases_by_due(conn, ["kyiv"], limit=1)
        counts = await dashboard.count_open_cases(conn, None, now=1_000)
        lviv = await dashboard.count_open_cases(conn, ["lviv"], now=5_000)
        # The screen's one read gives the same, scoped or not.
        for scope, now in ((None, 1_000), (["kyiv"], 1_000), (["lviv"], 5_000), (["x"], 0)):
            assert await dashboard.open_cases_page(conn, scope, now, limit=2) == (
                await dashboard.open_cases_by_due(conn, scope, limit=2),
                await dashboard.count_open_cases(conn, scope, now),
            ), scope
    assert [(item.id, item.due_at) for item in every] == [
        (late_new, 500),
        (taken, 2_000),
        (later_new, 3_000),
    ]
    assert every[1].owner_name == "Kate" and every[0].reason == "Холодный КОФЕ"
    assert [item.id for item in kyiv] == [late_new]
    assert counts == dashboard.OpenCounts(open=3, overdue=1)
    assert lviv == dashboard.OpenCounts(open=1, overdue=1)


async def test_after_a_bulk_load_postgresql_has_planner_statistics(db: Database) -> None:
    """bench/dashboard_bench.py measures PostgreSQL as autovacuum leaves it after a
    load; SQLite is left without statistics, as the bot runs it."""
    await _seed(db)
    async with db.transaction() as conn:
        await bulk.analyze(conn)
    async with db.read() as conn:
        if db.dialect == "postgresql":
            row = await conn.fetch_one(
                "SELECT COUNT(*) AS n FROM pg_stats"
                " WHERE schemaname = current_schema() AND tablename = 'surveys'"
            )
            assert row is not None and row["n"] > 0
        else:
            row = await conn.fetch_one(
                "SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'sqlite_stat1'"
            )
            assert row == {"n": 0}
