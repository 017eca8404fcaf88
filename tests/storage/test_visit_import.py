"""`otklik visits import FILE.csv`, on SQLite and PostgreSQL: the rows go through
VisitService.register_many in chunks, as POST /api/v1/visits:batch does; each bad row
is reported by its line, the others registered, a second import creates nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.cli.imports import import_visits
from storage import customers
from storage.db import create_database, migrate
from tests.support.settings import make_settings

ANN = 501


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'otklik.sqlite3'}"
    return str(request.getfixturevalue("postgres_url"))


async def _count(url: str, table: str) -> int:
    db = create_database(url)
    await db.connect()
    try:
        async with db.read() as conn:
            row = await conn.fetch_one(f"SELECT COUNT(*) AS n FROM {table}")
    finally:
        await db.close()
    assert row is not None
    return int(row["n"])


async def test_rows_are_registered_and_bad_lines_named(
    tmp_path: Path, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    db = create_database(database_url)
    await db.connect()
    try:
        await migrate(db)
        async with db.transaction() as conn:
            profile = customers.TelegramProfile(ANN, "Ann", None, "en")
            await customers.upsert_telegram(conn, profile, 0)
    finally:
        await db.close()
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    path = tmp_path / "visits.csv"
    path.write_text(
        "visit_id,telegram_id,phone,external_id,visited_at,location,staff,touchpoint\n"
        f"v-1,{ANN},,,,main,Olga,cashier\n"  # line 2: scheduled
        "v-2,999,,,,main,,\n"  # line 3: unknown customer
        "v-3,forty-two,,,,,,\n"  # line 4: refused
        f"v-1,{ANN},,,,,,\n"  # line 5: v-1 again
        f"v-5,{ANN},,,{future},,,\n"  # line 6: refused by the service
        f"v-6,{ANN},,,,,,\n",  # line 7: Ann's cooldown
        encoding="utf-8",
    )
    settings = make_settings(tmp_path, database_url=database_url)
    assert await import_visits(settings, path) == 1
    out, err = capsys.readouterr()
    assert out.strip() == (
        "duplicate: 1, error: 2, scheduled: 1, skipped:cooldown: 1, skipped:unknown_customer: 1"
    )
    assert err.splitlines() == [
        "line 4: error: telegram_id: expected a whole number",
        "line 6: error: visited_at: is in the future",
    ]
    assert (await _count(database_url, "visits"), await _count(database_url, "surveys")) == (3, 1)
    assert await import_visits(settings, path) == 1
    out, _ = capsys.readouterr()
    assert out.strip() == "duplicate: 4, error: 2"
    assert await _count(database_url, "visits") == 3
