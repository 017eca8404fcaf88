"""What the reasons say: each survey's topics and their counters.

A survey's reason is classified (bot/topics) before its transaction; `store` writes the
topics in that transaction and counts each in `topic_daily` / `topic_monthly` (through
`storage.rollups.Tally`, like the other counters) on the survey's business day, location
and NPS band. A survey whose NPS is not known yet is counted when it arrives
(`count_answered`). `replace` puts a new reading in place of the old one (an edited
reason, `otklik topics reclassify`), taking the old topics' counts back and adding the
new ones. `rebuild` recomputes every counter from `survey_topics` and the surveys.

`totals` reads a period's counters per topic and band (whole months from the monthly
tier, the edges from the daily one), so a report costs the same at 10k and at 1M answers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from storage.db import Connection, id_in
from storage.reports import (
    DayLike,
    _as_date,
    _page_topics,
    _tiered_query,
    _Tiers,
    plan_period,
)
from storage.rollups import Tally

BANDS = ("promoters", "passives", "detractors")


@dataclass(frozen=True, slots=True)
class SurveyKey:
    """Where a survey's topics are counted: its day, location and NPS (None: not yet)."""

    survey_id: int
    day: str
    location: str
    nps: int | None


@dataclass(frozen=True, slots=True)
class TopicCount:
    """How many answers of one NPS band mention one topic, summed over a period."""

    topic: str
    band: str
    count: int


def _ordered(topics: Iterable[str]) -> list[str]:
    return sorted(set(topics))


async def store(conn: Connection, tally: Tally, survey: SurveyKey, topics: Sequence[str]) -> None:
    """A first reading of a survey's reason: its topics (none is fine) and their counts.
    A survey that already has topics keeps them; use `replace` for a new reading."""
    if not topics:
        return
    await replace(conn, tally, survey, topics)


async def replace(
    conn: Connection, tally: Tally, survey: SurveyKey, topics: Sequence[str]
) -> bool:
    """Put `topics` in place of the survey's stored ones (an edited reason, a new
    taxonomy): the dropped topics' counts go down by one, the added ones' up by one.
    Returns whether anything changed. In the caller's transaction."""
    old = set(await of_survey(conn, survey.survey_id))
    new = set(topics)
    dropped, added = sorted(old - new), sorted(new - old)
    if not dropped and not added:
        return False
    if dropped:
        await conn.execute_many(
            "DELETE FROM survey_topics WHERE survey_id = :id AND topic = :topic",
            [{"id": survey.survey_id, "topic": topic} for topic in dropped],
        )
    if added:
        await conn.execute_many(
            "INSERT INTO survey_topics (survey_id, topic) VALUES (:id, :topic)",
            [{"id": survey.survey_id, "topic": topic} for topic in added],
        )
    if survey.nps is not None:
        for topic in dropped:
            tally.add_topic(survey.day, survey.location, topic, survey.nps, -1)
        for topic in added:
            tally.add_topic(survey.day, survey.location, topic, survey.nps)
    return True


async def count_answered(conn: Connection, tally: Tally, survey: SurveyKey) -> None:
    """The survey's NPS has just been stored: count the topics its reason already had
    (a reason that came first). Nothing to do for a survey without topics."""
    if survey.nps is None:
        return
    for topic in await of_survey(conn, survey.survey_id):
        tally.add_topic(survey.day, survey.location, topic, survey.nps)


async def of_survey(conn: Connection, survey_id: int) -> tuple[str, ...]:
    """The survey's topics, by id."""
    rows = await conn.fetch_all(
        "SELECT topic FROM survey_topics WHERE survey_id = :id ORDER BY topic",
        {"id": survey_id},
    )
    return tuple(str(row["topic"]) for row in rows)


async def of_surveys(conn: Connection, survey_ids: Sequence[int]) -> dict[int, tuple[str, ...]]:
    """Each listed survey's topics (surveys without any are left out), in one query."""
    return await _page_topics(conn, list(survey_ids))


@dataclass(frozen=True, slots=True)
class Reason:
    """A stored reason to classify again."""

    key: SurveyKey
    text: str


async def reasons_page(conn: Connection, after_id: int, limit: int) -> list[Reason]:
    """Stored reasons with words (a forgotten customer's blanked reasons keep the topics
    they had), ordered by survey id, those after `after_id`."""
    rows = await conn.fetch_all(
        "SELECT id, day, location, nps, reason FROM surveys"
        " WHERE id > :after AND reason IS NOT NULL AND reason <> ''"
        " ORDER BY id LIMIT :limit",
        {"after": after_id, "limit": limit},
    )
    return [
        Reason(
            SurveyKey(
                int(row["id"]),
                str(row["day"]),
                str(row["location"]),
                None if row["nps"] is None else int(row["nps"]),
            ),
            str(row["reason"]),
        )
        for row in rows
    ]


async def current_reasons(conn: Connection, survey_ids: Sequence[int]) -> dict[int, Reason]:
    """The listed surveys' reasons as they are now, in the caller's transaction; on
    PostgreSQL their rows are locked until it ends (in id order), so an answer or an edit
    of the same survey waits instead of writing a reading between ours."""
    if not survey_ids:
        return {}
    where, ids = id_in(conn, "id", sorted(survey_ids))
    lock = " FOR UPDATE" if conn.dialect == "postgresql" else ""
    rows = await conn.fetch_all(
        f"SELECT id, day, location, nps, reason FROM surveys WHERE {where} ORDER BY id{lock}",
        {"ids": ids},
    )
    return {
        int(row["id"]): Reason(
            SurveyKey(
                int(row["id"]),
                str(row["day"]),
                str(row["location"]),
                None if row["nps"] is None else int(row["nps"]),
            ),
            str(row["reason"] or ""),
        )
        for row in rows
    }


