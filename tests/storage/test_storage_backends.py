"""The two storage backends behave alike: SQLite (default) and PostgreSQL (asyncpg).

Tests taking `db` or `backend_url` run on both; the PostgreSQL half is skipped,
with the reason shown, where TEST_POSTGRES_DSN is not set.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.app import Otklik, StartupError
from bot.core.clock import FakeClock, to_ms
from bot.core.policy import SurveyPolicy
from bot.customers.service import CustomerService
from bot.visits.service import VisitRequest, VisitService
from storage import customers, privacy, surveys
from storage.copy import columns, table_names
from storage.customers import CrmCustomer, PhoneTaken, TelegramProfile
from storage.db import (
    Database,
    DatabaseUnavailable,
    SqliteDatabase,
    create_database,
    migrate,
    migration_files,
    redact_url,
)
from storage.db.postgres import PostgresDatabase, arguments, translate
from storage.db.sqlite import MANY_PARAMETERS, _numbered
from tests.support.databases import fresh_schema, reopen, require_postgres
from tests.support.harness import running_bot
from tests.support.settings import MANAGER_CHAT_ID, make_settings

PASSWORD = "s3cr3t-Pa55"
ANN = 501


@pytest.fixture(params=["sqlite", "postgres"])
async def backend_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty, unmigrated database of each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    async with fresh_schema(require_postgres()) as url:
        yield url


def _closed_port() -> int:
    """A local port nobody listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- :name -> $n ------------------------------------------------------------------


def test_each_name_becomes_one_positional_parameter() -> None:
    sql, names = translate("UPDATE t SET a = :now, b = :value WHERE c < :now")
    assert sql == "UPDATE t SET a = $1, b = $2 WHERE c < $1"
    assert names == ("now", "value")


def test_casts_strings_identifiers_and_comments_are_left_alone() -> None:
    sql, names = translate(
        "SELECT x::bigint, ':no', 'it''s :no', \"odd:no\" -- :no\n FROM t WHERE y = :yes::text"
    )
    assert names == ("yes",)
    assert sql == (
        "SELECT x::bigint, ':no', 'it''s :no', \"odd:no\" -- :no\n FROM t WHERE y = $1::text"
    )


async def test_many_named_parameters_are_bound_by_number_on_sqlite(tmp_path: Path) -> None:
    """A statement of more than MANY_PARAMETERS names (a multi-row INSERT) is bound by
    number on SQLite: the values land where the names say, a name used twice is one
    value, and ':x' in a string stays text."""
    names = [f"p{index}" for index in range(MANY_PARAMETERS + 8)]
    sql = (
        "SELECT "
        + ", ".join(f":{name} AS c{i}" for i, name in enumerate(names))
        + ", ':p0 is text' AS quoted, :p3 AS again"
    )
    assert _numbered(sql) is not None and _numbered("SELECT :a, :b") is None
    database = SqliteDatabase(tmp_path / "many.sqlite3")
    await database.connect()
    try:
        async with database.read() as conn:
            row = await conn.fetch_one(sql, {name: index * 10 for index, name in enumerate(names)})
    finally:
        await database.close()
    assert row is not None
    assert [row[f"c{i}"] for i in range(len(names))] == [i * 10 for i in range(len(names))]
    assert (row["quoted"], row["again"]) == (":p0 is text", 30)


def test_arguments_follow_the_names_and_flags_become_integers() -> None:
    sql, args = arguments(
        "SELECT :flag, :n, :flag, :text", {"text": "a", "n": 5, "flag": True, "unused": 0}
    )
    assert sql == "SELECT $1, $2, $1, $3"
    assert args == [1, 5, "a"]
    assert type(args[0]) is int


def test_a_missing_parameter_is_named() -> None:
    with pytest.raises(KeyError, match="missing_one"):
        arguments("SELECT :given, :missing_one", {"given": 1})


def test_translation_is_cached_per_sql_text() -> None:
    sql = "SELECT :cached_once"
    translate(sql)
    hits = translate.cache_info().hits
    translate(sql)
    assert translate.cache_info().hits == hits + 1


