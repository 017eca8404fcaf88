"""The outbox side of cases: what the bot posts about a case on its own initiative
(the alert card and its in-place edits, messages to the customer, the case thread,
escalations, the follow-up), how it is queued, and the periodic case work.

Bursts: when detractors arrive faster than the managers' group may receive messages,
the alerts that would wait are held and folded into one message per FoldPolicy
interval that lists them, each with its own button (storage/alert_folds.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, ReplyParameters

from bot.cases.callbacks import CaseButton, CaseCallback, FollowupCallback
from bot.cases.service import (
    CaseAction,
    CaseService,
    EscalationStage,
    FoldEntry,
    FoldPolicy,
    Prompt,
    Status,
    available_actions,
    format_escalation,
    format_fold,
    status_line,
)
from bot.chats.service import ChatDirectory
from bot.core.clock import Clock, from_ms, to_ms
from bot.core.quiet import CustomerQuietHours
from bot.i18n import Texts, Translator
from bot.outbox.contracts import Outgoing, Priority, Renderer, SendError, SendResult, Unreachable
from bot.survey.outbox import AlertRenderer, RenderContext
from bot.survey.service import enqueue_alert
from bot.survey.texts import alert_text
from storage import alert_folds as folds
from storage import cases as case_repo
from storage import customers, outbox, surveys
from storage.cases import Case
from storage.db import Connection, Database
from storage.models import OutboxItem, Survey

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


def case_footer(texts: Texts, zone: ZoneInfo, case: Case) -> str:
    """What the case adds under the survey's alert text: its number and status."""
    tr, lang = texts.translator, texts.language
    lines = ["", texts("case-history-title", id=case.id)]
    lines.append(status_line(tr, lang, case, zone, escape))
    if case.resolution_note and case.status == "resolved":
        lines.append(texts("case-card-resolution", note=escape(case.resolution_note)))
    if case.followup_answer:
        lines.append(texts("case-card-followup", answer=case.followup_answer))
    return "\n".join(lines)


async def full_card(
    db: Database, texts: Texts, zone: ZoneInfo, case_id: int
) -> tuple[str, InlineKeyboardMarkup | None] | None:
    """A case's card as a single alert shows it, with the buttons its state allows:
    what 📋 under a folded alert opens."""
    async with db.read() as conn:
        case = await case_repo.get(conn, case_id)
        found = await surveys.context(conn, case.survey_id) if case is not None else None
    if case is None or found is None:
        return None
    text = alert_text(texts, found.survey, found.customer, found.visited_at, zone)
    return text + "\n" + case_footer(texts, zone, case), card_keyboard(case, texts)


# A folded alert's buttons, this many to a row (up to max_cases of them).
_FOLD_BUTTONS_PER_ROW = 4


def fold_keyboard(entries: list[FoldEntry], texts: Texts) -> InlineKeyboardMarkup | None:
    """One button per open case: 🙋 takes a new one; 📋 opens a taken one's card."""
    buttons = []
    for entry in entries:
        if entry.status == Status.NEW:
            key, action = "case-fold-button-take", CaseButton.TAKE
        elif entry.status == Status.TAKEN:
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
            if fold is None or fold.status != "sent" or fold.message_id is None:
                return None
            entries = await folds.entries(conn, fold_id)
        text, keyboard = self._message(entries)
        return Outgoing(
            chat_id=fold.chat_id, text=text, keyboard=keyboard, edit_message_id=fold.message_id
        )

    async def on_sent(self, conn: Connection, item: OutboxItem, result: SendResult) -> None:
        if self._edit or result.message_id is None:
            return
        now = to_ms(self._ctx.clock.now())
        message_id = result.message_id
        await folds.finish_members(
            conn,
            item.id,
            status="sent",
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
            status="failed",
            message_id=None,
            note=f"folded into outbox row {item.id}, which failed: {error.reason}",
            now=now,
        )
        if isinstance(error, Unreachable):
            await folds.end_unassigned_held(conn, item.chat_id, "expired", "chat unreachable", now)
        elif await folds.unassigned_held(conn, item.chat_id):
            await start_fold(conn, item.chat_id, now, FoldPolicy.from_payload(item.data))


