"""CallbackData of every inline button: short versioned prefixes, Enum actions.

A version bump in a prefix makes buttons of older bot releases unknown instead of
misread; handlers answer such presses with "this survey is closed".
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from aiogram.filters.callback_data import CallbackData
from pydantic import Field

from bot.core.bounds import RowId


class SurveyStep(StrEnum):
    NPS = "n"
    CES = "c"
    CSAT = "t"
    SKIP_REASON = "s"


class SurveyCallback(CallbackData, prefix="sv1"):
    """Strict: data outside these bounds (a forged or garbled press) does not match, and
    `stale_button` answers it without touching anything."""

    survey_id: RowId
    step: SurveyStep
    value: Annotated[int, Field(ge=0, le=10)] = 0
