"""Anniversary rules, texts, the since_md selection and the never-twice ledger."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fluent.syntax import FluentParser, ast, visitor

from bot.anniversaries import service as anniv
from bot.core.clock import FakeClock, to_ms
from bot.core.quiet import CustomerQuietHours
from bot.i18n import load_translator
from storage import anniversaries as store
from storage.db import Connection, Database, SqliteDatabase, migrate
from tests.support.databases import reopen

NOW = to_ms(datetime(2026, 5, 1, 9, 0, tzinfo=UTC))
NO_QUIET_HOURS = CustomerQuietHours(None, ZoneInfo("UTC"))
LANGUAGES = ("en", "ru", "uk")
LOCALES = Path(__file__).resolve().parents[2] / "bot" / "locales"


async def add_customer(
    conn: Connection,
    *,
    since: str | None,
    telegram_id: int | None,
    name: str | None = "Anna",
    language: str | None = "en",
    opted_out: int = 0,
    unreachable: int = 0,
    forgotten_at: int | None = None,
) -> int:
    row = await conn.fetch_one(
        "INSERT INTO customers (telegram_id, name, language, customer_since, since_md,"
        " opted_out, unreachable, forgotten_at, created_at, updated_at)"
        " VALUES (:tid, :name, :language, :since, :md, :opted_out, :unreachable,"
        " :forgotten_at, 0, 0) RETURNING id",
        {
            "tid": telegram_id,
            "name": name,
            "language": language,
            "since": since,
            "md": since[5:] if since else None,
            "opted_out": opted_out,
            "unreachable": unreachable,
            "forgotten_at": forgotten_at,
        },
    )
    assert row is not None
    return int(row["id"])


# --- date rules -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "keys"),
    [
        (date(2026, 5, 1), ("05-01",)),
        (date(2027, 2, 28), ("02-28", "02-29")),
        (date(2028, 2, 28), ("02-28",)),
        (date(2028, 2, 29), ("02-29",)),
        (date(2027, 3, 1), ("03-01",)),
    ],
)
def test_since_month_days(day: date, keys: tuple[str, ...]) -> None:
    assert anniv.since_month_days(day) == keys


@pytest.mark.parametrize(
    ("since", "day", "years"),
    [
        (date(2016, 5, 1), date(2026, 5, 1), 10),
        (date(2025, 5, 1), date(2026, 5, 1), 1),
        (date(2026, 5, 1), date(2026, 5, 1), None),  # N = 0: joined today
        (date(2027, 5, 1), date(2026, 5, 1), None),  # a date in the future
        (date(2025, 5, 2), date(2026, 5, 1), None),
        (date(2020, 2, 29), date(2021, 2, 28), 1),  # leap day in a common year
        (date(2020, 2, 29), date(2021, 3, 1), None),
        (date(2020, 2, 29), date(2024, 2, 29), 4),  # on the day itself in leap years
        (date(2020, 2, 29), date(2024, 2, 28), None),  # ... never on the 28th too
        (date(2019, 2, 28), date(2024, 2, 28), 5),
        (date(2019, 2, 28), date(2024, 2, 29), None),
    ],
)
def test_years_on(since: date, day: date, years: int | None) -> None:
    assert anniv.years_on(since, day) == years


def test_every_customer_is_greeted_exactly_once_a_year_and_the_index_keys_agree() -> None:
    since_days = [date(2020, 1, 1) + timedelta(days=i) for i in range(366)]  # a leap year
    for year in (2027, 2028):
        greeted: dict[date, int] = dict.fromkeys(since_days, 0)
        day = date(year, 1, 1)
        while day.year == year:
            keys = set(anniv.since_month_days(day))
            by_rule = {s for s in since_days if anniv.years_on(s, day) is not None}
            assert by_rule == {s for s in since_days if store.since_md(s) in keys}, day
            for since in by_rule:
                greeted[since] += 1
            day += timedelta(days=1)
        assert set(greeted.values()) == {1}, year


@pytest.mark.parametrize(
    ("moment", "zone", "expected"),
    [
        (datetime(2026, 3, 31, 23, 30, tzinfo=UTC), "Europe/Moscow", date(2026, 4, 1)),
        (datetime(2026, 3, 31, 23, 30, tzinfo=UTC), "UTC", date(2026, 3, 31)),
        (datetime(2026, 4, 1, 2, 0, tzinfo=UTC), "America/New_York", date(2026, 3, 31)),
        (datetime(2026, 12, 31, 22, 0, tzinfo=UTC), "Europe/Kyiv", date(2027, 1, 1)),
    ],
)
def test_today_in_the_business_zone(moment: datetime, zone: str, expected: date) -> None:
    assert anniv.today_in(ZoneInfo(zone), FakeClock(moment)) == expected


def test_parse_day() -> None:
    assert anniv.parse_day(" 2026-12-01 ") == date(2026, 12, 1)
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        anniv.parse_day("01.12.2026")


# --- texts ------------------------------------------------------------------------

PLURALS = {
    "en": {1: "1 year", 2: "2 years", 5: "5 years", 11: "11 years", 21: "21 years",
           22: "22 years", 25: "25 years"},
    "ru": {1: "1 год", 2: "2 года", 5: "5 лет", 11: "11 лет", 21: "21 год",
           22: "22 года", 25: "25 лет"},
    "uk": {1: "1 рік", 2: "2 роки", 5: "5 років", 11: "11 років", 21: "21 рік",
           22: "22 роки", 25: "25 років"},
}  # fmt: skip


@pytest.mark.parametrize("language", LANGUAGES)
def test_years_plural_forms(language: str) -> None:
    translator = load_translator()
    for years, expected in PLURALS[language].items():
        assert anniv.years_phrase(translator, language, years) == expected


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("ru", "Анна, спасибо, что вы с нами уже 2 года!"),
        ("uk", "Анна, дякуємо, що ви з нами вже 2 роки!"),
        ("en", "Анна, thank you for being with us for 2 years!"),
        ("uk-UA", "Анна, дякуємо, що ви з нами вже 2 роки!"),
    ],
)
def test_default_text_uses_name_years_and_language(language: str, expected: str) -> None:
    text = anniv.thank_you_text(
        load_translator(), language, name="Анна", years=2, company="Кофейня"
    )
    assert text.startswith(expected)
    assert text.endswith("Кофейня")


def test_default_text_without_a_name_and_unknown_language_falls_back() -> None:
    translator = load_translator()
    text = anniv.thank_you_text(
        translator, "de", name="  ", years=5, company="X", default_language="ru"
    )
    assert text.startswith("Спасибо, что вы с нами уже 5 лет!")


@pytest.mark.parametrize(
    ("template", "name", "expected"),
    [
        ("{name}, {years} with {company}! ({n})", "Ann", "Ann, 5 лет with Cafe! (5)"),
        ("{ $name }, { $years }!", "Ann", "Ann, 5 лет!"),
        ("{name}, thanks for {years}!", None, "Thanks for 5 лет!"),
        ("Thank you, {name}, for {years}!", None, "Thank you, for 5 лет!"),
        ("Thank you, {name}!", None, "Thank you!"),
        ("Braces {unknown} and {0} stay", "Ann", "Braces {unknown} and {0} stay"),
    ],
)
def test_custom_template(template: str, name: str | None, expected: str) -> None:
    text = anniv.thank_you_text(
        load_translator(), "ru", name=name, years=5, company="Cafe", template=template
    )
    assert text == expected


# --- the locale files ---------------------------------------------------------------


class _Variables(visitor.Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def visit_VariableReference(self, node: ast.VariableReference) -> None:
        self.names.add(node.id.name)


def _admin_messages(language: str) -> dict[str, set[str]]:
    text = (LOCALES / language / "admin.ftl").read_text("utf-8")
    messages = {}
    for entry in FluentParser().parse(text).body:
        assert not isinstance(entry, ast.Junk), entry.content
        if isinstance(entry, ast.Message):
            found = _Variables()
            found.visit(entry)
            messages[entry.id.name] = found.names
    return messages


def test_admin_keys_are_complete_and_use_the_same_variables_in_every_language() -> None:
    translator = load_translator()
    english = _admin_messages("en")
    assert english, "admin.ftl has no messages"
    assert all(key.startswith(("admin-", "anniv-")) for key in english)
    for language in LANGUAGES:
        assert _admin_messages(language) == english, language
        assert set(english) <= translator.keys(language)


# --- selection through the index ---------------------------------------------------


async def test_candidates_select_by_month_day_and_flag_skipped(db: SqliteDatabase) -> None:
    async with db.transaction() as conn:
        ten = await add_customer(conn, since="2016-05-01", telegram_id=1, language="ru")
        one = await add_customer(conn, since="2025-05-01", telegram_id=2, language="uk")
        also_one = await add_customer(conn, since="2025-05-01", telegram_id=3)
        await add_customer(conn, since="2026-05-01", telegram_id=4)  # N = 0
        await add_customer(conn, since="2027-05-01", telegram_id=5)  # future
        await add_customer(conn, since="2020-05-02", telegram_id=6)  # another day
        await add_customer(conn, since="2020-05-01", telegram_id=None)  # no Telegram
        await add_customer(conn, since="2020-05-01", telegram_id=7, forgotten_at=1)
        opted = await add_customer(conn, since="2020-05-01", telegram_id=8, opted_out=1)
        gone = await add_customer(conn, since="2019-05-01", telegram_id=9, unreachable=1)
        await add_customer(conn, since=None, telegram_id=10)
    async with db.read() as conn:
        found = await store.candidates(conn, date(2026, 5, 1), ("05-01",))
        day_plan = await anniv.plan_for(conn, date(2026, 5, 1))
    assert [c.customer_id for c in found] == [ten, one, also_one, opted, gone]
    assert {c.customer_id: c.years for c in found}[ten] == 10
    assert [c.customer_id for c in day_plan.to_send] == [ten, one, also_one]
    assert day_plan.groups == (anniv.YearGroup(1, 2), anniv.YearGroup(10, 1))
    assert day_plan.languages == {"en": 1, "ru": 1, "uk": 1}
    assert (day_plan.skipped_opted_out, day_plan.skipped_unreachable) == (1, 1)
    assert day_plan.found == 5


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2027, 2, 28), {"2024-02-29": 3, "2020-02-28": 7}),
        (date(2028, 2, 28), {"2020-02-28": 8}),
        (date(2028, 2, 29), {"2024-02-29": 4}),
    ],
)
async def test_leap_day_customers_in_the_database(
    db: SqliteDatabase, day: date, expected: dict[str, int]
) -> None:
    async with db.transaction() as conn:
        await add_customer(conn, since="2024-02-29", telegram_id=1)
        await add_customer(conn, since="2020-02-28", telegram_id=2)
        await add_customer(conn, since="2020-03-01", telegram_id=3)
    async with db.read() as conn:
        day_plan = await anniv.plan_for(conn, day)
    assert {c.customer_since.isoformat(): c.years for c in day_plan.to_send} == expected


async def test_selection_uses_the_since_md_index(db: SqliteDatabase) -> None:
    if db.dialect != "sqlite":
        pytest.skip("checks SQLite's EXPLAIN QUERY PLAN")
    sql, params = store.candidates_query(date(2027, 2, 28), ("02-28", "02-29"))
    async with db.read() as conn:
        plan_rows = await conn.fetch_all("EXPLAIN QUERY PLAN " + sql, params)
    details = " | ".join(str(row["detail"]) for row in plan_rows)
    assert "USING INDEX customers_since_md" in details, details
    assert "SCAN c" not in details.replace("SCAN c USING", ""), details


# --- the ledger ----------------------------------------------------------------------


async def test_claim_twice_yields_one(db: SqliteDatabase) -> None:
    async with db.transaction() as conn:
        customer = await add_customer(conn, since="2020-05-01", telegram_id=1)
        assert await store.claim(conn, customer, 2026, NOW) is True
        assert await store.claim(conn, customer, 2026, NOW + 1) is False
        assert await store.claim(conn, customer, 2027, NOW) is True  # next year's is its own


async def test_concurrent_claims_yield_one(db: SqliteDatabase, tmp_path: Path) -> None:
    async with db.transaction() as conn:
        customer = await add_customer(conn, since="2020-05-01", telegram_id=1)

    async def claim_on(database: Database) -> bool:
        async with database.transaction() as conn:
            return await store.claim(conn, customer, 2026, NOW)

    # The same process twice, and a second instance on the same file (two bots).
    other = reopen(db)
    await other.connect()
    try:
        results = await asyncio.gather(
            claim_on(db), claim_on(other), claim_on(db), claim_on(other)
        )
    finally:
        await other.close()
    assert sorted(results) == [False, False, False, True]


async def _seed_day(db: SqliteDatabase) -> list[int]:
    async with db.transaction() as conn:
        return [
            await add_customer(conn, since="2016-05-01", telegram_id=101, language="ru"),
            await add_customer(conn, since="2025-05-01", telegram_id=102, language="uk"),
            await add_customer(conn, since="2024-05-01", telegram_id=103, name=None),
            await add_customer(conn, since="2024-05-01", telegram_id=104, opted_out=1),
        ]


async def _queue(database: Database, day_plan: anniv.AnniversaryPlan) -> anniv.QueuedRun:
    async with database.transaction() as conn:
        return await anniv.queue_plan(
            conn,
            day_plan,
            translator=load_translator(),
            company="Cafe",
            now=NOW,
            due_at=NOW,
            quiet=NO_QUIET_HOURS,
            started_by=900,
        )


async def _outbox(db: Database) -> list[dict[str, Any]]:
    async with db.read() as conn:
        return await conn.fetch_all(
            "SELECT chat_id, dedupe_key, payload, status FROM outbox WHERE kind = 'anniversary'"
            " ORDER BY chat_id"
        )


async def test_send_pressed_twice_or_by_two_admins_queues_each_customer_once(
    db: SqliteDatabase,
) -> None:
    await _seed_day(db)
    day = date(2026, 5, 1)
    async with db.read() as conn:
        first = await anniv.plan_for(conn, day)
        stale = await anniv.plan_for(conn, day)  # a second admin's preview, same moment
    assert first.count == 3
    assert (await _queue(db, first)).queued == 3
    assert (await _queue(db, stale)).queued == 0
    async with db.read() as conn:
        again = await anniv.plan_for(conn, day)
    assert (again.count, again.already_sent, again.skipped_opted_out) == (0, 3, 1)
    rows = await _outbox(db)
    assert [row["chat_id"] for row in rows] == [101, 102, 103]
    assert "Спасибо, что" not in rows[0]["payload"]  # ru customer has a name
    assert "10 лет" in rows[0]["payload"]
    assert "1 рік" in rows[1]["payload"]
    assert "Thank you for being with us for 2 years" in rows[2]["payload"]


async def test_two_bots_sending_at_once_queue_each_customer_once(
    db: SqliteDatabase,
) -> None:
    await _seed_day(db)
    other = reopen(db)
    await other.connect()
    try:
        async with db.read() as conn:
            day_plan = await anniv.plan_for(conn, date(2026, 5, 1))
        runs = await asyncio.gather(_queue(db, day_plan), _queue(other, day_plan))
    finally:
        await other.close()
    assert sorted(run.queued for run in runs) == [0, 3]
    assert len(await _outbox(db)) == 3


async def test_restart_in_the_middle_of_a_send(db: SqliteDatabase, tmp_path: Path) -> None:
    await _seed_day(db)
    day = date(2026, 5, 1)
    async with db.read() as conn:
        day_plan = await anniv.plan_for(conn, day)

    # The process dies while queueing: the transaction rolls back, nobody is claimed.
    class Crash(Exception):
        pass

    with pytest.raises(Crash):
        async with db.transaction() as conn:
            partial = anniv.AnniversaryPlan(day, day_plan.to_send[:2], ())
            await anniv.queue_plan(
                conn,
                partial,
                translator=load_translator(),
                company="C",
                now=NOW,
                due_at=NOW,
                quiet=NO_QUIET_HOURS,
            )
            raise Crash
    assert await _outbox(db) == []

    # It comes back (a new Database on the same file), queues, sends one, dies again.
    await db.close()
    restarted = reopen(db)
    await restarted.connect()
    try:
        run = await _queue(restarted, day_plan)
        async with restarted.transaction() as conn:
            first = await conn.fetch_one("SELECT MIN(id) AS id FROM outbox")
            assert first is not None
            assert await store.mark_sent(conn, int(first["id"]), NOW)
            assert not await store.mark_sent(conn, int(first["id"]), NOW)  # reported twice
        async with restarted.read() as conn:
            assert await store.run_progress(conn, run.run_id) == store.RunProgress(1, 0, 2)
            unfinished = await store.unfinished_runs(conn)
            assert [r.id for r in unfinished] == [run.run_id]
            resumed = await anniv.plan_for(conn, day)
        # Resuming after the restart adds nobody: the three are queued or sent.
        assert (await _queue(restarted, resumed)).queued == 0
        assert len(await _outbox(restarted)) == 3
    finally:
        await restarted.close()
        await db.connect()  # the fixture closes it


async def test_progress_and_summary_texts(db: SqliteDatabase) -> None:
    await _seed_day(db)
    async with db.read() as conn:
        day_plan = await anniv.plan_for(conn, date(2026, 5, 1))
    run = await _queue(db, day_plan)
    async with db.transaction() as conn:
        ids = [int(r["id"]) for r in await conn.fetch_all("SELECT id FROM outbox ORDER BY id")]
        await store.mark_sent(conn, ids[0], NOW)
        await store.mark_failed(conn, ids[1], NOW, "blocked")
        progress = await store.run_progress(conn, run.run_id)
        assert progress == store.RunProgress(sent=1, failed=1, left=1)
        await store.mark_sent(conn, ids[2], NOW)
        assert (await store.run_progress(conn, run.run_id)).finished
        assert await store.finish_run(conn, run.run_id, NOW)
        assert not await store.finish_run(conn, run.run_id, NOW)
        stored = await store.get_run(conn, run.run_id)
        done = await store.run_progress(conn, run.run_id)
    assert stored is not None and stored.status == store.DONE
    assert (stored.planned, stored.skipped_opted_out, stored.started_by) == (3, 1, 900)
    translator = load_translator()
    assert anniv.progress_text(translator, "ru", date(2026, 5, 1), progress).endswith(
        "отправлено 1 / ошибок 1 / осталось 1"
    )
    summary = anniv.summary_text(translator, "en", stored, done)
    assert "Sent: 2. Failed: 1." in summary
    assert "opted out 1" in summary


async def test_admin_preview_text(db: SqliteDatabase) -> None:
    await _seed_day(db)
    translator = load_translator()
    async with db.read() as conn:
        day_plan = await anniv.plan_for(conn, date(2026, 5, 1))
        empty = await anniv.plan_for(conn, date(2026, 5, 2))
    previews = anniv.preview_texts(translator, day_plan, company="Cafe")
    assert set(previews) == {"en", "ru", "uk"}
    text = anniv.admin_preview_text(translator, "ru", day_plan, previews)
    assert text.splitlines()[:3] == [
        "🎉 Годовщины 2026-05-01: 3 клиента.",
        "• 1 год: 1 клиент",
        "• 2 года: 1 клиент",
    ]
    assert "отписались 1" in text
    assert previews["uk"] in text and "Пример (украинский):" in text
    assert anniv.admin_preview_text(translator, "en", empty, {}) == (
        "No anniversaries on 2026-05-02."
    )


async def test_runs_on_a_day(db: SqliteDatabase) -> None:
    async with db.transaction() as conn:
        auto = await store.start_run(
            conn, day=date(2026, 5, 1), mode=store.AUTO, started_by=None, now=NOW
        )
        await store.start_run(
            conn, day=date(2026, 5, 1), mode=store.MANUAL, started_by=900, now=NOW
        )
        await store.set_run_message(conn, auto, chat_id=900, message_id=55)
        autos = await store.runs_on(conn, date(2026, 5, 1), store.AUTO)
        both = await store.runs_on(conn, date(2026, 5, 1))
    assert [(r.id, r.chat_id, r.message_id) for r in autos] == [(auto, 900, 55)]
    assert len(both) == 2


async def test_migrations_apply_once(db: SqliteDatabase) -> None:
    assert await migrate(db) == []
