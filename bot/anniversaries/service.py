"""Anniversary rules and texts: who is thanked on a day, and in which words.

A relationship starts at `customer_since`: the CRM's date, else the local date of the
earliest recorded visit (a visit reported late with an earlier date moves it back). Its
N-th anniversary is the same month and day N >= 1 years later, in the business time
zone. A customer since 29 February is thanked on 28 February in common years and on 29
February in leap years, never both.

The thank-you text is `anniv-message` of admin.ftl in the customer's language,
unless the operator sets ANNIVERSARY_TEXT: a template with the placeholders
`{name}`, `{years}` (the number with its noun in the customer's language:
"1 year", "2 года", "5 років"), `{n}` (the bare number) and `{company}`. The
Fluent spelling `{ $name }` is accepted too. The same template serves every
language (write it in your customers' language); when a customer's name is
unknown, `{name}` is dropped together with the comma that joins it.
"""

from __future__ import annotations

import calendar
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from zoneinfo import ZoneInfo

from bot.core.clock import Clock, local_day
from bot.core.placeholders import fill
from bot.core.quiet import CustomerQuietHours
from bot.i18n import Translator, normalize_language
from bot.outbox.contracts import Priority
from storage import anniversaries as store
from storage.anniversaries import AnniversaryCandidate
from storage.db import Connection

FEB = 2
LEAP_DAY = 29
LAST_COMMON_FEB_DAY = 28


# --- date rules -------------------------------------------------------------------


def today_in(zone: ZoneInfo, clock: Clock) -> date:
    """The business day now (23:30 UTC is already tomorrow in Europe/Moscow)."""
    return local_day(clock.now(), zone)


def parse_day(text: str) -> date:
    """`2026-12-01` -> date; ValueError with a readable message otherwise."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"expected a date as YYYY-MM-DD, got {text!r}") from None


def since_month_days(day: date) -> tuple[str, ...]:
    """The customers.since_md keys thanked on `day` (28 Feb of a common year adds 02-29)."""
    keys = [store.since_md(day)]
    if day.month == FEB and day.day == LAST_COMMON_FEB_DAY and not calendar.isleap(day.year):
        keys.append(f"{FEB:02d}-{LEAP_DAY:02d}")
    return tuple(keys)


def anniversary_in(since: date, year: int) -> date:
    """The day in `year` on which a relationship started on `since` is celebrated."""
    if since.month == FEB and since.day == LEAP_DAY and not calendar.isleap(year):
        return date(year, FEB, LAST_COMMON_FEB_DAY)
    return since.replace(year=year)


def years_on(since: date, day: date) -> int | None:
    """N when `day` is the N-th anniversary (N >= 1) of `since`, else None."""
    years = day.year - since.year
    if years < 1 or anniversary_in(since, day.year) != day:
        return None
    return years


# --- the plan an admin sees before pressing Send -----------------------------------


@dataclass(frozen=True, slots=True)
class YearGroup:
    years: int
    count: int


@dataclass(frozen=True, slots=True)
class AnniversaryPlan:
    day: date
    # Customers to thank now, in customer id order.
    to_send: tuple[AnniversaryCandidate, ...]
    # Customers to thank, grouped by the number of years, fewest years first.
    groups: tuple[YearGroup, ...]
    # Customers to thank per language (normalized: en, ru, uk).
    languages: dict[str, int] = field(default_factory=dict)
    already_sent: int = 0
    skipped_opted_out: int = 0
    skipped_unreachable: int = 0

    @property
    def count(self) -> int:
        return len(self.to_send)

    @property
    def skipped(self) -> int:
        return self.skipped_opted_out + self.skipped_unreachable

    @property
    def found(self) -> int:
        """Everyone with an anniversary that day, thanked or not."""
        return self.count + self.skipped + self.already_sent


def plan(
    day: date, candidates: Iterable[AnniversaryCandidate], default_language: str = "en"
) -> AnniversaryPlan:
    """Sort the day's candidates into: to thank, already thanked, opted out, unreachable.

    A candidate whose customer_since does not match the day (stale since_md) is dropped.
    """
    to_send: list[AnniversaryCandidate] = []
    already = opted_out = unreachable = 0
    for candidate in candidates:
        if years_on(candidate.customer_since, day) is None:
            continue
        if candidate.already_claimed:
            already += 1
        elif candidate.opted_out:
            opted_out += 1
        elif candidate.unreachable:
            unreachable += 1
        else:
            to_send.append(candidate)
    by_years = Counter(candidate.years for candidate in to_send)
    languages = Counter(normalize_language(c.language, default_language) for c in to_send)
    return AnniversaryPlan(
        day=day,
        to_send=tuple(sorted(to_send, key=lambda c: c.customer_id)),
        groups=tuple(YearGroup(years, count) for years, count in sorted(by_years.items())),
        languages=dict(sorted(languages.items())),
        already_sent=already,
        skipped_opted_out=opted_out,
        skipped_unreachable=unreachable,
    )


async def plan_for(conn: Connection, day: date, default_language: str = "en") -> AnniversaryPlan:
    """Select the day's candidates through the since_md index and plan them."""
    found = await store.candidates(conn, day, since_month_days(day))
    return plan(day, found, default_language)


