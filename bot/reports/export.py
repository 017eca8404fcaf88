"""The CSV export of responses: one row per survey, safe to open in a spreadsheet.

Text cells written by customers (the reason) or by the till (names, visit ids) may
start with `=`, `+`, `-`, `@`, a tab or a carriage return, which Excel and
LibreOffice would run as a formula (OWASP "CSV injection"). Such cells get a
leading single quote. Quoting of commas, quotes and newlines is the csv module's
(RFC 4180, CRLF line ends). The file starts with a UTF-8 BOM so that Excel reads
Cyrillic and emoji correctly.

`stream_csv` yields encoded chunks for an HTTP streaming response; `export_csv`
collects them for a Telegram document; `write_csv` serves the command line.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from datetime import UTC, datetime, tzinfo
from typing import BinaryIO

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
    "sent_at",
    "answered_at",
    "ces_at",
    "completed_at",
    "case_status",
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
        iso_time(row.sent_at, zone),
        iso_time(row.nps_at, zone),
        iso_time(row.ces_at, zone),
        iso_time(row.completed_at, zone),
        _text(row.case_status),
    ]


class _Encoder:
    """Collects CSV text and hands it out in UTF-8 chunks of about CHUNK_CHARS."""

    def __init__(self, bom: bool) -> None:
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, lineterminator="\r\n")
        if bom:
            self._buffer.write(BOM)
        self._writer.writerow(CSV_COLUMNS)

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
    rows: AsyncIterable[ResponseRow], zone: tzinfo = UTC, *, bom: bool = True
) -> AsyncIterator[bytes]:
    """The CSV as UTF-8 chunks from `storage.reports.iter_responses`, for
    aiohttp's StreamResponse.write."""
    encoder = _Encoder(bom)
    async for row in rows:
        chunk = encoder.add(response_cells(row, zone))
        if chunk:
            yield chunk
    yield encoder.take()


async def export_csv(
    rows: AsyncIterable[ResponseRow], zone: tzinfo = UTC, *, bom: bool = True
) -> bytes:
    """The whole CSV in memory (a Telegram document)."""
    return b"".join([chunk async for chunk in stream_csv(rows, zone, bom=bom)])


async def write_csv(
    rows: AsyncIterable[ResponseRow], out: BinaryIO, zone: tzinfo = UTC, *, bom: bool = True
) -> int:
    """Write the CSV to a binary file (the command line); returns the bytes written."""
    written = 0
    async for chunk in stream_csv(rows, zone, bom=bom):
        written += out.write(chunk)
    return written


def csv_filename(start: str, end: str) -> str:
    return f"otklik-responses-{start}_{end}.csv"
