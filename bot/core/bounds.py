"""The bounds every outside value is held to, as pydantic field types.

One place for them, so that the HTTP API, the catalogue and the survey buttons refuse
the same values, and the OpenAPI document states them (they are JSON Schema keywords).
A value past these bounds would otherwise overflow a 64-bit column or a date
conversion deep inside a transaction (a 500) instead of getting a 4xx naming it."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import AwareDatetime, BeforeValidator, Field, StrictInt

# No C0 control characters (NUL, BEL, newlines...) nor DEL: they have no business in a
# name or an id, and a NUL truncates text in some tools downstream.
NO_CONTROL_CHARACTERS = r"^[^\x00-\x1f\x7f]*$"
NO_CONTROL_MESSAGE = "must not contain control characters"

# Telegram's ids have at most 52 significant bits; 2**53 - 1 is also the largest
# integer a JavaScript client reads exactly.
MAX_TELEGRAM_ID = 2**53 - 1
# Our own row ids (surveys, visits): a signed 64-bit column on both databases.
MAX_ROW_ID = 2**63 - 1
# Visits in one POST /api/v1/visits:batch (one transaction).
MAX_BATCH_VISITS = 1000

TelegramUserId = Annotated[StrictInt, Field(gt=0, le=MAX_TELEGRAM_ID)]
TelegramChatId = Annotated[StrictInt, Field(ge=-MAX_TELEGRAM_ID, le=MAX_TELEGRAM_ID)]
RowId = Annotated[int, Field(gt=0, le=MAX_ROW_ID)]
# Free text from a till or a CRM (a location, a staff member, a name): one line.
Text = Annotated[str, Field(max_length=200, pattern=NO_CONTROL_CHARACTERS)]
# An identifier chosen outside (a visit id, a CRM id): one line, not empty.
Key = Annotated[str, Field(min_length=1, max_length=200, pattern=NO_CONTROL_CHARACTERS)]


def _json_string(value: object) -> object:
    # pydantic's lax mode would read a number as a Unix time; JSON dates are strings.
    if not isinstance(value, str | date):
        raise ValueError("expected an ISO 8601 string")
    return value


# A JSON date such as 2024-05-01 (a number is refused, not read as a Unix time).
JsonDate = Annotated[date, BeforeValidator(_json_string)]
# A JSON date-time with a UTC offset, such as 2026-11-23T12:00:00+03:00.
JsonAwareDatetime = Annotated[AwareDatetime, BeforeValidator(_json_string)]