# --- URLs and errors ---------------------------------------------------------------


def test_the_backend_follows_the_url(tmp_path: Path) -> None:
    assert isinstance(create_database(f"sqlite:///{tmp_path}/a.db"), SqliteDatabase)
    assert isinstance(create_database("postgresql://u@h/db"), PostgresDatabase)
    assert isinstance(create_database("postgres://u@h/db"), PostgresDatabase)
    with pytest.raises(ValueError, match="DATABASE_URL"):
        create_database("mysql://u@h/db")


def test_passwords_are_redacted_from_urls() -> None:
    assert redact_url(f"postgresql://otk:{PASSWORD}@db:5432/otk") == (
        "postgresql://otk:***@db:5432/otk"
    )
    assert redact_url(f"postgresql://db/otk?user=a&password={PASSWORD}") == (
        "postgresql://db/otk?user=a&password=***"
    )
    assert redact_url("postgresql://otk@db/otk") == "postgresql://otk@db/otk"
    assert redact_url("sqlite:///var/otklik.sqlite3") == "sqlite:///var/otklik.sqlite3"


async def _connect_error(url: str) -> str:
    database = create_database(url)
    with pytest.raises(DatabaseUnavailable) as caught:
        await database.connect()
    await database.close()
    message = str(caught.value)
    assert PASSWORD not in message
    assert "\n" not in message
    return message


async def test_an_unreachable_server_is_one_clear_line_without_the_password() -> None:
    port = _closed_port()
    message = await _connect_error(f"postgresql://otk:{PASSWORD}@127.0.0.1:{port}/otk")
    assert message == (
        f"PostgreSQL at postgresql://otk:***@127.0.0.1:{port}/otk:"
        " connection refused (is the server running and listening there?)"
    )


async def test_a_malformed_url_is_one_clear_line_without_the_password() -> None:
    message = await _connect_error(f"postgresql://otk:{PASSWORD}@127.0.0.1:no-port/otk")
    assert message.startswith("PostgreSQL at postgresql://otk:***@127.0.0.1:no-port/otk:")
    assert "invalid DATABASE_URL" in message
    message = await _connect_error(f"postgresql://127.0.0.1/otk?password={PASSWORD}&sslmode=x")
    assert "password=***" in message and "sslmode" in message


async def test_an_unknown_database_is_named_by_the_server() -> None:
    dsn = require_postgres()
    base, _, _ = dsn.rpartition("/")
    if "@" in base:
        scheme, _, rest = base.partition("://")
        user_host = rest.split("@", 1)
        user = user_host[0].split(":", 1)[0]
        base = f"{scheme}://{user}:{PASSWORD}@{user_host[1]}"
    message = await _connect_error(f"{base}/otklik_no_such_database")
    assert 'database "otklik_no_such_database" does not exist' in message


async def test_the_bot_refuses_to_start_on_an_unreachable_database(tmp_path: Path) -> None:
    url = f"postgresql://otk:{PASSWORD}@127.0.0.1:{_closed_port()}/otk"
    app = Otklik(make_settings(tmp_path, database_url=url))
    with pytest.raises(StartupError) as caught:
        await app.start()
    assert str(caught.value).startswith("DATABASE_URL: PostgreSQL at postgresql://otk:***@")
    assert PASSWORD not in str(caught.value)


# --- migrations --------------------------------------------------------------------


async def test_migrations_apply_once_and_again_change_nothing(backend_url: str) -> None:
    database = create_database(backend_url)
    await database.connect()
    try:
        shipped = [version for version, _, _ in migration_files()]
        assert await migrate(database) == shipped
        assert await migrate(database) == []
        async with database.read() as conn:
            tables = set(await table_names(conn))
            rows = await conn.fetch_all("SELECT version FROM schema_migrations ORDER BY version")
        assert [row["version"] for row in rows] == shipped
        assert {"customers", "visits", "surveys", "outbox", "cases", "daily_rollups"} <= tables
    finally:
        await database.close()


