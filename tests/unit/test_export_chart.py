"""The CSV export (columns, quoting, OWASP CSV injection) and the PNG chart."""

from __future__ import annotations

import asyncio
import csv
import io
import struct
from collections.abc import AsyncIterator, Iterable
from dataclasses import replace
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.i18n import load_translator
from bot.reports.charts import Bar, ChartLabels, render_chart, render_report_chart
from bot.reports.export import (
    CSV_COLUMNS,
    encode_csv,
    export_csv,
    iso_time,
    neutralize,
    stream_csv,
    write_csv,
)
from bot.reports.service import Period, Report, SegmentBy, WeekPoint, build_report, weekly_points
from storage.db import SqliteDatabase
from storage.reports import ResponseRow, RollupTotals, WeekTotals, iter_responses
from tests.support.reports import Answer, insert_customer, insert_survey

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
TRICKY_REASON = 'Slow, "rude" staff;\nwaited 40 min 😡🙏, line two\r\nend'


def response(
    survey_id: int = 1, reason: str | None = TRICKY_REASON, **changes: Any
) -> ResponseRow:
    row = ResponseRow(
        survey_id=survey_id,
        visit_key=f"T-{survey_id}",
        visited_at=1_790_000_000_000,
        day="2026-09-21",
        location="Центр",
        staff="Ann",
        touchpoint="hall",
        status="completed",
        nps=3,
        ces=2,
        reason=reason,
        sent_at=1_790_000_060_000,
        nps_at=1_790_000_120_000,
        ces_at=None,
        completed_at=None,
        case_status="new",
    )
    return replace(row, **changes)


def parse(data: bytes) -> list[dict[str, str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


async def _aiter(rows: Iterable[ResponseRow]) -> AsyncIterator[ResponseRow]:
    for row in rows:
        yield row


async def test_columns_and_round_trip_of_commas_quotes_newlines_and_emoji() -> None:
    data = await export_csv(_aiter([response()]))
    assert data.split(b"\r\n", 1)[0].decode("utf-8-sig") == ",".join(CSV_COLUMNS)
    (row,) = parse(data)
    assert list(row) == list(CSV_COLUMNS)
    assert row["reason"] == TRICKY_REASON
    assert row["location"] == "Центр" and row["nps"] == "3" and row["ces"] == "2"
    assert row["visit_id"] == "T-1" and row["case_status"] == "new"
    assert row["sent_at"] == "2026-09-21T14:14:20+00:00"
    assert row["ces_at"] == "" and row["completed_at"] == ""


@pytest.mark.parametrize(
    "reason",
    [
        '=HYPERLINK("http://evil.example","click")',
        "+1+1",
        "-2+3",
        "@SUM(A1:A9)",
        "\t=1+1",
        "\r=1+1",
        "＝1+1",
    ],
)
async def test_formula_cells_are_neutralised(reason: str) -> None:
    (row,) = parse(await export_csv(_aiter([response(reason=reason, location=reason)])))
    assert row["reason"] == "'" + reason
    assert row["location"] == "'" + reason


def test_neutralize_leaves_ordinary_text_alone() -> None:
    for text in ["Great", "1+1=2", "a=b", " =x", "", "😡"]:
        assert neutralize(text) == text
    assert neutralize("-") == "'-"


def test_iso_time_in_the_business_zone() -> None:
    assert iso_time(1_790_000_060_000, ZoneInfo("Europe/Kyiv")) == "2026-09-21T17:14:20+03:00"
    assert iso_time(None) == ""


async def test_stream_yields_several_chunks_equal_to_the_whole() -> None:
    rows = [response(number, reason="x" * 500) for number in range(1, 400)]
    chunks = [chunk async for chunk in stream_csv(_aiter(rows))]
    assert len(chunks) > 1
    assert all(chunk.decode("utf-8") for chunk in chunks)
    whole = b"".join(chunks)
    assert whole == b"".join(encode_csv(rows))
    assert len(parse(whole)) == 399
    out = io.BytesIO()
    assert await write_csv(_aiter(rows), out) == len(whole)


async def test_export_from_the_database_with_case_status(db: SqliteDatabase) -> None:
    async with db.transaction() as conn:
        customer = await insert_customer(conn)
        survey = await insert_survey(
            conn,
            customer,
            Answer("2026-10-05", "Mall", "Ann", "hall", True, 2, 1, "=cmd|' /C calc'!A0"),
        )
        await insert_survey(
            conn, customer, Answer("2026-10-06", "Mall", "Bob", "phone", True, 10, 7)
        )
        await conn.execute(
            "INSERT INTO cases (survey_id, customer_id, status, opened_at, take_due_at,"
            " updated_at) VALUES (:survey, :customer, 'resolved', 0, 0, 0)",
            {"survey": survey, "customer": customer},
        )
    async with db.read() as conn:
        data = await export_csv(iter_responses(conn, date(2026, 10, 1), date(2026, 10, 31)))
    first, second = parse(data)
    assert first["reason"] == "'=cmd|' /C calc'!A0" and first["case_status"] == "resolved"
    assert second["case_status"] == "" and second["nps"] == "10" and second["ces"] == "7"


# --- the chart ---------------------------------------------------------------------------


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_MAGIC
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def _report_and_weeks() -> tuple[Report, list[WeekPoint]]:
    period = Period(date(2026, 8, 31), date(2026, 11, 22))
    current = [
        RollupTotals("Центр 🏦", 200, 150, 70, 20, 10, 500, 100, 80),
        RollupTotals("Mall", 150, 120, 30, 40, 50),
        RollupTotals("Airport", 30, 20, 10, 5, 5),
        RollupTotals("", 100, 90, 60, 20, 10),
    ]
    report = build_report(period, SegmentBy.LOCATION, current, [], min_sample=80)
    weeks = []
    for index in range(12):
        start = period.start + timedelta(days=7 * index)
        answered = 0 if index == 5 else 10 * index + 5
        promoters = answered // 2
        weeks.append(
            WeekTotals(
                start,
                RollupTotals(
                    "w",
                    answered,
                    answered,
                    promoters,
                    answered - promoters - 1 if answered else 0,
                    1 if answered else 0,
                ),
            )
        )
    return report, weekly_points(weeks, min_sample=80)


@pytest.mark.parametrize("language", ["en", "ru", "uk"])
def test_report_chart_is_a_png(language: str) -> None:
    report, weeks = _report_and_weeks()
    data = render_report_chart(report, weeks, load_translator(), language)
    width, height = png_size(data)
    assert width == 990 and height > 500
    assert data.endswith(b"IEND\xaeB`\x82")


def test_chart_without_segments_or_answers_is_still_a_png() -> None:
    labels = ChartLabels(title="NPS", weekly="by week", band="95%")
    empty_weeks = weekly_points([WeekTotals(date(2026, 11, 16), RollupTotals("w"))], 80)
    only_weeks = png_size(render_chart(empty_weeks, [], labels))
    with_bars = png_size(render_chart(empty_weeks, [Bar("A", -20, 9.5, 120, True)], labels))
    assert only_weeks[0] == with_bars[0] == 990
    assert with_bars[1] > only_weeks[1]


async def test_charts_render_in_parallel_threads() -> None:
    report, weeks = _report_and_weeks()
    translator = load_translator()
    images = await asyncio.gather(
        *(
            asyncio.to_thread(render_report_chart, report, weeks, translator, "en")
            for _ in range(3)
        )
    )
    assert all(png_size(image)[0] == 990 for image in images)