# --- texts --------------------------------------------------------------------------

_NAME_FIRST = re.compile(r"^\s*\{\s*\$?name\s*\}[\s,!.]*")
_NAME_INSIDE = re.compile(r"[ \t]*,?[ \t]*\{\s*\$?name\s*\}")


def years_phrase(translator: Translator, language: str, years: int) -> str:
    """The number with its correctly declined noun: "1 year", "2 года", "5 років"."""
    return translator.get(language, "anniv-years", years=years)


def render_template(
    template: str, *, name: str | None, years: int, years_text: str, company: str
) -> str:
    """Fill ANNIVERSARY_TEXT. Unknown braces are left alone (no format() surprises)."""
    if not name:
        template = _drop_name(template)
    values = {"name": name or "", "years": years_text, "n": str(years), "company": company}
    return fill(template, values).strip()


def _drop_name(template: str) -> str:
    if _NAME_FIRST.match(template):
        rest = _NAME_FIRST.sub("", template, count=1)
        return rest[:1].upper() + rest[1:]
    return _NAME_INSIDE.sub("", template)


def thank_you_text(
    translator: Translator,
    language: str | None,
    *,
    name: str | None,
    years: int,
    company: str,
    template: str | None = None,
    default_language: str = "en",
) -> str:
    """The exact thank-you a customer receives, in their language."""
    lang = normalize_language(language, default_language)
    name = (name or "").strip() or None
    if template and template.strip():
        return render_template(
            template,
            name=name,
            years=years,
            years_text=years_phrase(translator, lang, years),
            company=company,
        )
    if name:
        return translator.get(lang, "anniv-message", name=name, years=years, company=company)
    return translator.get(lang, "anniv-message-anonymous", years=years, company=company)


def messages(
    translator: Translator,
    candidates: Sequence[AnniversaryCandidate],
    *,
    company: str,
    template: str | None = None,
    default_language: str = "en",
) -> list[tuple[AnniversaryCandidate, str]]:
    """Each candidate with their text: what `storage.anniversaries.queue_thank_you` queues."""
    return [
        (
            candidate,
            thank_you_text(
                translator,
                candidate.language,
                name=candidate.name,
                years=candidate.years,
                company=company,
                template=template,
                default_language=default_language,
            ),
        )
        for candidate in candidates
    ]


def preview_texts(
    translator: Translator,
    day_plan: AnniversaryPlan,
    *,
    company: str,
    template: str | None = None,
    default_language: str = "en",
) -> dict[str, str]:
    """One exact message per language present in the plan (its first customer's)."""
    previews: dict[str, str] = {}
    for candidate in day_plan.to_send:
        lang = normalize_language(candidate.language, default_language)
        if lang not in previews:
            previews[lang] = thank_you_text(
                translator,
                lang,
                name=candidate.name,
                years=candidate.years,
                company=company,
                template=template,
                default_language=default_language,
            )
    return dict(sorted(previews.items()))


# --- sending ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QueuedRun:
    run_id: int
    # Thank-yous this run claimed and queued; fewer than planned when another
    # admin (or an earlier press) got there first.
    queued: int


