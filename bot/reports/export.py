"""The CSV export of responses: one row per survey, safe to open in a spreadsheet.

Text cells written by customers (the reason) or by the till (names, visit ids) may
start with `=`, `+`, `-`, `@`, a tab or a carriage return, which Excel and
LibreOffice would run as a formula (OWASP "CSV injection"). Such cells get a
leading single quote. Quoting of commas, quotes and newlines is the csv module's
(RFC 4180, CRLF line ends). The file starts with a UTF-8 BOM so that Excel reads
Cyrillic and emoji correctly.

`stream_csv` yields encoded chunks for an HTTP streaming response; `export_csv`
collects them for a Telegram document; `write_csv` serves the command line. The
same three serve the cases CSV (`CASE_CSV_COLUMNS`, one row per case with its
timings) when given `cells=case_cells, columns=CASE_CSV_COLUMNS`. A response's `topics`
are the ids of its reason's topics (bot/topics), separated by spaces.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime, tzinfo
from typing import Any, BinaryIO

from storage.recovery import CaseRow
from storage.reports import ResponseRow

CSV_COLUMNS = (
    "survey_id",
    "visit_id",
    "visited_at",
    "day",
    "location",
    "staff",
    "touchpoint",
    "status",
    "nps",
    "ces",
    "reason",
    "topics",
    "sent_at",
    "answered_at",
    "ces_at",
    "completed_at",
    "case_status",
)
# With CSAT asked (SURVEY_STEPS), its score and time come last.
CSAT_CSV_COLUMNS = ("csat", "csat_at")
# One row per case (GET /api/v1/cases.csv, /export cases, otklik export --cases): times
# in the business zone; *_s are seconds from opening; resolution is notified (fixed,
# the customer told), silent (fixed) or closed (without a fix); finished_at is when it
# was resolved or closed; next_nps is the customer's next survey after this detractor's.
CASE_CSV_COLUMNS = (
    "case_id",
    "survey_id",
    "day",
    "location",
    "staff",
    "touchpoint",
    "nps",
    "ces",
    "status",
    "resolution",
    "owner",
    "opened_at",
    "taken_at",
    "first_contact_at",
    "finished_at",
    "take_s",
    "first_contact_s",
    "resolve_s",
    "escalated_take_at",
    "escalated_resolve_at",
    "followup_sent_at",
    "followup_answer",
    "reopened_count",
    "reopened_at",
    "next_nps",
)
# OWASP's list, plus the full-width forms some spreadsheets also accept.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
BOM = "\ufeff"
CHUNK_CHARS = 64 * 1024
CONTENT_TYPE = "text/csv; charset=utf-8"


def neutralize(value: str) -> str:
    """Prefix a cell that a spreadsheet would read as a formula with a single quote."""
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def iso_time(ms: int | None, zone: tzinfo = UTC) -> str:
    """Epoch milliseconds as ISO 8601 with the zone's offset ('' for none)."""
    if ms is None:
        return ""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).astimezone(zone).isoformat(timespec="seconds")


def _text(value: str | None) -> str:
    return "" if value is None else neutralize(value)


def _number(value: int | None) -> str:
    return "" if value is None else str(value)


def response_cells(row: ResponseRow, zone: tzinfo = UTC) -> list[str]:
    """The CSV cells of one survey, in CSV_COLUMNS order."""
    return [
        str(row.survey_id),
        _text(row.visit_key),
        iso_time(row.visited_at, zone),
        row.day,
        _text(row.location),
        _text(row.staff),
        _text(row.touchpoint),
        _text(row.status),
        _number(row.nps),
        _number(row.ces),
        _text(row.reason),
        " ".join(row.topics),
        iso_time(row.sent_at, zone),
        iso_time(row.nps_at, zone),
        iso_time(row.ces_at, zone),
        iso_time(row.completed_at, zone),
        _text(row.case_status),
    ]


def response_cells_with_csat(row: ResponseRow, zone: tzinfo = UTC) -> list[str]:
    """response_cells and then CSAT_CSV_COLUMNS."""
    return [*response_cells(row, zone), _number(row.csat), iso_time(row.csat_at, zone)]


def response_format(steps: Sequence[str]) -> tuple[tuple[str, ...], Cells]:
    """The responses CSV's columns and cells for SURVEY_STEPS: CSAT only when asked."""
    if "csat" in steps:
        return (*CSV_COLUMNS, *CSAT_CSV_COLUMNS), response_cells_with_csat
    return CSV_COLUMNS, response_cells


