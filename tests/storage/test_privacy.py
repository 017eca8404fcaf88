"""Finding a customer, the customer card, and erasing a customer's personal data."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.anniversaries import service as anniv
from bot.core.clock import to_ms
from bot.core.quiet import CustomerQuietHours
from bot.i18n import load_translator
from storage import anniversaries as store
from storage import privacy, rollups
from storage.copy import table_names
from storage.db import Connection, SqliteDatabase
from storage.outbox import enqueue

NOW = to_ms(datetime(2026, 5, 1, 9, 0, tzinfo=UTC))
TID = 5550001


async def add_customer(conn: Connection, **values: Any) -> int:
    row: dict[str, Any] = {
        "telegram_id": None,
        "external_id": None,
        "phone": None,
        "name": None,
        "username": None,
        "language": "ru",
        "customer_since": None,
        "since_md": None,
        "link_token": None,
        "opted_out": 0,
        "unreachable": 0,
    }
    row.update(values)
    if row["customer_since"]:
        row["since_md"] = row["customer_since"][5:]
    columns = ", ".join(row)
    found = await conn.fetch_one(
        f"INSERT INTO customers ({columns}, created_at, updated_at)"
        f" VALUES ({', '.join(':' + name for name in row)}, 0, 0) RETURNING id",
        row,
    )
    assert found is not None
    return int(found["id"])


async def add_answered_visit(
    conn: Connection,
    customer_id: int,
    key: str,
    *,
    day: str,
    nps: int | None,
    ces: int | None = None,
    reason: str | None = None,
    status: str = "completed",
    chat_id: int | None = TID,
) -> int:
    at = to_ms(datetime.fromisoformat(day + "T12:00:00+00:00"))
    visit = await conn.fetch_one(
        "INSERT INTO visits (visit_key, customer_id, visited_at, location, source, outcome,"
        " day, created_at) VALUES (:key, :cid, :at, 'center', 'api', 'scheduled', :day, 0)"
        " RETURNING id",
        {"key": key, "cid": customer_id, "at": at, "day": day},
    )
    assert visit is not None
    survey = await conn.fetch_one(
        "INSERT INTO surveys (visit_id, customer_id, location, day, status, due_at,"
        " deadline_at, chat_id, nps, ces, reason, nps_at, created_at)"
        " VALUES (:vid, :cid, 'center', :day, :status, :at, :at, :chat, :nps, :ces, :reason,"
        " :nps_at, 0) RETURNING id",
        {
            "vid": visit["id"],
            "cid": customer_id,
            "day": day,
            "status": status,
            "at": at,
            "chat": chat_id,
            "nps": nps,
            "ces": ces,
            "reason": reason,
            "nps_at": at if nps is not None else None,
        },
    )
    assert survey is not None
    segment = rollups.Segment(day, "center", "", "")
    if status != "scheduled":
        await rollups.add_sent(conn, segment)
    if nps is not None:
        await rollups.add_nps(conn, segment, nps)
    if ces is not None:
        await rollups.add_ces(conn, segment, ces)
    return int(survey["id"])


async def has_table(conn: Connection, name: str) -> bool:
    return name in await table_names(conn)


# --- lookup ------------------------------------------------------------------------


async def test_find_customer_by_phone_telegram_id_external_id_and_prefixes(
    db: SqliteDatabase,
) -> None:
    async with db.transaction() as conn:
        anna = await add_customer(
            conn, telegram_id=TID, phone="+79161234567", external_id="CRM-1", username="Anna_K"
        )
        bare = await add_customer(conn, phone="380501112233")  # stored without '+'
        # An external id that looks like another customer's Telegram id.
        clash = await add_customer(conn, external_id=str(TID))
        for query, expected in [
            ("+7 (916) 123-45-67", anna),
            ("7 916 123 45 67", anna),
            ("CRM-1", anna),
            ("ext:CRM-1", anna),
            (f"tg:{TID}", anna),
            ("@anna_k", anna),
            (f"#{anna}", anna),
            (f"id:{bare}", bare),
            ("+380 50 111 22 33", bare),
            ("phone:380501112233", bare),
            (f"ext:{TID}", clash),
        ]:
            found = await privacy.find_customer(conn, query)
            assert found is not None and found.id == expected, query
        assert await privacy.find_customer(conn, str(TID)) is None  # ambiguous
        assert [c.id for c in await privacy.find_customers(conn, str(TID))] == [clash, anna]
        for nothing in (
            "",
            "   ",
            "nobody",
            "#abc",
            "tg:x",
            "+7 916",
            "@",
            "9" * 30,
            "#" + "9" * 30,
        ):
            assert await privacy.find_customer(conn, nothing) is None, nothing


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("+7 (916) 123-45-67", "+79161234567"), ("380501112233", "+380501112233"), ("12", None)],
)
def test_normalize_phone(raw: str, expected: str | None) -> None:
    assert privacy.normalize_phone(raw) == expected


# --- the card ------------------------------------------------------------------------


async def test_customer_card(db: SqliteDatabase) -> None:
    async with db.transaction() as conn:
        customer = await add_customer(conn, telegram_id=TID, name="Anna", opted_out=1)
        other = await add_customer(conn, telegram_id=TID + 1)
        first = await add_answered_visit(conn, customer, "v1", day="2026-04-01", nps=3, ces=2)
        await add_answered_visit(conn, customer, "v2", day="2026-04-10", nps=None)
        last = await add_answered_visit(
            conn, customer, "v3", day="2026-04-20", nps=10, reason="great"
        )
        await add_answered_visit(conn, other, "v4", day="2026-04-21", nps=9, chat_id=TID + 1)
        cases = await has_table(conn, "cases")
        if cases:
            for survey, status in ((first, "taken"), (last, "resolved")):
                await conn.execute(
                    "INSERT INTO cases (survey_id, customer_id, status, opened_at,"
                    " take_due_at, updated_at) VALUES (:s, :c, :status, 0, 0, 0)",
                    {"s": survey, "c": customer, "status": status},
                )
        card = await privacy.customer_card(conn, customer, limit=2)
        assert await privacy.customer_card(conn, 999) is None
    assert card is not None
    assert card.customer.name == "Anna"
    assert card.visits_count == 3
    assert [v.day for v in card.last_visits] == ["2026-04-20", "2026-04-10"]
    assert card.answers_count == 2
    assert [(a.survey_id, a.nps, a.reason) for a in card.last_answers] == [
        (last, 10, "great"),
        (first, 3, None),
    ]
    assert (card.cases_count, card.open_cases) == ((2, 1) if cases else (0, 0))
    assert card.opted_out and not card.unreachable and not card.forgotten


# --- forgetting ------------------------------------------------------------------------


async def _snapshot(conn: Connection) -> dict[str, list[dict[str, Any]]]:
    return {
        "rollups": await conn.fetch_all("SELECT * FROM daily_rollups ORDER BY 1, 2, 3, 4"),
        "funnel": await conn.fetch_all("SELECT * FROM funnel_daily ORDER BY 1, 2, 3"),
        "scores": await conn.fetch_all(
            "SELECT id, customer_id, day, location, nps, ces, nps_at FROM surveys ORDER BY id"
        ),
        "visits": await conn.fetch_all("SELECT id, customer_id, day FROM visits ORDER BY id"),
    }


async def test_forget_erases_personal_data_and_keeps_reports(db: SqliteDatabase) -> None:
    async with db.transaction() as conn:
        customer = await add_customer(
            conn,
            telegram_id=TID,
            phone="+79161234567",
            external_id="CRM-1",
            name="Anna",
            username="anna_k",
            link_token="tok",
            customer_since="2020-05-01",
        )
        other = await add_customer(conn, telegram_id=TID + 1, name="Boris")
        await add_answered_visit(
            conn, customer, "v1", day="2026-04-01", nps=2, ces=3, reason="Rude, call +7916"
        )
        await add_answered_visit(conn, customer, "v2", day="2026-04-02", nps=9, reason="ok")
        sent = await add_answered_visit(
            conn, customer, "v3", day="2026-04-30", nps=None, status="sent"
        )
        scheduled = await add_answered_visit(
            conn, customer, "v4", day="2026-05-01", nps=None, status="scheduled"
        )
        await add_answered_visit(
            conn, other, "v5", day="2026-04-01", nps=10, reason="Boris' words", chat_id=TID + 1
        )
        await rollups.add_funnel(conn, "2026-04-01", "center", "answered")
        pending = await enqueue(
            conn,
            kind="survey",
            chat_id=TID,
            priority=2,
            due_at=NOW,
            now=NOW,
            payload={"survey_id": scheduled},
        )
        done = await enqueue(
            conn,
            kind="survey",
            chat_id=TID,
            priority=2,
            due_at=NOW,
            now=NOW,
            payload={"name": "Anna"},
        )
        await conn.execute(
            "UPDATE outbox SET status = 'sent', finished_at = :now WHERE id = :id",
            {"now": NOW, "id": done},
        )
        others = await enqueue(
            conn, kind="survey", chat_id=TID + 1, priority=2, due_at=NOW, now=NOW
        )
        before = await _snapshot(conn)

        assert await privacy.forget_customer(conn, customer, NOW) is True
        assert await privacy.forget_customer(conn, customer, NOW) is False
        assert await privacy.forget_customer(conn, 999, NOW) is False
        after = await _snapshot(conn)

        row = await conn.fetch_one("SELECT * FROM customers WHERE id = :id", {"id": customer})
        reasons = await conn.fetch_all(
            "SELECT customer_id, reason, status, chat_id, closed_reason FROM surveys ORDER BY id"
        )
        outbox = {r["id"]: r for r in await conn.fetch_all("SELECT * FROM outbox ORDER BY id")}
        found = await privacy.find_customer(conn, "+79161234567")
        # A later /start from the same Telegram account registers a new customer.
        again = await add_customer(conn, telegram_id=TID, name="Anna")
    assert before == after
    assert row is not None
    for column in (
        "telegram_id",
        "phone",
        "external_id",
        "name",
        "username",
        "link_token",
        "customer_since",
        "since_md",
        "since_source",
        "language",
    ):
        assert row[column] is None, column
    assert row["opted_out"] == 1 and row["forgotten_at"] == NOW
    assert [r["reason"] for r in reasons] == ["", "", None, None, "Boris' words"]
    assert [r["chat_id"] for r in reasons] == [None, None, None, None, TID + 1]
    by_id = {r["customer_id"]: r for r in reasons}
    assert by_id[other]["status"] == "completed"
    assert [(r["status"], r["closed_reason"]) for r in reasons[2:4]] == [
        ("expired", "forgotten"),
        ("skipped", "forgotten"),
    ]
    assert sent and pending and done and others
    assert (outbox[pending]["status"], outbox[pending]["last_error"]) == ("expired", "forgotten")
    assert outbox[pending]["payload"] == "{}"
    assert (outbox[done]["payload"], outbox[done]["chat_id"]) == ("{}", 0)
    assert (outbox[others]["status"], outbox[others]["chat_id"]) == ("pending", TID + 1)
    assert found is None
    assert again != customer


async def test_forget_ends_a_queued_thank_you_and_the_anniversary_list(
    db: SqliteDatabase,
) -> None:
    async with db.transaction() as conn:
        customer = await add_customer(conn, telegram_id=TID, customer_since="2020-05-01")
        await add_customer(conn, telegram_id=TID + 1, customer_since="2021-05-01")
    day = date(2026, 5, 1)
    async with db.transaction() as conn:
        day_plan = await anniv.plan_for(conn, day)
        run = await anniv.queue_plan(
            conn,
            day_plan,
            translator=load_translator(),
            company="C",
            now=NOW,
            due_at=NOW,
            quiet=CustomerQuietHours(None, ZoneInfo("UTC")),
        )
        assert await privacy.forget_customer(conn, customer, NOW)
        progress = await store.run_progress(conn, run.run_id)
        ledger = await conn.fetch_one(
            "SELECT status, last_error FROM anniversary_sends WHERE customer_id = :id",
            {"id": customer},
        )
        after = await anniv.plan_for(conn, date(2027, 5, 1))
    assert progress == store.RunProgress(sent=0, failed=1, left=1)
    assert ledger == {"status": "failed", "last_error": "forgotten"}
    assert [c.customer_id for c in after.to_send] == [customer + 1]


async def test_forget_erases_the_customers_words_in_cases(db: SqliteDatabase) -> None:
    async with db.transaction() as conn:
        if not await has_table(conn, "case_events"):
            pytest.skip("the cases migration (0002) is not in this tree")
        customer = await add_customer(conn, telegram_id=TID, name="Anna")
        survey = await add_answered_visit(conn, customer, "v1", day="2026-04-01", nps=1)
        case = await conn.fetch_one(
            "INSERT INTO cases (survey_id, customer_id, status, opened_at, take_due_at,"
            " updated_at) VALUES (:s, :c, 'taken', 0, 0, 0) RETURNING id",
            {"s": survey, "c": customer},
        )
        assert case is not None
        for actor, name, kind, text in [
            (TID, "Anna", "message_in", "my number is +7916"),
            (77, "Manager", "message_out", "We are sorry"),
        ]:
            await conn.execute(
                "INSERT INTO case_events (case_id, at, actor_id, actor_name, kind, text)"
                " VALUES (:case, 0, :actor, :name, :kind, :text)",
                {"case": case["id"], "actor": actor, "name": name, "kind": kind, "text": text},
            )
        assert await privacy.forget_customer(conn, customer, NOW)
        events = await conn.fetch_all(
            "SELECT actor_id, actor_name, kind, text FROM case_events ORDER BY id"
        )
    assert events == [
        {"actor_id": None, "actor_name": None, "kind": "message_in", "text": ""},
        {"actor_id": 77, "actor_name": "Manager", "kind": "message_out", "text": "We are sorry"},
    ]