async def queue_plan(
    conn: Connection,
    day_plan: AnniversaryPlan,
    *,
    translator: Translator,
    company: str,
    now: int,
    due_at: int,
    quiet: CustomerQuietHours,
    mode: str = store.MANUAL,
    started_by: int | None = None,
    template: str | None = None,
    default_language: str = "en",
    priority: int = Priority.BULK,
    deadline_at: int | None = None,
) -> QueuedRun:
    """Open a run and queue every planned thank-you, in the caller's transaction.

    Each customer is claimed in the ledger first, so pressing Send twice, two admins,
    or a re-run after a restart queue nobody twice. The delivery worker sends the
    outbox rows; its renderer calls `storage.anniversaries.mark_sent/mark_failed`.
    A thank-you that `due_at` would bring inside the customer's quiet hours waits for
    their end (an admin pressing Send at 23:00 thanks them in the morning).
    """
    run_id = await store.start_run(
        conn,
        day=day_plan.day,
        mode=mode,
        started_by=started_by,
        now=now,
        planned=day_plan.count,
        skipped_opted_out=day_plan.skipped_opted_out,
        skipped_unreachable=day_plan.skipped_unreachable,
        already_sent=day_plan.already_sent,
    )
    queued = 0
    texts = messages(
        translator,
        day_plan.to_send,
        company=company,
        template=template,
        default_language=default_language,
    )
    due = await quiet.due_ats(conn, [c.customer_id for c in day_plan.to_send], due_at)
    for candidate, text in texts:
        outbox_id = await store.queue_thank_you(
            conn,
            candidate,
            day=day_plan.day,
            text=text,
            now=now,
            due_at=due[candidate.customer_id],
            priority=int(priority),
            run_id=run_id,
            deadline_at=deadline_at,
        )
        queued += outbox_id is not None
    if queued == 0:
        await store.finish_run(conn, run_id, now)
    return QueuedRun(run_id=run_id, queued=queued)


# --- what admins read ------------------------------------------------------------------


def language_name(translator: Translator, admin_language: str, code: str) -> str:
    return translator.get(admin_language, f"anniv-language-{code}")


def admin_preview_text(
    translator: Translator,
    admin_language: str,
    day_plan: AnniversaryPlan,
    previews: dict[str, str],
) -> str:
    """The /anniversaries answer: counts by years, skipped, and one preview per language."""
    lang = admin_language
    day = day_plan.day.isoformat()
    if day_plan.found == 0:
        return translator.get(lang, "anniv-preview-none", date=day)
    skipped = translator.get(
        lang,
        "anniv-preview-skipped",
        opted_out=day_plan.skipped_opted_out,
        unreachable=day_plan.skipped_unreachable,
        already=day_plan.already_sent,
    )
    if day_plan.count == 0:
        done = translator.get(
            lang, "anniv-preview-all-done", date=day, already=day_plan.already_sent
        )
        return f"{done}\n{skipped}"
    lines = [translator.get(lang, "anniv-preview-title", date=day, count=day_plan.count)]
    lines += [
        translator.get(lang, "anniv-preview-group", years=group.years, count=group.count)
        for group in day_plan.groups
    ]
    if day_plan.skipped or day_plan.already_sent:
        lines.append(skipped)
    for code, text in previews.items():
        label = translator.get(
            lang, "anniv-preview-language", lang_name=language_name(translator, lang, code)
        )
        lines += ["", label, text]
    return "\n".join(lines)


def progress_text(
    translator: Translator, admin_language: str, day: date, progress: store.RunProgress
) -> str:
    return translator.get(
        admin_language,
        "anniv-progress",
        date=day.isoformat(),
        sent=progress.sent,
        failed=progress.failed,
        left=progress.left,
    )


def summary_text(
    translator: Translator,
    admin_language: str,
    run: store.AnniversaryRun,
    progress: store.RunProgress,
) -> str:
    """The final summary; also what the automatic send posts to the admins."""
    return translator.get(
        admin_language,
        "anniv-summary",
        date=run.day,
        sent=progress.sent,
        failed=progress.failed,
        opted_out=run.skipped_opted_out,
        unreachable=run.skipped_unreachable,
        already=run.already_sent,
    )
