"""What managers and customers read about a case: cards, histories, lists,
escalations, refusals, templates and the folded alert, all through the translator.

Plain text (no markup). When sending with a parse mode, pass `escape` (e.g.
html.escape) so that names and free text from customers cannot break it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from html import escape
from zoneinfo import ZoneInfo

from bot.cases.service import (
    Case,
    CaseCard,
    CaseEvent,
    CaseListItem,
    CaseResult,
    CaseStatus,
    EscalationStage,
    FoldEntry,
)
from bot.core.clock import from_ms
from bot.i18n import Texts, Translator
from storage.models import Customer, Survey, SurveyStep

TELEGRAM_TEXT_LIMIT = 4000
EVENT_TEXT_LIMIT = 300

Escape = Callable[[str], str]


def _plain(text: str) -> str:
    return text


def format_time(ms: int, zone: ZoneInfo) -> str:
    return from_ms(ms).astimezone(zone).strftime("%Y-%m-%d %H:%M")


def format_age(tr: Translator, lang: str | None, age: timedelta) -> str:
    """An age such as 25 minutes, 3 hours or 2 days 4 hours, in the language's plurals."""
    minutes = max(0, int(age.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        parts = [tr.get(lang, "case-age-days", count=days)]
        if hours:
            parts.append(tr.get(lang, "case-age-hours", count=hours))
        return " ".join(parts)
    if hours:
        return tr.get(lang, "case-age-hours", count=hours)
    return tr.get(lang, "case-age-minutes", count=minutes)


def status_line(
    tr: Translator, lang: str | None, case: Case, zone: ZoneInfo, escape: Escape = _plain
) -> str:
    owner = escape(case.owner_name or "?")
    if case.status == CaseStatus.TAKEN and case.taken_at is not None:
        return tr.get(
            lang, "case-status-taken", owner=owner, time=format_time(case.taken_at, zone)
        )
    if case.status == CaseStatus.RESOLVED and case.resolved_at is not None:
        return tr.get(
            lang, "case-status-resolved", owner=owner, time=format_time(case.resolved_at, zone)
        )
    if case.status == CaseStatus.CLOSED:
        return tr.get(
            lang, "case-status-closed", owner=owner, reason=escape(case.closed_reason or "")
        )
    return tr.get(lang, "case-status-new")


def _contact(card: CaseCard) -> str:
    if card.customer_username:
        return "@" + card.customer_username
    return card.customer_phone or "—"


def format_card(
    tr: Translator, lang: str | None, card: CaseCard, zone: ZoneInfo, escape: Escape = _plain
) -> str:
    """The alert text in the manager chat; edit the alert to this after every change."""
    case = card.case
    nps = "—" if card.nps is None else str(card.nps)
    lines = [tr.get(lang, "case-card-title", id=case.id, nps=nps)]
    if card.ces is not None:
        lines.append(tr.get(lang, "case-card-ces", ces=card.ces))
    if card.reason:
        lines.append(tr.get(lang, "case-card-reason", reason=escape(card.reason)))
    else:
        lines.append(tr.get(lang, "case-card-no-reason"))
    lines.append(
        tr.get(
            lang,
            "case-card-customer",
            name=escape(card.customer_name or "—"),
            contact=escape(_contact(card)),
        )
    )
    if card.location:
        lines.append(tr.get(lang, "case-card-location", location=escape(card.location)))
    if card.staff:
        lines.append(tr.get(lang, "case-card-staff", staff=escape(card.staff)))
    if card.visited_at is not None:
        lines.append(tr.get(lang, "case-card-visit", time=format_time(card.visited_at, zone)))
    lines.append("")
    lines.append(status_line(tr, lang, case, zone, escape))
    if case.status == CaseStatus.RESOLVED and case.resolution_note:
        lines.append(tr.get(lang, "case-card-resolution", note=escape(case.resolution_note)))
    if case.followup_answer:
        lines.append(tr.get(lang, "case-card-followup", answer=case.followup_answer))
    if case.reopened_count:
        lines.append(tr.get(lang, "case-card-reopened", count=case.reopened_count))
    return "\n".join(lines)


def _event_line(
    tr: Translator, lang: str | None, event: CaseEvent, zone: ZoneInfo, escape: Escape
) -> str:
    actor = event.actor_name or (str(event.actor_id) if event.actor_id else "")
    text = event.text or ""
    if len(text) > EVENT_TEXT_LIMIT:
        text = text[: EVENT_TEXT_LIMIT - 1] + "…"
    return tr.get(
        lang,
        "case-event-" + event.kind.replace("_", "-"),
        time=format_time(event.at, zone),
        actor=escape(actor or tr.get(lang, "case-actor-system")),
        text=escape(text),
    )


def _chunks(lines: Sequence[str], limit: int = TELEGRAM_TEXT_LIMIT) -> list[str]:
    """Join lines into messages that fit Telegram's limit, never splitting a line."""
    messages: list[str] = []
    current = ""
    for line in lines:
        candidate = f"{current}\n{line}" if current else line
        if current and len(candidate) > limit:
            messages.append(current)
            candidate = line
        current = candidate
    if current:
        messages.append(current)
    return messages


def format_history(
    tr: Translator,
    lang: str | None,
    case: Case,
    events: Sequence[CaseEvent],
    zone: ZoneInfo,
    escape: Escape = _plain,
) -> list[str]:
    """/case <id>: a title with the status, then one line per step; one or more messages."""
    lines = [
        tr.get(lang, "case-history-title", id=case.id),
        status_line(tr, lang, case, zone, escape),
        "",
    ]
    lines += [_event_line(tr, lang, event, zone, escape) for event in events]
    return _chunks(lines)


def format_open_cases(
    tr: Translator, lang: str | None, items: Sequence[CaseListItem], escape: Escape = _plain
) -> list[str]:
    """/cases: open cases, oldest first, with their age; one or more messages."""
    if not items:
        return [tr.get(lang, "case-list-empty")]
    lines = [tr.get(lang, "case-list-title", count=len(items))]
    for item in items:
        if item.status == CaseStatus.TAKEN:
            status = tr.get(lang, "case-list-status-taken", owner=escape(item.owner_name or "?"))
        else:
            status = tr.get(lang, "case-list-status-new")
        lines.append(
            tr.get(
                lang,
                "case-list-line",
                id=item.id,
                status=status,
                age=format_age(tr, lang, timedelta(milliseconds=item.age_ms)),
                customer=escape(item.customer_name or "—"),
                nps="—" if item.nps is None else str(item.nps),
            )
        )
    return _chunks(lines)


def format_escalation(
    tr: Translator,
    lang: str | None,
    case: Case,
    stage: EscalationStage,
    now: datetime,
    mention: str,
    escape: Escape = _plain,
) -> str:
    """The re-post to the escalation chat; `mention` is inserted as given (markup ok)."""
    if stage == EscalationStage.TAKE:
        age = format_age(tr, lang, now - from_ms(case.opened_at))
        return tr.get(lang, "case-escalation-take", mention=mention, id=case.id, age=age)
    age = format_age(tr, lang, now - from_ms(case.taken_at or case.opened_at))
    return tr.get(
        lang,
        "case-escalation-resolve",
        mention=mention,
        id=case.id,
        owner=escape(case.owner_name or "?"),
        age=age,
    )


def format_reopened(
    tr: Translator, lang: str | None, case: Case, zone: ZoneInfo, mention: str | None
) -> str:
    """The managers' news that the customer's "not fixed" reopened the case: to its
    owner (`mention`, markup as given) or, with none, to whoever takes it."""
    if mention is not None and case.resolve_due_at is not None:
        due = format_time(case.resolve_due_at, zone)
        return tr.get(lang, "case-reopened-owner", mention=mention, id=case.id, due=due)
    due = format_time(case.take_due_at, zone)
    return tr.get(lang, "case-reopened-nobody", id=case.id, due=due)


def refusal_text(tr: Translator, lang: str | None, result: CaseResult) -> str:
    """The answer to a refused button press or command ("" when not refused)."""
    if result.refusal is None:
        return ""
    return tr.get(lang, result.refusal.key, owner=result.owner_name or "?")


def acknowledgement_text(tr: Translator, lang: str | None) -> str:
    """What the customer hears when their message reached the team."""
    return tr.get(lang, "case-customer-ack")


def customer_message_text(tr: Translator, lang: str | None, company: str, text: str) -> str:
    """How a manager's message reaches the customer: from the business, never a person."""
    return tr.get(lang, "case-customer-message", company=company, text=text)


# --- the folded alert ----------------------------------------------------------------

# How much of each field a folded message shows, from roomy to terse: a full fold must
# fit Telegram's limit whatever customers wrote. (reason, place, name) in characters.
_FOLD_CUTS = ((80, 40, 24), (40, 24, 16), (0, 16, 12), (0, 0, 0))


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(0, limit - 1)] + "…"


def _fold_status(tr: Translator, lang: str | None, entry: FoldEntry, name: str) -> str:
    if entry.status == CaseStatus.NEW:
        return tr.get(lang, "case-fold-status-new")
    return tr.get(lang, f"case-fold-status-{entry.status}", owner=name)


def _fold_line(
    tr: Translator,
    lang: str | None,
    entry: FoldEntry,
    cuts: tuple[int, int, int],
    escape: Escape,
) -> str:
    reason_max, place_max, name_max = cuts
    if entry.nps is not None:
        score = tr.get(lang, "case-fold-score-nps", nps=str(entry.nps))
    else:
        score = tr.get(lang, "case-fold-score-ces", ces=str(entry.ces or 0))
    parts = [f"#{entry.case_id}", score]
    place = " / ".join(part for part in (entry.location, entry.staff) if part)
    if place and place_max:
        parts.append(escape(_cut(place, place_max)))
    if name_max:
        parts.append(escape(_cut(entry.customer_name or "—", name_max)))
    if entry.reason and reason_max:
        reason = escape(_cut(entry.reason, reason_max))
        parts.append(tr.get(lang, "case-fold-reason", reason=reason))
    owner = escape(_cut(entry.owner_name or "?", max(name_max, 12)))
    return " · ".join(parts) + " — " + _fold_status(tr, lang, entry, owner)


def format_fold(
    tr: Translator,
    lang: str | None,
    entries: Sequence[FoldEntry],
    escape: Escape = _plain,
    limit: int = TELEGRAM_TEXT_LIMIT,
) -> str:
    """The folded alert: one line per waiting case (score, place, customer, a short
    reason, who has it), shortened until the whole list fits one message."""
    head = [tr.get(lang, "case-fold-title", count=len(entries)), tr.get(lang, "case-fold-hint")]
    text = ""
    for cuts in _FOLD_CUTS:
        lines = [_fold_line(tr, lang, entry, cuts, escape) for entry in entries]
        text = "\n".join([*head, "", *lines])
        if len(text) <= limit:
            return text
    return text[:limit]


def case_footer(texts: Texts, zone: ZoneInfo, case: Case) -> str:
    """What the case adds under the survey's alert text: its number and status."""
    tr, lang = texts.translator, texts.language
    lines = ["", texts("case-history-title", id=case.id)]
    lines.append(status_line(tr, lang, case, zone, escape))
    if case.resolution_note and case.status == "resolved":
        lines.append(texts("case-card-resolution", note=escape(case.resolution_note)))
    if case.followup_answer:
        lines.append(texts("case-card-followup", answer=case.followup_answer))
    if case.reopened_count:
        lines.append(texts("case-card-reopened", count=case.reopened_count))
    return "\n".join(lines)


def alert_text(
    texts: Texts,
    survey: Survey,
    customer: Customer,
    visited_at: int,
    zone: ZoneInfo,
    topics: Sequence[str] = (),
) -> str:
    """The managers' card: everything they need to call the customer back. `topics`:
    the labels of the reason's topics, in the managers' language."""
    unknown = texts("alert-unknown")
    lines = [f"<b>{texts('alert-title')}</b>", texts("alert-nps", score=survey.nps)]
    if survey.ces is not None:
        lines.append(texts("alert-ces", score=survey.ces))
    elif survey.step in (SurveyStep.NPS, SurveyStep.CES):
        lines.append(texts("alert-ces-pending"))
    if survey.csat is not None:
        lines.append(texts("alert-csat", score=survey.csat))
    if survey.reason:
        lines.append(texts("alert-reason", reason=escape(survey.reason)))
        if topics:
            lines.append(texts("alert-topics", topics=escape(", ".join(topics))))
    elif survey.step == SurveyStep.DONE:
        lines.append(texts("alert-reason-skipped"))
    else:
        lines.append(texts("alert-reason-pending"))
    lines.append(texts("alert-customer", name=escape(customer.name or unknown)))
    lines.append(texts("alert-contact", contact=escape(contact_of(customer) or unknown)))
    if survey.location:
        lines.append(texts("alert-location", location=escape(survey.location)))
    if survey.staff:
        lines.append(texts("alert-staff", staff=escape(survey.staff)))
    if survey.touchpoint:
        lines.append(texts("alert-touchpoint", touchpoint=escape(survey.touchpoint)))
    lines.append(texts("alert-visit-time", time=format_time(visited_at, zone)))
    return "\n".join(lines)


def contact_of(customer: Customer) -> str:
    parts = []
    if customer.phone:
        parts.append(customer.phone)
    if customer.username:
        parts.append("@" + customer.username)
    elif customer.telegram_id:
        parts.append(f"tg://user?id={customer.telegram_id}")
    return ", ".join(parts)
