"""`otklik db copy`: a whole database moved between backends, ids and all."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from bot.cli.db import copy_command
from storage import anniversaries, cases, customers, outbox, rollups, surveys, visits
from storage.copy import columns, primary_key, table_names
from storage.customers import TelegramProfile
from storage.db import Connection, create_database, migrate
from tests.support.databases import fresh_schema, postgres_dsn, require_postgres

NOW = 1_795_000_000_000
Dump = dict[str, list[tuple[Any, ...]]]


async def seed(conn: Connection) -> None:
    """A little of everything, with an id gap (customer 2 deleted) that must survive."""
    ids = [
        (await customers.upsert_telegram(conn, TelegramProfile(tg, f"C{tg}", None, "en"), NOW)).id
        for tg in (101, 102, 103)
    ]
    await conn.execute("DELETE FROM customers WHERE id = :id", {"id": ids[1]})
    new_visit = visits.NewVisit(
        "till-1", ids[2], NOW, 120, "Main St", "Olga", "hall", "api", "2026-11-20"
    )
    visit = await visits.insert(conn, new_visit, "scheduled", None, NOW)
    assert visit is not None
    survey_id = await surveys.create(
        conn,
        visit_id=visit.id,
        customer_id=ids[2],
        location="Main St",
        staff="Olga",
        touchpoint="hall",
        day="2026-11-20",
        due_at=NOW,
        deadline_at=NOW + 1,
        now=NOW,
    )
    await surveys.mark_sent(
        conn, survey_id, chat_id=103, message_id=7, language="en", sent_at=NOW, expires_at=NOW
    )
    await surveys.answer_nps(conn, survey_id, 3, NOW)
    segment = rollups.Segment("2026-11-20", "Main St", "Olga", "hall")
    await rollups.add_sent(conn, segment)
    await rollups.add_nps(conn, segment, 3)
    await rollups.add_funnel(conn, "2026-11-20", "Main St", "answered")
    case_id = await cases.insert(
        conn, survey_id=survey_id, customer_id=ids[2], now=NOW, take_due_at=NOW + 10
    )
    assert case_id is not None
    await cases.add_event(conn, case_id, at=NOW, kind="opened", text="Ünïcode: ok ✓")
    await outbox.enqueue(
        conn, kind="alert", chat_id=-1001, priority=0, due_at=NOW, now=NOW, ref_id=survey_id,
        payload={"text": "quote ' and :colon"}, dedupe_key=f"alert:{survey_id}",
    )  # fmt: skip
    run_id = await anniversaries.start_run(
        conn, day=date(2026, 11, 20), mode="manual", started_by=900, now=NOW
    )
    await anniversaries.claim(conn, ids[0], 2026, NOW, run_id=run_id)


async def dump(url: str) -> Dump:
    database = create_database(url)
    await database.connect()
    try:
        async with database.read() as conn:
            result: Dump = {}
            for table in await table_names(conn):
                names = ", ".join(f'"{column.name}"' for column in await columns(conn, table))
                order = ", ".join(f'"{name}"' for name in await primary_key(conn, table))
                rows = await conn.fetch_all(f'SELECT {names} FROM "{table}" ORDER BY {order}')
                result[table] = [tuple(row.values()) for row in rows]
            return result
    finally:
        await database.close()


async def seeded(url: str) -> str:
    database = create_database(url)
    await database.connect()
    try:
        await migrate(database)
        async with database.transaction() as conn:
            await seed(conn)
    finally:
        await database.close()
    return url


async def next_customer_id(url: str) -> int:
    database = create_database(url)
    await database.connect()
    try:
        async with database.transaction() as conn:
            profile = TelegramProfile(999, "New", None, "en")
            return (await customers.upsert_telegram(conn, profile, NOW)).id
    finally:
        await database.close()


@pytest.fixture(params=["sqlite", "postgres"])
async def empty_target(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'target.sqlite3'}"
        return
    async with fresh_schema(require_postgres()) as url:
        yield url


async def test_copy_moves_every_row_with_its_id(
    tmp_path: Path, empty_target: str, capsys: pytest.CaptureFixture[str]
) -> None:
    source = await seeded(f"sqlite:///{tmp_path / 'source.sqlite3'}")
    assert await copy_command(source, empty_target, batch_size=2) == 0
    before, after = await dump(source), await dump(empty_target)
    assert after == before
    assert [row[0] for row in after["customers"]] == [1, 3]
    assert all(before[table] for table in ("visits", "cases", "case_events", "outbox"))
    output = capsys.readouterr().out
    assert "customers: 2 rows" in output and "copied" in output
    # The identity moved past the copied ids: the next customer is 4, not 1 or 2.
    assert await next_customer_id(empty_target) == 4


async def test_copy_back_from_postgresql_to_sqlite(tmp_path: Path) -> None:
    async with fresh_schema(require_postgres()) as postgres:
        await seeded(postgres)
        target = f"sqlite:///{tmp_path / 'back.sqlite3'}"
        assert await copy_command(postgres, target, batch_size=1000) == 0
        assert await dump(target) == await dump(postgres)
    assert await next_customer_id(target) == 4


@pytest.fixture
def filled_pair(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A seeded source and a target that already holds a customer."""
    source = f"sqlite:///{tmp_path / 'source.sqlite3'}"
    target = f"sqlite:///{tmp_path / 'busy.sqlite3'}"
    asyncio.run(seeded(source))
    asyncio.run(seeded(target))
    yield source, target


