"""The outbox side of cases after the alert: messages to the customer, the case
thread, escalations, the follow-up and the prompts' buttons; how they are queued;
and the periodic case work. The alert itself and its folding are in alerts.py."""

from __future__ import annotations

import json
from collections.abc import Callable
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

from aiogram.types import ReplyParameters

from bot.cases import alerts
from bot.cases.alerts import ALERT_EDIT_KIND, ALERT_KIND, CARD_KIND, AlertRenderer, FoldRenderer
from bot.cases.copies import COPY_KIND, CopyRenderer, enqueue_copy
from bot.cases.keyboards import followup_keyboard
from bot.cases.service import (
    CaseResult,
    CaseService,
    CaseStatus,
    EscalationStage,
    Prompt,
    Template,
)
from bot.cases.templates import TemplateBook
from bot.cases.texts import format_escalation, format_reopened
from bot.cases.unprompted import UNPROMPTED_KIND, UnpromptedRenderer
from bot.core.clock import Clock, to_ms
from bot.core.quiet import CustomerQuietHours
from bot.i18n import Texts, Translator
from bot.locations.routing import Routing
from bot.outbox.contracts import Outgoing, Priority, Renderer, SendError, SendResult, Unreachable
from bot.survey.outbox import RenderContext
from storage import alert_folds as folds
from storage import cases as case_repo
from storage import customers, outbox
from storage.cases import Case
from storage.db import Connection, Database
from storage.models import OutboxItem, Survey


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
        """The case history already holds the text. A thread post of a customer's media
        message (its label) brings the media's copy after it, in this order."""
        await self._then_copy(conn, item)

    async def on_failed(self, conn: Connection, item: OutboxItem, error: SendError) -> None:
        if isinstance(error, Unreachable) and item.chat_id > 0:
            await customers.mark_unreachable(
                conn, item.chat_id, error.reason, to_ms(self._ctx.clock.now())
            )
        elif not isinstance(error, Unreachable):
            await self._then_copy(conn, item)  # the media may still get through

    async def _then_copy(self, conn: Connection, item: OutboxItem) -> None:
        copy = _payload(item).get("copy")
        if isinstance(copy, dict):
            await enqueue_copy(
                conn,
                item.chat_id,
                item.ref_id or 0,
                int(copy["from_chat_id"]),
                int(copy["message_id"]),
                to_ms(self._ctx.clock.now()),
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
    """Every outbox kind of cases, the alert and its fold included."""
    return {
        ALERT_KIND: AlertRenderer(ctx, kind=ALERT_KIND),
        ALERT_EDIT_KIND: AlertRenderer(ctx, kind=ALERT_EDIT_KIND),
        CARD_KIND: AlertRenderer(ctx, kind=CARD_KIND),
        folds.FOLD_KIND: FoldRenderer(ctx, edit=False),
        folds.FOLD_EDIT_KIND: FoldRenderer(ctx, edit=True),
        "case_message": CaseTextRenderer(ctx),
        "case_thread": CaseTextRenderer(ctx, thread=True),
        COPY_KIND: CopyRenderer(ctx),
        UNPROMPTED_KIND: UnpromptedRenderer(ctx),
        "case_escalation": CaseTextRenderer(ctx),
        "case_followup": FollowupRenderer(ctx, company),
        "case_prompt_close": PromptCloseRenderer(),
    }


# --- queueing -----------------------------------------------------------------------


async def enqueue_text(
    conn: Connection,
    kind: str,
    chat_id: int,
    case_id: int,
    text: str,
    now: int,
    *,
    copy: tuple[int, int] | None = None,
) -> None:
    """kind: case_message (to the customer), case_thread or case_escalation. `copy`:
    (chat id, message id) of a customer's media message to copy after a thread post
    once it is sent (copies.py), so the managers read the label, then see the media."""
    priority = Priority.ALERT if kind == "case_escalation" else Priority.CASE
    payload: dict[str, Any] = {"text": text}
    if copy is not None:
        payload["copy"] = {"from_chat_id": copy[0], "message_id": copy[1]}
    await outbox.enqueue(
        conn,
        kind=kind,
        chat_id=chat_id,
        priority=priority,
        due_at=now,
        now=now,
        ref_id=case_id,
        payload=payload,
    )


async def enqueue_card_refresh(conn: Connection, result: CaseResult, now: int) -> None:
    """After a change of state: queue the alert card's edit (and the removal of the
    buttons of prompts it retired), wherever the change was made."""
    if result.changed and result.case is not None:
        case = await case_repo.get(conn, result.case.id)
        if case is not None:
            await alerts.enqueue_card_edit(conn, case, now)
    for prompt in result.retired:
        await enqueue_prompt_close(conn, prompt, now)


async def enqueue_improved_notice(
    conn: Connection,
    case_id: int,
    templates: TemplateBook,
    translator: Translator,
    company: str,
    now: int,
) -> None:
    """Tell the customer the case was resolved (the IMPROVED template, in their language),
    wherever it was resolved."""
    card = await case_repo.card(conn, case_id)
    if card is None or card.customer_telegram_id is None:
        return
    improved = templates.get(Template.IMPROVED.value)
    assert improved is not None  # template_book always keeps it
    language = translator.resolve(card.language)
    body = escape(templates.draft(improved, language, company=company, value=None))
    await enqueue_text(conn, "case_message", card.customer_telegram_id, case_id, body, now)


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
        routing: Routing,
        admin_ids: list[int],
        kick: Callable[[], None],
        quiet: CustomerQuietHours,
    ) -> None:
        self.cases = cases
        self._db = db
        self._clock = clock
        self._translator = translator
        self._language = manager_language
        self._routing = routing
        self._admin_ids = admin_ids
        self.kick = kick
        self._quiet = quiet

    async def on_detractor(
        self, conn: Connection, survey: Survey, now: int, *, first: bool
    ) -> None:
        """The survey's detractor hook (cases/alerts.py): the case and its alert, in the
        answer's transaction."""
        chat_id = await self._routing.team_chat(conn, survey.location)
        await alerts.on_detractor(conn, self.cases, survey, now, first=first, chat_id=chat_id)

    async def on_media_reason(self, conn: Connection, survey: Survey, now: int) -> None:
        """The survey's media-reason hook: the label is on the card; the media itself
        follows it into the case's chat, copied (in the answer's transaction)."""
        if survey.reason_message_id is None or survey.chat_id is None:
            return
        case = await case_repo.get_by_survey(conn, survey.id)
        if case is None:
            return
        chat_id = case.alert_chat_id or await self._routing.team_chat(conn, survey.location)
        await enqueue_copy(conn, chat_id, case.id, survey.chat_id, survey.reason_message_id, now)

    async def notify_reopened(self, conn: Connection, case: Case, zone: ZoneInfo) -> None:
        """Tell the reopened case's owner (mentioned, in the case's managers' chat, as a
        reply to its card) or, with none, that chat; in the reopen's transaction."""
        mention = (
            f'<a href="tg://user?id={case.owner_id}">{escape(case.owner_name or "")}</a>'
            if case.owner_id and case.status == CaseStatus.TAKEN
            else None
        )
        text = format_reopened(self._translator, self._language, case, zone, mention)
        location = await self.cases.location_of(case.id, conn=conn) or ""
        chat_id = case.alert_chat_id or await self._routing.team_chat(conn, location)
        await enqueue_text(conn, "case_thread", chat_id, case.id, text, to_ms(self._clock.now()))

    def _mention(self, case: Case, stage: EscalationStage) -> str:
        if stage == EscalationStage.RESOLVE and case.owner_id:
            return f'<a href="tg://user?id={case.owner_id}">{escape(case.owner_name or "")}</a>'
        return " ".join(f'<a href="tg://user?id={uid}">admin</a>' for uid in self._admin_ids)

    async def escalate_due(self) -> int:
        """Post each case past an SLA once, one level up from its location (its region's
        chat, else the head office), with a mention."""
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
                location = await self.cases.location_of(due.case.id, conn=conn) or ""
                chat_id = await self._routing.escalation_chat(conn, location)
                await enqueue_text(conn, "case_escalation", chat_id, due.case.id, text, to_ms(now))
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
        """What folding left undone (cases/alerts.py); returns how many folds it opened."""
        async with self._db.transaction() as conn:
            return await alerts.sweep_folds(conn, self.cases.fold, to_ms(self._clock.now()))

    async def maintenance(self) -> None:
        if await self.escalate_due() + await self.followup_due() + await self.fold_sweep():
            self.kick()