def _seconds(start: int, end: int | None) -> str:
    return "" if end is None else str((end - start) // 1000)


def case_cells(row: CaseRow, zone: tzinfo = UTC) -> list[str]:
    """The CSV cells of one case, in CASE_CSV_COLUMNS order."""
    return [
        str(row.case_id),
        str(row.survey_id),
        row.day,
        _text(row.location),
        _text(row.staff),
        _text(row.touchpoint),
        _number(row.nps),
        _number(row.ces),
        row.status,
        row.resolution or "",
        _text(row.owner_name),
        iso_time(row.opened_at, zone),
        iso_time(row.taken_at, zone),
        iso_time(row.first_contact_at, zone),
        iso_time(row.finished_at, zone),
        _seconds(row.opened_at, row.taken_at),
        _seconds(row.opened_at, row.first_contact_at),
        _seconds(row.opened_at, row.finished_at),
        iso_time(row.escalated_take_at, zone),
        iso_time(row.escalated_resolve_at, zone),
        iso_time(row.followup_sent_at, zone),
        row.followup_answer or "",
        str(row.reopened_count),
        iso_time(row.reopened_at, zone),
        _number(row.next_nps),
    ]


# What turns a row into its cells: response_cells or case_cells.
Cells = Callable[[Any, tzinfo], list[str]]


class _Encoder:
    """Collects CSV text and hands it out in UTF-8 chunks of about CHUNK_CHARS."""

    def __init__(self, bom: bool, columns: Sequence[str] = CSV_COLUMNS) -> None:
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, lineterminator="\r\n")
        if bom:
            self._buffer.write(BOM)
        self._writer.writerow(columns)

    def add(self, cells: list[str]) -> bytes | None:
        self._writer.writerow(cells)
        return self.take() if self._buffer.tell() >= CHUNK_CHARS else None

    def take(self) -> bytes:
        # errors="replace": one broken character must not abort a whole export.
        data = self._buffer.getvalue().encode("utf-8", errors="replace")
        self._buffer.seek(0)
        self._buffer.truncate()
        return data


def encode_csv(
    rows: Iterable[ResponseRow], zone: tzinfo = UTC, *, bom: bool = True
) -> Iterator[bytes]:
    """The CSV (header first) as UTF-8 chunks, from plain rows."""
    encoder = _Encoder(bom)
    for row in rows:
        chunk = encoder.add(response_cells(row, zone))
        if chunk:
            yield chunk
    yield encoder.take()


async def stream_csv(
    rows: AsyncIterable[Any],
    zone: tzinfo = UTC,
    *,
    bom: bool = True,
    cells: Cells = response_cells,
    columns: Sequence[str] = CSV_COLUMNS,
) -> AsyncIterator[bytes]:
    """The CSV as UTF-8 chunks from `storage.reports.iter_responses` (or, with
    case_cells and CASE_CSV_COLUMNS, `storage.recovery.iter_case_rows`), for aiohttp's
    StreamResponse.write."""
    encoder = _Encoder(bom, columns)
    async for row in rows:
        chunk = encoder.add(cells(row, zone))
        if chunk:
            yield chunk
    yield encoder.take()


async def export_csv(
    rows: AsyncIterable[Any],
    zone: tzinfo = UTC,
    *,
    bom: bool = True,
    cells: Cells = response_cells,
    columns: Sequence[str] = CSV_COLUMNS,
) -> bytes:
    """The whole CSV in memory (a Telegram document)."""
    chunks = stream_csv(rows, zone, bom=bom, cells=cells, columns=columns)
    return b"".join([chunk async for chunk in chunks])


async def write_csv(
    rows: AsyncIterable[Any],
    out: BinaryIO,
    zone: tzinfo = UTC,
    *,
    bom: bool = True,
    cells: Cells = response_cells,
    columns: Sequence[str] = CSV_COLUMNS,
) -> int:
    """Write the CSV to a binary file (the command line); returns the bytes written."""
    written = 0
    async for chunk in stream_csv(rows, zone, bom=bom, cells=cells, columns=columns):
        written += out.write(chunk)
    return written


def csv_filename(start: str, end: str, what: str = "responses") -> str:
    return f"otklik-{what}-{start}_{end}.csv"