def test_a_target_with_data_is_refused_and_left_unchanged(
    filled_pair: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    source, target = filled_pair
    before = asyncio.run(dump(target))
    assert main(["db", "copy", "--from", source, "--to", target]) == 2
    error = capsys.readouterr().err
    assert "already has data" in error and "nothing was copied" in error
    assert asyncio.run(dump(target)) == before


async def test_a_postgresql_target_with_data_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = await seeded(f"sqlite:///{tmp_path / 'source.sqlite3'}")
    async with fresh_schema(require_postgres()) as target:
        await seeded(target)
        before = await dump(target)
        assert await copy_command(source, target, batch_size=1000) == 2
        assert await dump(target) == before
    assert "already has data" in capsys.readouterr().err


async def test_a_source_behind_on_migrations_is_refused(
    tmp_path: Path, empty_target: str, capsys: pytest.CaptureFixture[str]
) -> None:
    source = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    database = create_database(source)
    await database.connect()
    async with database.transaction() as conn:
        await conn.execute("CREATE TABLE schema_migrations (version INTEGER, name TEXT)")
        await conn.execute("INSERT INTO schema_migrations VALUES (1, 'core')")
    await database.close()
    assert await copy_command(source, empty_target, batch_size=10) == 2
    assert "otklik db migrate" in capsys.readouterr().err


async def test_bad_arguments_are_refused_before_touching_anything(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "missing.sqlite3"
    target = f"sqlite:///{tmp_path / 'target.sqlite3'}"
    assert await copy_command(f"sqlite:///{missing}", target, batch_size=10) == 2
    assert not missing.exists()
    assert await copy_command(target, target, batch_size=10) == 2
    assert await copy_command("mysql://x/y", target, batch_size=10) == 2
    assert "no such file" in capsys.readouterr().err


async def test_an_unreachable_target_is_one_line_without_the_password(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = await seeded(f"sqlite:///{tmp_path / 'source.sqlite3'}")
    target = "postgresql://otk:pw-secret@127.0.0.1:1/otk"
    assert await copy_command(source, target, batch_size=10) == 1
    error = capsys.readouterr().err
    assert "connection refused" in error and "pw-secret" not in error
    assert error.count("\n") == 1


def test_postgres_dsn_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_POSTGRES_DSN", "postgresql://u@h/db")
    assert postgres_dsn() == "postgresql://u@h/db"
    monkeypatch.delenv("TEST_POSTGRES_DSN")
    assert postgres_dsn() is None