async def test_instances_starting_together_migrate_once(backend_url: str) -> None:
    first = create_database(backend_url)
    await first.connect()
    second = reopen(first)
    await second.connect()
    try:
        results = await asyncio.gather(migrate(first), migrate(second))
    finally:
        await first.close()
        await second.close()
    shipped = [version for version, _, _ in migration_files()]
    assert sorted(results, key=len) == [[], shipped]


async def test_both_backends_get_the_same_tables_and_columns(tmp_path: Path) -> None:
    shapes = []
    async with fresh_schema(require_postgres()) as url:
        for database in (SqliteDatabase(tmp_path / "shape.sqlite3"), PostgresDatabase(url)):
            await database.connect()
            try:
                await migrate(database)
                async with database.read() as conn:
                    shapes.append(
                        {
                            table: [column.name for column in await columns(conn, table)]
                            for table in await table_names(conn)
                        }
                    )
            finally:
                await database.close()
    assert shapes[0] == shapes[1]


# --- what repositories see ---------------------------------------------------------


async def test_counts_sums_and_flags_come_back_as_on_sqlite(db: Database) -> None:
    big = 1_800_000_000_000  # epoch ms: beyond 32 bits
    async with db.transaction() as conn:
        await conn.execute_many(
            "INSERT INTO customers (telegram_id, opted_out, created_at, updated_at)"
            " VALUES (:tid, :out, :at, :at)",
            [
                {"tid": 1, "out": True, "at": big},
                {"tid": 2, "out": False, "at": big + 1},
                {"tid": 3, "out": 0, "at": big + 2},
            ],
        )
        changed = await conn.execute(
            "UPDATE customers SET unreachable = :flag WHERE opted_out = :flag", {"flag": False}
        )
        assert changed == 2
        assert await conn.execute("DELETE FROM customers WHERE id = -1") == 0
    async with db.read() as conn:
        row = await conn.fetch_one(
            "SELECT COUNT(*) AS n, SUM(created_at) AS total, MAX(created_at) AS newest,"
            " SUM(opted_out) AS opted_out, AVG(opted_out * 1.0) AS share,"
            " SUM(telegram_id) * 1.5 AS half_again"
            " FROM customers"
        )
        missing = await conn.fetch_one("SELECT * FROM customers WHERE id = -1")
    assert row == {
        "n": 3,
        "total": 3 * big + 3,
        "newest": big + 2,
        "opted_out": 1,
        "share": pytest.approx(1 / 3),
        "half_again": 9,
    }
    # SUM of BIGINT is NUMERIC on PostgreSQL: repositories still get an int.
    assert [type(row[name]) for name in ("n", "total", "newest", "opted_out")] == [int] * 4
    assert type(row["share"]) is float
    assert missing is None


async def test_a_failed_transaction_leaves_nothing(db: Database) -> None:
    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        async with db.transaction() as conn:
            await customers.upsert_telegram(conn, TelegramProfile(7, "A", None, "en"), 1)
            raise Boom
    async with db.read() as conn:
        assert await customers.by_telegram_id(conn, 7) is None


async def test_statements_sent_together_commit_and_roll_back_together(db: Database) -> None:
    insert = "INSERT INTO funnel_daily (day, location, event, count) VALUES (:day, 'Main', :e, 1)"
    async with db.transaction() as conn:
        await conn.execute_each([(insert, {"day": "2026-11-01", "e": "a"})])
        await conn.execute_each(
            [(insert, {"day": "2026-11-02", "e": "b"}), (insert, {"day": "2026-11-03", "e": "c"})]
        )
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
        async with db.transaction() as conn:
            await conn.execute_each(
                [
                    (insert, {"day": "2026-11-04", "e": "d"}),
                    (insert, {"day": "2026-11-01", "e": "a"}),
                ]
            )
    # The first statement of a transaction fails: nothing stays open or half-written,
    # and the next transaction works.
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
        async with db.transaction() as conn:
            await conn.execute(insert, {"day": "2026-11-01", "e": "a"})
    async with db.transaction():
        pass  # no statement at all
    async with db.transaction() as conn:
        await conn.execute(insert, {"day": "2026-11-05", "e": "e"})
    async with db.read() as conn:
        rows = await conn.fetch_all("SELECT event FROM funnel_daily ORDER BY day")
    assert [row["event"] for row in rows] == ["a", "b", "c", "e"]


