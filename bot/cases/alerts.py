"""A detractor opens a case, queues its alert, and folds it in a burst: the rule
read top to bottom.

1. `on_detractor` runs in the survey answer's transaction (the survey's keyword-only
   detractor hook): it opens the case and queues the alert, or an edit of the alert
   when later answers add to what the managers should see.
2. `hold_if_busy`: when detractors arrive faster than the managers' group may receive
   messages (20 a minute), the alerts that would wait are held and folded into one
   message per FoldPolicy interval that lists them, each with its own button
   (storage/alert_folds.py). `sweep_folds` settles what a crash left undone.
3. The renderers turn the rows into messages when due: `AlertRenderer` (the card with
   the case's status and buttons) and `FoldRenderer` (the folded message).
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import NamedTuple
from zoneinfo import ZoneInfo

from aiogram.types import InlineKeyboardMarkup

from bot.cases import unprompted
from bot.cases.keyboards import card_keyboard, fold_keyboard
from bot.cases.service import CaseService, FoldEntry, FoldPolicy
from bot.cases.texts import alert_text, case_footer, format_fold
from bot.core.clock import from_ms, to_ms
from bot.i18n import Texts
from bot.outbox.contracts import Outgoing, Priority, SendError, SendResult, Unreachable
from bot.survey.outbox import RenderContext
from bot.topics import Taxonomy
from storage import alert_folds as folds
from storage import cases as case_repo
from storage import outbox, surveys
from storage import topics as topic_rows
from storage.cases import Case
from storage.db import Connection, Database
from storage.models import OutboxItem, OutboxStatus, Survey

ALERT_KIND = "alert"
ALERT_EDIT_KIND = "alert_edit"
CARD_KIND = "case_card"


class AlertRow(NamedTuple):
    """What hold_if_busy needs of a survey's alert row."""

    id: int
    status: str
    chat_id: int


async def on_detractor(
    conn: Connection, cases: CaseService, survey: Survey, now: int, *, first: bool, chat_id: int
) -> None:
    """Open the case in the answer's transaction and send (or update) the alert that
    carries it; fold it instead when the managers' group is busy."""
    await cases.open_case(
        conn, survey.id, survey.customer_id, from_ms(now), location=survey.location
    )
    alert = await enqueue_alert(conn, survey, now, first, chat_id=chat_id)
    await hold_if_busy(conn, survey.id, now, cases.fold, alert=alert)


async def enqueue_alert(
    conn: Connection, survey: Survey, now: int, first: bool, chat_id: int
) -> AlertRow | None:
    """The managers' alert: sent once; later answers edit it in place. Returns the
    survey's alert row as it now is. A first detractor answer tries the insert first
    (its alert rarely exists yet); later ones look the alert up first."""
    key = f"alert:{survey.id}"

    async def insert() -> AlertRow | None:
        new_id = await outbox.enqueue(
            conn,
            kind=ALERT_KIND,
            chat_id=chat_id,
            priority=Priority.ALERT,
            due_at=now,
            now=now,
            ref_id=survey.id,
            dedupe_key=key,
        )
        return AlertRow(new_id, OutboxStatus.PENDING, chat_id) if new_id is not None else None

    if first and (inserted := await insert()) is not None:
        return inserted
    existing = await outbox.by_dedupe_key(conn, key)
    if existing is None:
        return await insert()
    if existing.status in (OutboxStatus.SENT, OutboxStatus.SENDING):
        # Still pending alerts render the latest answers when they go out.
        await outbox.enqueue(
            conn,
            kind=ALERT_EDIT_KIND,
            chat_id=chat_id,
            priority=Priority.CASE,
            due_at=now,
            now=now,
            ref_id=survey.id,
            payload={"alert_id": existing.id},
        )
    return AlertRow(existing.id, existing.status, existing.chat_id)


