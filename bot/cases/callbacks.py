"""CallbackData of the case buttons: the alert card, its sub-menus and the follow-up."""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData


class CaseButton(StrEnum):
    TAKE = "t"
    WRITE = "w"
    TEMPLATES = "m"
    TEMPLATE = "p"
    RESOLVE = "r"
    RESOLVE_NOTIFY = "n"
    RESOLVE_SILENT = "s"
    CLOSE = "c"
    CANCEL = "x"
    # Under a template's question: its variant without the value; under its preview: send.
    WITHOUT_VALUE = "v"
    SEND = "y"
    # From a folded alert: the case's own card, with every button, as a reply.
    OPEN = "o"


class CaseCallback(CallbackData, prefix="cs1"):
    case_id: int
    action: CaseButton
    # The template id (bot/cases/templates.py) for TEMPLATE and WITHOUT_VALUE; else empty.
    value: str = ""


class FollowupCallback(CallbackData, prefix="cf1"):
    case_id: int
    fixed: int