# --- several instances on one database (real concurrency on PostgreSQL) -------------


async def test_visits_at_once_for_one_customer_schedule_one_survey(
    db: Database, clock: FakeClock, tmp_path: Path
) -> None:
    async with db.transaction() as conn:
        await customers.upsert_telegram(conn, TelegramProfile(ANN, "Ann", None, "en"), 1)
    policy = SurveyPolicy.from_settings(make_settings(tmp_path, survey_cooldown_days=30))
    others = [reopen(db) for _ in range(3)]
    for other in others:
        await other.connect()
    try:
        services = [VisitService(database, clock, policy) for database in (db, *others)]
        outcomes = await asyncio.gather(
            *(
                service.register(VisitRequest(f"till-{n}", telegram_id=ANN))
                for n, service in enumerate(services)
            )
        )
    finally:
        for other in others:
            await other.close()
    assert sorted(outcome.reason or outcome.status for outcome in outcomes) == [
        "cooldown",
        "cooldown",
        "cooldown",
        "scheduled",
    ]


async def test_one_crm_customer_imported_at_once_is_created_once(
    db: Database, clock: FakeClock
) -> None:
    other = reopen(db)
    await other.connect()
    record = CrmCustomer("crm-1", "+380501234567", "Olena", "uk", "2020-01-02")
    try:
        results = await asyncio.gather(
            *(CustomerService(database, clock).upsert_crm(record) for database in (db, other) * 2)
        )
    finally:
        await other.close()
    assert sorted(created for _, created in results) == [False, False, False, True]
    assert len({customer.id for customer, _ in results}) == 1


async def test_forget_pressed_twice_at_once_erases_once(db: Database) -> None:
    async with db.transaction() as conn:
        customer = await customers.upsert_telegram(conn, TelegramProfile(ANN, "Ann", "a", "en"), 1)
    other = reopen(db)
    await other.connect()

    async def forget(database: Database) -> bool:
        async with database.transaction() as conn:
            return await privacy.forget_customer(conn, customer.id, 2)

    try:
        results = await asyncio.gather(forget(db), forget(other))
    finally:
        await other.close()
    assert sorted(results) == [False, True]


async def test_two_chats_claiming_one_crm_record_leave_both_identities(
    db: Database, clock: FakeClock
) -> None:
    service = CustomerService(db, clock)
    crm, _ = await service.upsert_crm(CrmCustomer("crm-2", None, "Olena", "uk", None))
    assert crm.link_token is not None
    other = reopen(db)
    await other.connect()
    try:
        results = await asyncio.gather(
            service.start(TelegramProfile(601, "A", None, "en"), crm.link_token),
            CustomerService(other, clock).start(
                TelegramProfile(602, "B", None, "en"), crm.link_token
            ),
        )
    finally:
        await other.close()
    async with db.read() as conn:
        owner = await customers.get(conn, crm.id)
        first = await customers.by_telegram_id(conn, 601)
        second = await customers.by_telegram_id(conn, 602)
    assert owner is not None and owner.telegram_id in (601, 602)
    # Whoever lost keeps their own record: no Telegram identity is dropped.
    assert first is not None and second is not None
    assert sorted(result.customer.id == crm.id for result in results) == [False, True]


# --- the whole bot on PostgreSQL ----------------------------------------------------