async def hold_if_busy(
    conn: Connection,
    survey_id: int,
    now: int,
    policy: FoldPolicy,
    *,
    alert: AlertRow | None = None,
) -> bool:
    """Fold rather than queue one more card behind a full group: once `threshold`
    other alerts of the chat wait, or while a fold is open (no card may overtake it),
    the survey's new alert and every pending one of its chat are held for a fold.
    `alert`: the survey's alert row when the caller has it (else it is read)."""
    if alert is None:
        found = await outbox.by_dedupe_key(conn, f"alert:{survey_id}")
        alert = AlertRow(found.id, found.status, found.chat_id) if found else None
    if alert is None or alert.status != OutboxStatus.PENDING:
        return False
    chat_id = alert.chat_id
    fold_id, waiting = await folds.busy(conn, chat_id, alert.id)
    if fold_id is None and waiting < policy.threshold:
        return False
    await folds.hold_pending(conn, chat_id)
    if fold_id is None:
        await start_fold(conn, chat_id, now, policy)
    elif await folds.unassigned_held(conn, chat_id) >= policy.max_cases:
        await folds.hurry(conn, fold_id, now)
    return True


async def start_fold(
    conn: Connection, chat_id: int, now: int, policy: FoldPolicy, *, last_sent: int | None = None
) -> None:
    """Queue the chat's next folded message, at most one per policy interval. Callers
    check that no fold is open; the numbered dedupe key settles a race between two."""
    if last_sent is None:
        last_sent = await folds.last_sent_at(conn, chat_id)
    interval = int(policy.interval.total_seconds() * 1000)
    due = now if last_sent is None else max(now, last_sent + interval)
    if await folds.unassigned_held(conn, chat_id) >= policy.max_cases:
        # A full fold gains nothing by waiting out the interval: only lateness. The
        # group's own limit still paces it, so a long burst drains at Telegram's pace.
        due = now
    number = await folds.fold_count(conn, chat_id) + 1
    await outbox.enqueue(
        conn,
        kind=folds.FOLD_KIND,
        chat_id=chat_id,
        priority=Priority.ALERT,
        due_at=due,
        now=now,
        payload=policy.payload(),
        dedupe_key=f"{folds.FOLD_KIND}:{chat_id}:{number}",
    )


async def enqueue_fold_edit(conn: Connection, fold_id: int, chat_id: int, now: int) -> None:
    """One edit not yet rendered re-renders the whole fold from the database, so
    presses on several of its cases cost the group's budget one edit, not one each."""
    if await folds.has_pending_edit(conn, fold_id):
        return
    await outbox.enqueue(
        conn,
        kind=folds.FOLD_EDIT_KIND,
        chat_id=chat_id,
        priority=Priority.CASE,
        due_at=now,
        now=now,
        ref_id=fold_id,
    )


async def enqueue_card_edit(conn: Connection, case: Case, now: int) -> None:
    """Show the case's new state on its alert (rendered from the state at send time)."""
    if case.alert_chat_id is None:
        return  # the alert is still pending and will show the latest state
    fold_id = await folds.fold_of_case(conn, case.id)
    if fold_id is not None:
        await enqueue_fold_edit(conn, fold_id, case.alert_chat_id, now)
        return
    await outbox.enqueue(
        conn,
        kind=CARD_KIND,
        chat_id=case.alert_chat_id,
        priority=Priority.CASE,
        due_at=now,
        now=now,
        ref_id=case.id,
    )


async def sweep_folds(conn: Connection, policy: FoldPolicy, now: int) -> int:
    """Settle what folding left undone: alerts held for a fold row that ended
    without telling them (an instance stopped mid-send, the row expired with its
    chat) end as it did; alerts waiting for the group are held; held alerts that
    no fold carries get one. Returns how many folds it opened."""
    opened = 0
    for ended in await folds.ended_folds_with_held(conn):
        await _settle_ended_fold(conn, ended, now)
    # Alerts queued faster than the worker could claim them were pushed back by
    # the group limit without anyone deciding to fold: fold them now.
    for chat_id in await folds.chats_with_waiting_alerts(conn, policy.threshold):
        await folds.hold_pending(conn, chat_id)
    for chat_id in await folds.chats_with_stranded_alerts(conn):
        if await folds.open_fold(conn, chat_id) is None:
            await start_fold(conn, chat_id, now, policy)
            opened += 1
    return opened


async def _settle_ended_fold(conn: Connection, ended: folds.EndedFold, now: int) -> None:
    if ended.status == OutboxStatus.SENT and ended.message_id is not None:
        await folds.finish_members(
            conn,
            ended.fold_id,
            status=OutboxStatus.SENT,
            message_id=ended.message_id,
            note=f"folded into message {ended.message_id}",
            now=now,
        )
        await folds.point_cases_at(conn, ended.fold_id, ended.chat_id, ended.message_id, now)
        return
    status = (
        ended.status
        if ended.status in (OutboxStatus.FAILED, OutboxStatus.EXPIRED)
        else OutboxStatus.FAILED
    )
    await folds.finish_members(
        conn,
        ended.fold_id,
        status=status,
        message_id=None,
        note=f"folded into outbox row {ended.fold_id}, which ended {ended.status}:"
        f" {ended.last_error or 'no reason recorded'}",
        now=now,
    )


