"""What survey messages say: one place for the words, used by the outbound renderers
and by the handlers that edit a survey as it is answered (the managers' alert is in
cases/texts.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape

from bot.config import SUPPORTED_LANGUAGES, Settings
from bot.i18n import Texts

# The questions whose wording a business may set, per language or for all.
QUESTIONS = ("nps", "ces", "csat")


@dataclass(frozen=True, slots=True)
class Wording:
    """The business's own words (settings): the company name and question overrides:
    `nps_question` (etc.) in every language, `by_language` ({"nps": {"ru": ...}}) in
    one, which wins."""

    company: str
    nps_question: str | None = None
    ces_question: str | None = None
    csat_question: str | None = None
    by_language: dict[str, dict[str, str]] = field(default_factory=dict)
    # The taps a survey takes: its score steps (SURVEY_STEPS), as the texts promise.
    taps: int = 2

    @classmethod
    def from_settings(cls, settings: Settings) -> Wording:
        by_language: dict[str, dict[str, str]] = {}
        for question in QUESTIONS:
            for language in SUPPORTED_LANGUAGES:
                text = getattr(settings, f"{question}_question_{language}", None)
                if text:
                    by_language.setdefault(question, {})[language] = text
        return cls(
            settings.company_name,
            settings.nps_question,
            settings.ces_question,
            settings.csat_question,
            by_language,
            taps=score_steps(settings.survey_steps),
        )

    def question(self, texts: Texts, name: str) -> str:
        """The question `name` (nps, ces, csat) in the reader's language: the override
        for that language, else the one for all, else the built-in wording."""
        own = self.by_language.get(name, {}).get(texts.language)
        everyone: str | None = getattr(self, f"{name}_question")
        return own or everyone or texts(f"survey-{name}-question", company=self.company)


def _intro(texts: Texts, wording: Wording, location: str, *, yesterday: bool = False) -> str:
    suffix = "-yesterday" if yesterday else ""
    if location:
        return texts("survey-intro" + suffix, location=escape(location))
    return texts("survey-intro-no-location" + suffix, company=escape(wording.company))


def nps_text(texts: Texts, wording: Wording, location: str, *, yesterday: bool = False) -> str:
    """The NPS question; `yesterday` when quiet hours held it past the visit's day."""
    question = wording.question(texts, "nps")
    return (
        f"{_intro(texts, wording, location, yesterday=yesterday)}\n\n<b>{escape(question)}</b>\n"
        f"<i>{texts('survey-nps-scale')}</i>"
    )


def ces_text(texts: Texts, wording: Wording, nps: int) -> str:
    return _score_question(texts, wording, "ces", nps)


def csat_text(texts: Texts, wording: Wording, nps: int) -> str:
    return _score_question(texts, wording, "csat", nps)


def _score_question(texts: Texts, wording: Wording, name: str, nps: int) -> str:
    """A question after the NPS: the NPS given, the question, its scale."""
    question = wording.question(texts, name)
    return (
        f"{texts('survey-your-score', score=str(nps))}\n\n<b>{escape(question)}</b>\n"
        f"<i>{texts(f'survey-{name}-scale')}</i>"
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
        return texts("survey-reminder", location=escape(location), taps=wording.taps)
    return texts("survey-reminder-no-location", company=escape(wording.company), taps=wording.taps)


def score_steps(steps: tuple[str, ...]) -> int:
    """How many of SURVEY_STEPS are scores (a tap each): the welcome and the reminder
    say so."""
    return sum(step != "reason" for step in steps)
