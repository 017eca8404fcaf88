"""The buttons of cases: the alert card's, the folded alert's, the manager's prompts
and the customer's follow-up. Every press is checked against the case when it comes."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.cases.callbacks import CaseButton, CaseCallback, FollowupCallback
from bot.cases.service import Case, CaseAction, CaseStatus, FoldEntry, available_actions
from bot.cases.templates import CaseTemplate, TemplateBook
from bot.i18n import Texts

_ACTION_BUTTONS = {
    CaseAction.TAKE: CaseButton.TAKE,
    CaseAction.WRITE: CaseButton.WRITE,
    CaseAction.TEMPLATES: CaseButton.TEMPLATES,
    CaseAction.RESOLVE: CaseButton.RESOLVE,
    CaseAction.CLOSE: CaseButton.CLOSE,
}


def card_keyboard(case: Case, texts: Texts) -> InlineKeyboardMarkup | None:
    """The buttons `available_actions` allows now; none once the case is finished."""
    rows = [
        [
            InlineKeyboardButton(
                text=texts(action.label_key),
                callback_data=CaseCallback(case_id=case.id, action=_ACTION_BUTTONS[action]).pack(),
            )
        ]
        for action in available_actions(case)
    ]
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


def followup_keyboard(case_id: int, texts: Texts) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=texts("case-followup-yes"),
                    callback_data=FollowupCallback(case_id=case_id, fixed=1).pack(),
                ),
                InlineKeyboardButton(
                    text=texts("case-followup-no"),
                    callback_data=FollowupCallback(case_id=case_id, fixed=0).pack(),
                ),
            ]
        ]
    )


# A folded alert's buttons, this many to a row (up to max_cases of them).
_FOLD_BUTTONS_PER_ROW = 4


def fold_keyboard(entries: list[FoldEntry], texts: Texts) -> InlineKeyboardMarkup | None:
    """One button per open case: 🙋 takes a new one; 📋 opens a taken one's card."""
    buttons = []
    for entry in entries:
        if entry.status == CaseStatus.NEW:
            key, action = "case-fold-button-take", CaseButton.TAKE
        elif entry.status == CaseStatus.TAKEN:
            key, action = "case-fold-button-open", CaseButton.OPEN
        else:
            continue
        buttons.append(
            InlineKeyboardButton(
                text=texts(key, id=entry.case_id),
                callback_data=CaseCallback(case_id=entry.case_id, action=action).pack(),
            )
        )
    step = _FOLD_BUTTONS_PER_ROW
    rows = [buttons[start : start + step] for start in range(0, len(buttons), step)]
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


def _button(text: str, case_id: int, action: CaseButton, value: str = "") -> InlineKeyboardButton:
    data = CaseCallback(case_id=case_id, action=action, value=value).pack()
    return InlineKeyboardButton(text=text, callback_data=data)


def cancel_keyboard(case_id: int, texts: Texts) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[_button(texts("case-button-cancel"), case_id, CaseButton.CANCEL)]]
    )


def resolve_keyboard(case_id: int, texts: Texts) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [_button(texts("case-button-resolve-notify"), case_id, CaseButton.RESOLVE_NOTIFY)],
            [_button(texts("case-button-resolve-silent"), case_id, CaseButton.RESOLVE_SILENT)],
            [_button(texts("case-button-cancel"), case_id, CaseButton.CANCEL)],
        ]
    )


def templates_keyboard(case_id: int, texts: Texts, book: TemplateBook) -> InlineKeyboardMarkup:
    rows = [
        [_button(book.label(t, texts.language), case_id, CaseButton.TEMPLATE, t.id)] for t in book
    ]
    rows.append([_button(texts("case-button-cancel"), case_id, CaseButton.CANCEL)])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def value_keyboard(case_id: int, template: CaseTemplate, texts: Texts) -> InlineKeyboardMarkup:
    """Under "which date?": the variant without it (when the template has one), Cancel."""
    rows = []
    if template.without and template.value is not None:
        label = texts(f"case-button-without-{template.value}")
        rows.append([_button(label, case_id, CaseButton.WITHOUT_VALUE, template.id)])
    rows.append([_button(texts("case-button-cancel"), case_id, CaseButton.CANCEL)])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def send_keyboard(case_id: int, texts: Texts) -> InlineKeyboardMarkup:
    """Under a template's preview: Send it as shown, or Cancel."""
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [_button(texts("case-button-send"), case_id, CaseButton.SEND)],
            [_button(texts("case-button-cancel"), case_id, CaseButton.CANCEL)],
        ]
    )