class CaseAlertRenderer:
    """The detractor alert with its case: the survey's alert text, the case status and
    the buttons; `alert`/`alert_edit` rows refer to the survey, `case_card` to the case."""

    def __init__(self, ctx: RenderContext, *, kind: str) -> None:
        self._ctx = ctx
        self._kind = kind
        self._plain = AlertRenderer(ctx, edit=kind != "alert")
        self._fold = FoldRenderer(ctx, edit=True)

    async def render(self, item: OutboxItem) -> Outgoing | None:
        ctx = self._ctx
        fold_id = None
        async with ctx.db.read() as conn:
            if self._kind == "case_card":
                case = await case_repo.get(conn, item.ref_id or 0)
                survey_id = case.survey_id if case else 0
            else:
                survey_id = item.ref_id or 0
                case = await case_repo.get_by_survey(conn, survey_id)
            if case is not None and self._kind != "alert":
                fold_id = await folds.fold_of_case(conn, case.id)
        if fold_id is not None:
            # The case's alert is a line of a folded message: edit that one instead.
            return await self._fold.render_edit(fold_id)
        base = await self._plain.render(replace(item, ref_id=survey_id, kind="alert"))
        if base is None or case is None:
            return base
        texts = Texts(ctx.translator, ctx.manager_language)
        base.text += "\n" + case_footer(texts, ctx.zone, case)
        base.keyboard = card_keyboard(case, texts)
        return base

    async def on_sent(self, conn: Connection, item: OutboxItem, result: SendResult) -> None:
        if self._kind != "alert" or result.message_id is None:
            return
        case = await case_repo.get_by_survey(conn, item.ref_id or 0)
        if case is not None:
            await case_repo.set_alert(
                conn, case.id, item.chat_id, result.message_id, to_ms(self._ctx.clock.now())
            )

    async def on_failed(self, conn: Connection, item: OutboxItem, error: SendError) -> None:
        """Recorded on the outbox row; the case itself is listed by /cases either way."""


def _payload(item: OutboxItem) -> dict[str, Any]:
    loaded = json.loads(item.payload or "{}")
    return loaded if isinstance(loaded, dict) else {}


class CaseTextRenderer:
    """A prepared text: to the customer (`to_customer`), or into the case thread of the
    managers' chat as a reply to the alert card, or an escalation post."""

    def __init__(self, ctx: RenderContext, *, thread: bool = False) -> None:
        self._ctx = ctx
        self._thread = thread

    async def render(self, item: OutboxItem) -> Outgoing | None:
        text = str(_payload(item).get("text") or "")
        if not text:
            return None
        message = Outgoing(chat_id=item.chat_id, text=text)
        if self._thread:
            async with self._ctx.db.read() as conn:
                case = await case_repo.get(conn, item.ref_id or 0)
            if case is not None and case.alert_message_id and case.alert_chat_id == item.chat_id:
                message.extra["reply_parameters"] = ReplyParameters(
                    message_id=case.alert_message_id, allow_sending_without_reply=True
                )
        return message

    async def on_sent(self, conn: Connection, item: OutboxItem, result: SendResult) -> None:
        """The case history already holds the text."""

    async def on_failed(self, conn: Connection, item: OutboxItem, error: SendError) -> None:
        if isinstance(error, Unreachable) and item.chat_id > 0:
            await customers.mark_unreachable(
                conn, item.chat_id, error.reason, to_ms(self._ctx.clock.now())
            )


class FollowupRenderer:
    """ "Did we fix it?" with yes/no, in the customer's language."""

    def __init__(self, ctx: RenderContext, company: str) -> None:
        self._ctx = ctx
        self._company = company

    async def render(self, item: OutboxItem) -> Outgoing | None:
        async with self._ctx.db.read() as conn:
            case = await case_repo.get(conn, item.ref_id or 0)
        if case is None or case.followup_answer is not None:
            return None
        texts = Texts(self._ctx.translator, _payload(item).get("language"))
        return Outgoing(
            chat_id=item.chat_id,
            text=texts("case-followup-question", company=escape(self._company)),
            keyboard=followup_keyboard(case.id, texts),
        )

    async def on_sent(self, conn: Connection, item: OutboxItem, result: SendResult) -> None:
        """The follow-up was marked sent when it was queued."""

    async def on_failed(self, conn: Connection, item: OutboxItem, error: SendError) -> None:
        if isinstance(error, Unreachable):
            await customers.mark_unreachable(
                conn, item.chat_id, error.reason, to_ms(self._ctx.clock.now())
            )


