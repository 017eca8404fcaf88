"""The outbox side of cases: what the bot posts about a case on its own initiative
(the alert card and its in-place edits, messages to the customer, the case thread,
escalations, the follow-up), how it is queued, and the periodic case work."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from html import escape
from typing import Any

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, ReplyParameters

from bot.case_callbacks import CaseButton, CaseCallback, FollowupCallback
from bot.i18n import Texts, Translator
from bot.renderers import AlertRenderer, RenderContext
from bot.services.cases import (
    CaseAction,
    CaseService,
    EscalationStage,
    available_actions,
    format_escalation,
    status_line,
)
from bot.services.clock import Clock, from_ms, to_ms
from bot.services.outbound import Outgoing, Priority, Renderer, SendError, SendResult, Unreachable
from bot.services.surveys import enqueue_alert
from storage import cases as case_repo
from storage import customers, outbox
from storage.cases import Case
from storage.database import Connection, Database
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


def case_footer(ctx: RenderContext, texts: Texts, case: Case) -> str:
    """What the case adds under the survey's alert text: its number and status."""
    tr, lang = ctx.translator, texts.language
    lines = ["", texts("case-history-title", id=case.id)]
    lines.append(status_line(tr, lang, case, ctx.zone, escape))
    if case.resolution_note and case.status == "resolved":
        lines.append(texts("case-card-resolution", note=escape(case.resolution_note)))
    if case.followup_answer:
        lines.append(texts("case-card-followup", answer=case.followup_answer))
    return "\n".join(lines)


class CaseAlertRenderer:
    """The detractor alert with its case: the survey's alert text, the case status and
    the buttons; `alert`/`alert_edit` rows refer to the survey, `case_card` to the case."""

    def __init__(self, ctx: RenderContext, *, kind: str) -> None:
        self._ctx = ctx
        self._kind = kind
        self._plain = AlertRenderer(ctx, edit=kind != "alert")

    async def render(self, item: OutboxItem) -> Outgoing | None:
        ctx = self._ctx
        async with ctx.db.read() as conn:
            if self._kind == "case_card":
                case = await case_repo.get(conn, item.ref_id or 0)
                survey_id = case.survey_id if case else 0
            else:
                survey_id = item.ref_id or 0
                case = await case_repo.get_by_survey(conn, survey_id)
        base = await self._plain.render(replace(item, ref_id=survey_id, kind="alert"))
        if base is None or case is None:
            return base
        texts = Texts(ctx.translator, ctx.manager_language)
        base.text += "\n" + case_footer(ctx, texts, case)
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


def case_renderers(ctx: RenderContext, company: str) -> dict[str, Renderer]:
    """Overrides the core `alert`/`alert_edit` kinds so the alert carries its case."""
    return {
        "alert": CaseAlertRenderer(ctx, kind="alert"),
        "alert_edit": CaseAlertRenderer(ctx, kind="alert_edit"),
        "case_card": CaseAlertRenderer(ctx, kind="case_card"),
        "case_message": CaseTextRenderer(ctx),
        "case_thread": CaseTextRenderer(ctx, thread=True),
        "case_escalation": CaseTextRenderer(ctx),
        "case_followup": FollowupRenderer(ctx, company),
    }


# --- queueing -----------------------------------------------------------------------


async def enqueue_card_edit(conn: Connection, case: Case, now: int) -> None:
    """Show the case's new state on its alert (rendered from the state at send time)."""
    if case.alert_chat_id is None:
        return  # the alert is still pending and will show the latest state
    await outbox.enqueue(
        conn,
        kind="case_card",
        chat_id=case.alert_chat_id,
        priority=Priority.CASE,
        due_at=now,
        now=now,
        ref_id=case.id,
    )


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
        manager_chat_id: int,
        escalation_chat_id: int,
        admin_ids: list[int],
        kick: Callable[[], None],
    ) -> None:
        self.cases = cases
        self._db = db
        self._clock = clock
        self._translator = translator
        self._language = manager_language
        self.manager_chat_id = manager_chat_id
        self._escalation_chat_id = escalation_chat_id
        self._admin_ids = admin_ids
        self.kick = kick

    async def on_detractor(self, conn: Connection, survey: Survey, now: int, first: bool) -> None:
        """The survey's detractor hook: open the case in the answer's transaction and
        send (or update) the alert that carries it."""
        await self.cases.open_for_survey(conn, survey.id, survey.customer_id, from_ms(now))
        await enqueue_alert(conn, survey, now, first, chat_id=self.manager_chat_id)

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
                    self._escalation_chat_id,
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
                    due_at=now,
                    now=now,
                    ref_id=target.case_id,
                    payload={"language": target.language},
                    dedupe_key=f"case_followup:{target.case_id}",
                )
                asked += 1
        return asked

    async def maintenance(self) -> None:
        if await self.escalate_due() + await self.followup_due():
            self.kick()