def topic_labels(taxonomy: Taxonomy, ids: Sequence[str], language: str | None) -> list[str]:
    """The labels of a reason's topics in `language`, in the taxonomy's order (an id no
    longer in it, at the end, as itself)."""
    order = {topic: index for index, topic in enumerate(taxonomy.ids())}
    ranked = sorted(ids, key=lambda topic: (order.get(topic, len(order)), topic))
    return [taxonomy.label(topic, language or "en") for topic in ranked]


async def _survey_alert(
    ctx: RenderContext, survey_id: int, chat_id: int, *, edit: bool
) -> Outgoing | None:
    """The alert's text from the survey's latest answers: a new message, or (`edit`)
    an edit of the alert already sent."""
    async with ctx.db.read() as conn:
        found = await surveys.context(conn, survey_id)
        alert = await outbox.by_dedupe_key(conn, f"alert:{survey_id}")
        ids = await topic_rows.of_survey(conn, survey_id) if found and found.survey.reason else ()
    if found is None:
        return None
    texts = Texts(ctx.translator, ctx.manager_language)
    labels = topic_labels(ctx.taxonomy, ids, ctx.manager_language)
    text = alert_text(texts, found.survey, found.customer, found.visited_at, ctx.zone, labels)
    if not edit:
        return Outgoing(chat_id=chat_id, text=text)
    if alert is None or alert.status != OutboxStatus.SENT or alert.message_id is None:
        return None  # a pending alert will show the latest answers when it goes out
    return Outgoing(chat_id=alert.chat_id, text=text, edit_message_id=alert.message_id)


class AlertRenderer:
    """The detractor alert with its case: the survey's alert text, the case status and
    the buttons; `alert`/`alert_edit` rows refer to the survey, `case_card` to the case."""

    def __init__(self, ctx: RenderContext, *, kind: str) -> None:
        self._ctx = ctx
        self._kind = kind
        self._fold = FoldRenderer(ctx, edit=True)

    async def render(self, item: OutboxItem) -> Outgoing | None:
        ctx = self._ctx
        fold_id = None
        async with ctx.db.read() as conn:
            if self._kind == CARD_KIND:
                case = await case_repo.get(conn, item.ref_id or 0)
                survey_id = case.survey_id if case else 0
            else:
                survey_id = item.ref_id or 0
                case = await case_repo.get_by_survey(conn, survey_id)
            if case is not None and self._kind != ALERT_KIND:
                fold_id = await folds.fold_of_case(conn, case.id)
        if fold_id is not None:
            # The case's alert is a line of a folded message: edit that one instead.
            return await self._fold.render_edit(fold_id)
        if case is not None and case.survey_id is None:
            # Unprompted feedback: its own card (bot/cases/unprompted.py), never folded.
            return await unprompted.render_card(ctx, case.id, edit=True)
        if survey_id is None:
            return None
        base = await _survey_alert(ctx, survey_id, item.chat_id, edit=self._kind != ALERT_KIND)
        if base is None or case is None:
            return base
        texts = Texts(ctx.translator, ctx.manager_language)
        base.text += "\n" + case_footer(texts, ctx.zone, case)
        base.keyboard = card_keyboard(case, texts)
        return base

    async def on_sent(self, conn: Connection, item: OutboxItem, result: SendResult) -> None:
        if self._kind != ALERT_KIND or result.message_id is None:
            return
        if self._ctx.metrics is not None:
            self._ctx.metrics.alert_sent("single")
        case = await case_repo.get_by_survey(conn, item.ref_id or 0)
        if case is not None:
            await case_repo.set_alert(
                conn, case.id, item.chat_id, result.message_id, to_ms(self._ctx.clock.now())
            )

    async def on_failed(self, conn: Connection, item: OutboxItem, error: SendError) -> None:
        """Recorded on the outbox row; the case itself is listed by /cases either way."""


