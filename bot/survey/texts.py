"""What survey messages say: one place for the words, used by the outbound renderers
and by the handlers that edit a survey as it is answered (the managers' alert is in
cases/texts.py)."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from bot.config import Settings
from bot.i18n import Texts


@dataclass(frozen=True, slots=True)
class Wording:
    """The business's own words (settings): the company name and question overrides."""

    company: str
    nps_question: str | None = None
    ces_question: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> Wording:
        return cls(settings.company_name, settings.nps_question, settings.ces_question)


def _intro(texts: Texts, wording: Wording, location: str, *, yesterday: bool = False) -> str:
    suffix = "-yesterday" if yesterday else ""
    if location:
        return texts("survey-intro" + suffix, location=escape(location))
    return texts("survey-intro-no-location" + suffix, company=escape(wording.company))


def nps_text(texts: Texts, wording: Wording, location: str, *, yesterday: bool = False) -> str:
    """The NPS question; `yesterday` when quiet hours held it past the visit's day."""
    question = wording.nps_question or texts("survey-nps-question", company=wording.company)
    return (
        f"{_intro(texts, wording, location, yesterday=yesterday)}\n\n<b>{escape(question)}</b>\n"
        f"<i>{texts('survey-nps-scale')}</i>"
    )


def ces_text(texts: Texts, wording: Wording, nps: int) -> str:
    question = wording.ces_question or texts("survey-ces-question", company=wording.company)
    return (
        f"{texts('survey-your-score', score=str(nps))}\n\n<b>{escape(question)}</b>\n"
        f"<i>{texts('survey-ces-scale')}</i>"
    )


def reason_key(nps: int | None) -> str:
    """The 'why?' is asked differently of detractors, passives and promoters."""
    if nps is None or nps <= 6:
        return "survey-reason-detractor"
    if nps <= 8:
        return "survey-reason-passive"
    return "survey-reason-promoter"


def reason_text(texts: Texts, nps: int | None) -> str:
    return texts(reason_key(nps))


def thanks_text(texts: Texts, nps: int | None) -> str:
    if nps is not None and nps <= 6:
        return texts("survey-thanks-detractor")
    return texts("survey-thanks")


def reminder_text(texts: Texts, wording: Wording, location: str) -> str:
    if location:
        return texts("survey-reminder", location=escape(location))
    return texts("survey-reminder-no-location", company=escape(wording.company))
