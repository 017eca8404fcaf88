"""Raw survey rows (and their visits and customers) for report tests, written without
touching the rollups; and the end-to-end steps of the NPS drop alert's tests."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from storage.db import Connection
from tests.support.harness import BotHarness

_visit_numbers = itertools.count(1)


@dataclass(frozen=True)
class Answer:
    day: str
    location: str
    staff: str
    touchpoint: str
    sent: bool
    nps: int | None
    ces: int | None
    reason: str | None = None


async def insert_customer(conn: Connection) -> int:
    row = await conn.fetch_one(
        "INSERT INTO customers (telegram_id, created_at, updated_at)"
        " VALUES (:tg, 0, 0) RETURNING id",
        {"tg": next(_visit_numbers)},
    )
    assert row is not None
    return int(row["id"])


async def insert_survey(conn: Connection, customer_id: int, answer: Answer) -> int:
    """A raw survey row plus its visit, without touching the rollups."""
    number = next(_visit_numbers)
    visit = await conn.fetch_one(
        "INSERT INTO visits (visit_key, customer_id, visited_at, location, staff, touchpoint,"
        " source, outcome, day, created_at) VALUES (:key, :customer, :at, :location, :staff,"
        " :touchpoint, 'api', 'scheduled', :day, :at) RETURNING id",
        {
            "key": f"V-{number}",
            "customer": customer_id,
            "at": 1_790_000_000_000 + number,
            "location": answer.location,
            "staff": answer.staff,
            "touchpoint": answer.touchpoint,
            "day": answer.day,
        },
    )
    assert visit is not None
    answered = answer.nps is not None
    row = await conn.fetch_one(
        "INSERT INTO surveys (visit_id, customer_id, location, staff, touchpoint, day, status,"
        " due_at, deadline_at, sent_at, nps, ces, reason, nps_at, ces_at, created_at)"
        " VALUES (:visit, :customer, :location, :staff, :touchpoint, :day, :status, 0, 0,"
        " :sent_at, :nps, :ces, :reason, :nps_at, :ces_at, 0) RETURNING id",
        {
            "visit": visit["id"],
            "customer": customer_id,
            "location": answer.location,
            "staff": answer.staff,
            "touchpoint": answer.touchpoint,
            "day": answer.day,
            "status": "answered" if answered else ("sent" if answer.sent else "scheduled"),
            "sent_at": 1_790_000_060_000 if answer.sent else None,
            "nps": answer.nps,
            "ces": answer.ces,
            "reason": answer.reason,
            "nps_at": 1_790_000_120_000 if answered else None,
            "ces_at": 1_790_000_180_000 if answer.ces is not None else None,
        },
    )
    assert row is not None
    return int(row["id"])


# --- the NPS drop alert, end to end ----------------------------------------------------

# A Monday, midday in Kyiv: the drop alert compares 16..22 November with the 28 days before.
MONDAY = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
DROP_TEXT = "fell by"


async def answer_days_ago(
    h: BotHarness, user_id: int, days: int, location: str, score: int
) -> None:
    """A customer visits `days` days before MONDAY and presses an NPS score."""
    h.clock.set(MONDAY - timedelta(days=days))
    await h.start_customer(user_id)
    await h.post_visit(user_id, f"pos-{user_id}", location=location)
    question = await h.survey_for(user_id)
    await h.press(user_id, question, str(score))
    # The CES question replaces the buttons once the NPS answer is stored.
    await h.fake.wait_for(
        lambda m: (
            m.message_id == question.message_id
            and m.chat_id == user_id
            and len(m.callback_data) == 7
        )
    )


async def maintenance_at(h: BotHarness, moment: datetime) -> None:
    h.clock.set(moment)
    await h.app.maintenance()
    await h.app.worker.drain()