class FoldRenderer:
    """Held alerts of one chat as one message (`alert_fold`), and that message edited
    in place as its cases move (`alert_fold_edit`, ref_id = the fold's outbox row).
    Both are rendered from the database when due, so they always show the latest."""

    def __init__(self, ctx: RenderContext, *, edit: bool) -> None:
        self._ctx = ctx
        self._edit = edit

    def _message(self, entries: list[FoldEntry]) -> tuple[str, InlineKeyboardMarkup | None]:
        texts = Texts(self._ctx.translator, self._ctx.manager_language)
        text = format_fold(texts.translator, texts.language, entries, escape)
        return text, fold_keyboard(entries, texts)

    async def render(self, item: OutboxItem) -> Outgoing | None:
        if self._edit:
            return await self.render_edit(item.ref_id or 0)
        policy = FoldPolicy.from_payload(item.data)
        async with self._ctx.db.transaction() as conn:
            # Alerts that slipped in as pending since the fold opened join it too.
            await folds.hold_pending(conn, item.chat_id)
            room = policy.max_cases - await folds.size(conn, item.id)
            await folds.assign(conn, item.id, item.chat_id, room)
            entries = await folds.entries(conn, item.id)
        if not entries:
            return None
        text, keyboard = self._message(entries)
        return Outgoing(chat_id=item.chat_id, text=text, keyboard=keyboard)

    async def render_edit(self, fold_id: int) -> Outgoing | None:
        """The fold re-rendered as an edit; None while it has not been sent (it will
        show the latest state when it goes out)."""
        async with self._ctx.db.read() as conn:
            fold = await outbox.get(conn, fold_id)
            if fold is None or fold.status != OutboxStatus.SENT or fold.message_id is None:
                return None
            entries = await folds.entries(conn, fold_id)
        text, keyboard = self._message(entries)
        return Outgoing(
            chat_id=fold.chat_id, text=text, keyboard=keyboard, edit_message_id=fold.message_id
        )

    async def on_sent(self, conn: Connection, item: OutboxItem, result: SendResult) -> None:
        if self._edit or result.message_id is None:
            return
        if self._ctx.metrics is not None:
            self._ctx.metrics.alert_sent("folded")
        now = to_ms(self._ctx.clock.now())
        message_id = result.message_id
        await folds.finish_members(
            conn,
            item.id,
            status=OutboxStatus.SENT,
            message_id=message_id,
            note=f"folded into message {message_id}",
            now=now,
        )
        await folds.point_cases_at(conn, item.id, item.chat_id, message_id, now)
        if await folds.unassigned_held(conn, item.chat_id):
            policy = FoldPolicy.from_payload(item.data)
            await start_fold(conn, item.chat_id, now, policy, last_sent=now)

    async def on_failed(self, conn: Connection, item: OutboxItem, error: SendError) -> None:
        if self._edit:
            return
        now = to_ms(self._ctx.clock.now())
        await folds.finish_members(
            conn,
            item.id,
            status=OutboxStatus.FAILED,
            message_id=None,
            note=f"folded into outbox row {item.id}, which failed: {error.reason}",
            now=now,
        )
        if isinstance(error, Unreachable):
            await folds.end_unassigned_held(
                conn, item.chat_id, OutboxStatus.EXPIRED, "chat unreachable", now
            )
        elif await folds.unassigned_held(conn, item.chat_id):
            await start_fold(conn, item.chat_id, now, FoldPolicy.from_payload(item.data))


async def full_card(
    db: Database, texts: Texts, zone: ZoneInfo, case_id: int, taxonomy: Taxonomy
) -> tuple[str, InlineKeyboardMarkup | None] | None:
    """A case's card as a single alert shows it, with the buttons its state allows:
    what 📋 under a folded alert opens."""
    async with db.read() as conn:
        case = await case_repo.get(conn, case_id)
        survey_id = case.survey_id if case is not None else None
        found = await surveys.context(conn, survey_id) if survey_id is not None else None
        ids = await topic_rows.of_survey(conn, found.survey.id) if found else ()
    if case is not None and case.survey_id is None:
        built = await unprompted.card(db, texts, zone, case_id)
        return (built[0], built[1]) if built is not None else None
    if case is None or found is None:
        return None
    labels = topic_labels(taxonomy, ids, texts.language)
    text = alert_text(texts, found.survey, found.customer, found.visited_at, zone, labels)
    return text + "\n" + case_footer(texts, zone, case), card_keyboard(case, texts)