class PromptCloseRenderer:
    """A manager's prompt loses its buttons once the pending action it asked for has
    ended (payload: its message id), so the chat keeps no stale live button."""

    async def render(self, item: OutboxItem) -> Outgoing | None:
        message_id = int(_payload(item).get("message_id") or 0)
        if not message_id:
            return None
        return Outgoing(
            chat_id=item.chat_id,
            edit_message_id=message_id,
            edit_keyboard_only=True,
            keyboard=None,
        )

    async def on_sent(self, conn: Connection, item: OutboxItem, result: SendResult) -> None:
        """The buttons are gone; nothing else changes."""

    async def on_failed(self, conn: Connection, item: OutboxItem, error: SendError) -> None:
        """A button left behind is harmless: every press is checked against the case."""


def case_renderers(ctx: RenderContext, company: str) -> dict[str, Renderer]:
    """Overrides the core `alert`/`alert_edit` kinds so the alert carries its case."""
    return {
        "alert": CaseAlertRenderer(ctx, kind="alert"),
        "alert_edit": CaseAlertRenderer(ctx, kind="alert_edit"),
        "case_card": CaseAlertRenderer(ctx, kind="case_card"),
        folds.FOLD_KIND: FoldRenderer(ctx, edit=False),
        folds.FOLD_EDIT_KIND: FoldRenderer(ctx, edit=True),
        "case_message": CaseTextRenderer(ctx),
        "case_thread": CaseTextRenderer(ctx, thread=True),
        "case_escalation": CaseTextRenderer(ctx),
        "case_followup": FollowupRenderer(ctx, company),
        "case_prompt_close": PromptCloseRenderer(),
    }


# --- queueing -----------------------------------------------------------------------


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
        kind="case_card",
        chat_id=case.alert_chat_id,
        priority=Priority.CASE,
        due_at=now,
        now=now,
        ref_id=case.id,
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


async def hold_if_busy(conn: Connection, survey_id: int, now: int, policy: FoldPolicy) -> bool:
    """Fold rather than queue one more card behind a full group: once `threshold`
    other alerts of the chat wait, or while a fold is open (no card may overtake it),
    the survey's new alert and every pending one of its chat are held for a fold."""
    alert = await outbox.by_dedupe_key(conn, f"alert:{survey_id}")
    if alert is None or alert.status != "pending":
        return False
    chat_id = alert.chat_id
    fold = await folds.open_fold(conn, chat_id)
    if fold is None and await folds.waiting_alerts(conn, chat_id, alert.id) < policy.threshold:
        return False
    await folds.hold_pending(conn, chat_id)
    if fold is None:
        await start_fold(conn, chat_id, now, policy)
    elif await folds.unassigned_held(conn, chat_id) >= policy.max_cases:
        await folds.hurry(conn, fold.id, now)
    return True


async def enqueue_text(
    conn: Connection, kind: str, chat_id: int, case_id: int, text: str, now: int
) -> None:
    """kind: case_message (to the customer), case_thread or case_escalation."""
    priority = Priority.ALERT if kind == "case_escalation" else Priority.CASE
    await outbox.enqueue(
        conn,
        kind=kind,
        chat_id=chat_id,
        priority=priority,
        due_at=now,
        now=now,
        ref_id=case_id,
        payload={"text": text},
    )


async def enqueue_prompt_close(conn: Connection, prompt: Prompt, now: int) -> None:
    """Take the buttons off a prompt whose pending action has ended."""
    await outbox.enqueue(
        conn,
        kind="case_prompt_close",
        chat_id=prompt.chat_id,
        priority=Priority.CASE,
        due_at=now,
        now=now,
        payload={"message_id": prompt.message_id},
    )


