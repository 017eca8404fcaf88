"""CallbackData of every inline button: short versioned prefixes, Enum actions.

A version bump in a prefix makes buttons of older bot releases unknown instead of
misread; handlers answer such presses with "this survey is closed".
"""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData


class SurveyStep(StrEnum):
    NPS = "n"
    CES = "c"
    SKIP_REASON = "s"


class SurveyCallback(CallbackData, prefix="sv1"):
    survey_id: int
    step: SurveyStep
    value: int = 0