async def test_core_loop_on_postgresql(tmp_path: Path, postgres_url: str) -> None:
    clock = FakeClock()
    async with running_bot(tmp_path, clock, database_url=postgres_url) as h:
        assert h.app.db.dialect == "postgresql"
        await h.start_customer(ANN)
        outcome = await h.post_visit(ANN, "pos-pg-1", location="Main St", staff="Olga")
        assert outcome["status"] == "scheduled"
        again = await h.post_visit(ANN, "pos-pg-1", location="Main St", staff="Olga")
        assert again["duplicate"] is True and again["survey_id"] == outcome["survey_id"]

        survey_message = await h.survey_for(ANN)
        await h.press(ANN, survey_message, "3")
        ces = await h.fake.wait_for(
            lambda m: m.message_id == survey_message.message_id and len(m.callback_data) == 7
        )
        alert = await h.fake.wait_for_message(MANAGER_CHAT_ID, text_contains="NPS: 3")
        assert "Main St" in alert.text and "Olga" in alert.text
        await h.press(ANN, ces, "2")
        await h.fake.wait_for(
            lambda m: m.message_id == survey_message.message_id and "went wrong" in m.text
        )
        await h.fake.send_text(ANN, "The queue was 40 minutes long")
        await h.fake.wait_for_message(ANN, text_contains="A manager will look into it")

        async with h.app.db.read() as conn:
            stored = await surveys.get(conn, outcome["survey_id"])
            rollup = await conn.fetch_one(
                "SELECT SUM(answered) AS answered, SUM(detractors) AS detractors,"
                " SUM(ces_sum) AS ces_sum FROM daily_rollups"
            )
        assert stored is not None
        assert (stored.nps, stored.ces, stored.reason, stored.status) == (
            3,
            2,
            "The queue was 40 minutes long",
            "completed",
        )
        assert rollup == {"answered": 1, "detractors": 1, "ces_sum": 2}
        assert stored.nps_at == to_ms(clock.now())

    # A restarted instance on the same database sees it all and sends nothing again.
    clock.advance(timedelta(minutes=5))
    async with running_bot(tmp_path, clock, users=(ANN,), database_url=postgres_url) as h:
        await h.app.maintenance()
        await h.app.worker.run_once()
        await h.app.worker.drain()
        assert h.fake.messages_to(ANN) == []


async def test_a_crm_phone_of_another_customer_is_refused_and_changes_nothing(
    db: Database, clock: FakeClock
) -> None:
    service = CustomerService(db, clock)
    first, _ = await service.upsert_crm(CrmCustomer("crm-1", "+380501234567", "Olena", "uk", None))
    with pytest.raises(PhoneTaken, match=r"\+380501234567 belongs to another customer"):
        await service.upsert_crm(CrmCustomer("crm-2", "+380501234567", "Petro", "uk", None))
    async with db.read() as conn:
        assert await customers.by_external_id(conn, "crm-2") is None
        owner = await customers.by_phone(conn, "+380501234567")
    assert owner is not None and owner.id == first.id


async def test_closing_postgres_cuts_a_connection_that_is_never_released() -> None:
    """A stopping instance must not wait forever for work that never finishes: a
    connection still held after the grace period is cut, and close() returns."""
    async with fresh_schema(require_postgres()) as url:
        database = PostgresDatabase(url, close_grace_seconds=0.5)
        await database.connect()
        held = asyncio.Event()
        never = asyncio.Event()

        async def stuck() -> None:
            async with database.read() as conn:
                await conn.fetch_one("SELECT 1 AS one")
                held.set()
                await never.wait()

        task = asyncio.create_task(stuck())
        await held.wait()
        await asyncio.wait_for(database.close(), 5)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_a_file_that_is_not_a_database_is_one_clear_line_and_leaves_no_thread(
    tmp_path: Path,
) -> None:
    junk = tmp_path / "otklik.sqlite3"
    junk.write_bytes(b"this is not a database, it is a shopping list\n" * 100)
    before = set(threading.enumerate())
    database = SqliteDatabase(junk)
    with pytest.raises(DatabaseUnavailable) as caught:
        await database.connect()
    assert str(caught.value) == f"SQLite at {junk}: file is not a database"
    # aiosqlite's threads are not daemons: one left behind would keep the process alive.
    for thread in set(threading.enumerate()) - before:
        thread.join(timeout=5)
        assert not thread.is_alive(), thread.name
    assert junk.read_bytes().startswith(b"this is not a database")