class CaseOutbox:
    """Queues case posts and runs the periodic case work (escalations, follow-ups)."""

    def __init__(
        self,
        cases: CaseService,
        db: Database,
        clock: Clock,
        translator: Translator,
        manager_language: str,
        *,
        chats: ChatDirectory,
        admin_ids: list[int],
        kick: Callable[[], None],
        quiet: CustomerQuietHours,
    ) -> None:
        self.cases = cases
        self._db = db
        self._clock = clock
        self._translator = translator
        self._language = manager_language
        self._chats = chats
        self._admin_ids = admin_ids
        self.kick = kick
        self._quiet = quiet

    async def on_detractor(self, conn: Connection, survey: Survey, now: int, first: bool) -> None:
        """The survey's detractor hook: open the case in the answer's transaction and
        send (or update) the alert that carries it."""
        await self.cases.open_for_survey(conn, survey.id, survey.customer_id, from_ms(now))
        await enqueue_alert(conn, survey, now, first, chat_id=self._chats.managers)
        await hold_if_busy(conn, survey.id, now, self.cases.fold)

    def _mention(self, case: Case, stage: EscalationStage) -> str:
        if stage == EscalationStage.RESOLVE and case.owner_id:
            return f'<a href="tg://user?id={case.owner_id}">{escape(case.owner_name or "")}</a>'
        return " ".join(f'<a href="tg://user?id={uid}">admin</a>' for uid in self._admin_ids)

    async def escalate_due(self) -> int:
        """Post each case past an SLA once to the escalation chat, with a mention."""
        now = self._clock.now()
        posted = 0
        for due in await self.cases.due_escalations(now):
            async with self._db.transaction() as conn:
                result = await self.cases.mark_escalated(due.case.id, due.stage, conn=conn)
                if not result.changed or result.case is None:
                    continue
                text = format_escalation(
                    self._translator,
                    self._language,
                    result.case,
                    due.stage,
                    now,
                    self._mention(result.case, due.stage),
                    escape,
                )
                await enqueue_text(
                    conn,
                    "case_escalation",
                    self._chats.escalation,
                    due.case.id,
                    text,
                    to_ms(now),
                )
                posted += 1
        return posted

    async def followup_due(self) -> int:
        """Ask "did we fix it?" once for every case whose follow-up day has come."""
        now = to_ms(self._clock.now())
        asked = 0
        for target in await self.cases.due_followups():
            async with self._db.transaction() as conn:
                result = await self.cases.mark_followup_sent(target.case_id, conn=conn)
                if not result.changed:
                    continue
                await outbox.enqueue(
                    conn,
                    kind="case_followup",
                    chat_id=target.telegram_id,
                    priority=Priority.CASE,
                    due_at=await self._quiet.due_at(conn, target.customer_id, now),
                    now=now,
                    ref_id=target.case_id,
                    payload={"language": target.language},
                    dedupe_key=f"case_followup:{target.case_id}",
                )
                asked += 1
        return asked

    async def fold_sweep(self) -> int:
        """Settle what folding left undone: alerts held for a fold row that ended
        without telling them (an instance stopped mid-send, the row expired with its
        chat) end as it did; alerts waiting for the group are held; held alerts that
        no fold carries get one. Returns how many folds it opened."""
        now = to_ms(self._clock.now())
        opened = 0
        policy = self.cases.fold
        async with self._db.transaction() as conn:
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

    async def maintenance(self) -> None:
        if await self.escalate_due() + await self.followup_due() + await self.fold_sweep():
            self.kick()


async def _settle_ended_fold(conn: Connection, ended: folds.EndedFold, now: int) -> None:
    if ended.status == "sent" and ended.message_id is not None:
        await folds.finish_members(
            conn,
            ended.fold_id,
            status="sent",
            message_id=ended.message_id,
            note=f"folded into message {ended.message_id}",
            now=now,
        )
        await folds.point_cases_at(conn, ended.fold_id, ended.chat_id, ended.message_id, now)
        return
    status = ended.status if ended.status in ("failed", "expired") else "failed"
    await folds.finish_members(
        conn,
        ended.fold_id,
        status=status,
        message_id=None,
        note=f"folded into outbox row {ended.fold_id}, which ended {ended.status}:"
        f" {ended.last_error or 'no reason recorded'}",
        now=now,
    )