_REBUILD_SELECT = """
SELECT s.day, s.location, t.topic,
       CASE WHEN s.nps >= 9 THEN 'promoters' WHEN s.nps >= 7 THEN 'passives'
            ELSE 'detractors' END AS band,
       COUNT(*) AS count
FROM survey_topics AS t
JOIN surveys AS s ON s.id = t.survey_id
WHERE s.nps IS NOT NULL
GROUP BY s.day, s.location, t.topic,
         CASE WHEN s.nps >= 9 THEN 'promoters' WHEN s.nps >= 7 THEN 'passives'
              ELSE 'detractors' END
"""


async def rebuild(conn: Connection) -> int:
    """Recompute the topic counters (per location and the chain's, per day and month)
    from survey_topics and the surveys, in the caller's transaction; returns the number
    of per-location daily rows written."""
    if conn.dialect == "postgresql":
        # Answers arriving meanwhile wait at their counter upserts and add on top.
        await conn.execute(
            "LOCK TABLE topic_daily, topic_monthly, topic_total_daily, topic_total_monthly"
            " IN EXCLUSIVE MODE"
        )
    await conn.execute("DELETE FROM topic_daily")
    await conn.execute(
        f"INSERT INTO topic_daily (day, location, topic, band, count){_REBUILD_SELECT}"
    )
    await conn.execute("DELETE FROM topic_monthly")
    await conn.execute(
        "INSERT INTO topic_monthly (month, location, topic, band, count)"
        " SELECT SUBSTR(day, 1, 7), location, topic, band, SUM(count) FROM topic_daily"
        " GROUP BY SUBSTR(day, 1, 7), location, topic, band"
    )
    await conn.execute("DELETE FROM topic_total_daily")
    await conn.execute(
        "INSERT INTO topic_total_daily (day, topic, band, count)"
        " SELECT day, topic, band, SUM(count) FROM topic_daily GROUP BY day, topic, band"
    )
    await conn.execute("DELETE FROM topic_total_monthly")
    await conn.execute(
        "INSERT INTO topic_total_monthly (month, topic, band, count)"
        " SELECT month, topic, band, SUM(count) FROM topic_monthly"
        " GROUP BY month, topic, band"
    )
    row = await conn.fetch_one("SELECT COUNT(*) AS n FROM topic_daily")
    return int(row["n"]) if row else 0


_TOPIC_TIERS = _Tiers("topic_daily", "topic_monthly", "topic, band", ("count",))
_CHAIN_TIERS = _Tiers("topic_total_daily", "topic_total_monthly", "topic, band", ("count",))


async def totals(
    conn: Connection,
    start_day: DayLike,
    end_day: DayLike,
    locations: Sequence[str] | None = None,
) -> list[TopicCount]:
    """Mentions per topic and band over [start_day, end_day] (of `locations` when given,
    else the chain's from its own tiers), ordered by topic and band; zero sums are left
    out. Whole months come from the monthly tier, the edge days from the daily one."""
    params: dict[str, object] = {}
    tiers = _CHAIN_TIERS
    if locations is not None:
        if not locations:
            return []
        where, params["ids"] = id_in(conn, "location", list(locations))
        tiers = _Tiers(_TOPIC_TIERS.daily, _TOPIC_TIERS.monthly, "topic, band", ("count",), where)
    union = _tiered_query(tiers, plan_period(_as_date(start_day), _as_date(end_day)), params)
    rows = await conn.fetch_all(
        f"SELECT topic, band, SUM(count) AS total FROM ({union}) AS tiers"
        " GROUP BY topic, band ORDER BY topic, band",
        params,
    )
    return [
        TopicCount(str(row["topic"]), str(row["band"]), int(row["total"]))
        for row in rows
        if int(row["total"])
    ]


@dataclass(frozen=True, slots=True)
class DayMentions:
    day: str
    topic: str
    count: int


async def daily_mentions(
    conn: Connection,
    start_day: DayLike,
    end_day: DayLike,
    locations: Sequence[str] | None = None,
) -> list[DayMentions]:
    """Mentions per business day and topic (every band) over [start_day, end_day], of
    `locations` when given, else the chain's: the Topics screen's weekly trend. Read
    from the daily tier alone: a year is at most 366 x topics rows for the chain, and
    as many per location, whatever the number of answers."""
    params: dict[str, object] = {
        "start": _as_date(start_day).isoformat(),
        "end": _as_date(end_day).isoformat(),
    }
    table, where = _CHAIN_TIERS.daily, ""
    if locations is not None:
        if not locations:
            return []
        clause, params["ids"] = id_in(conn, "location", list(locations))
        table, where = _TOPIC_TIERS.daily, f" AND {clause}"
    rows = await conn.fetch_all(
        f"SELECT day, topic, SUM(count) AS total FROM {table}"
        f" WHERE day >= :start AND day <= :end{where} GROUP BY day, topic ORDER BY day, topic",
        params,
    )
    return [
        DayMentions(str(row["day"]), str(row["topic"]), int(row["total"]))
        for row in rows
        if int(row["total"])
    ]
