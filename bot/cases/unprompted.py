"""Unprompted feedback's card: what a customer wrote when no survey asked them anything
and no case of theirs was open, as a case without a score.

The case (survey_id NULL) is opened by the customer's message (bot/cases/handlers.py,
`unprompted_message`); its card goes to the managers of the customer's most recent
visit's location (the head office without one) as an `unprompted_card` outbox row,
and is edited in place as the case moves (`case_card` rows, through AlertRenderer),
with the buttons of any case. A first message that was media (a voice message, a
photo...) is copied under the card once the card is sent.
"""

from __future__ import annotations

import json
from html import escape
from zoneinfo import ZoneInfo

from aiogram.types import InlineKeyboardMarkup

from bot.cases.copies import enqueue_copy
from bot.cases.keyboards import card_keyboard
from bot.cases.texts import case_footer, format_time
from bot.core.clock import to_ms
from bot.i18n import Texts
from bot.outbox.contracts import Outgoing, Priority, SendError, SendResult
from bot.survey.outbox import RenderContext
from storage import cases as case_repo
from storage import outbox
from storage.db import Connection, Database
from storage.models import OutboxItem

UNPROMPTED_KIND = "unprompted_card"


async def enqueue_card(
    conn: Connection, case_id: int, chat_id: int, now: int, *, copy: tuple[int, int] | None
) -> None:
    """The case's card, once; `copy`: the customer's media message to copy under it."""
    payload = {"copy": {"from_chat_id": copy[0], "message_id": copy[1]}} if copy else None
    await outbox.enqueue(
        conn,
        kind=UNPROMPTED_KIND,
        chat_id=chat_id,
        priority=Priority.ALERT,
        due_at=now,
        now=now,
        ref_id=case_id,
        payload=payload,
        dedupe_key=f"{UNPROMPTED_KIND}:{case_id}",
    )


async def card(
    db: Database, texts: Texts, zone: ZoneInfo, case_id: int
) -> tuple[str, InlineKeyboardMarkup | None, case_repo.Case] | None:
    """The card of an unprompted case: title, the first message, who wrote and where
    they were last, when, then the case's status; with its buttons. None for a case
    that is not unprompted."""
    async with db.read() as conn:
        found = await case_repo.card(conn, case_id)
        first = await case_repo.first_message(conn, case_id)
    if found is None or not found.case.unprompted:
        return None
    case = found.case
    unknown = texts("alert-unknown")
    contact = (
        found.customer_phone,
        f"@{found.customer_username}" if found.customer_username else None,
        f"tg://user?id={found.customer_telegram_id}"
        if found.customer_telegram_id and not found.customer_username
        else None,
    )
    lines = [f"<b>{texts('unprompted-title')}</b>", texts("unprompted-no-score")]
    lines.append(texts("unprompted-message", text=escape(first.text or "") if first else ""))
    lines.append(texts("alert-customer", name=escape(found.customer_name or unknown)))
    contact_text = ", ".join(part for part in contact if part) or unknown
    lines.append(texts("alert-contact", contact=escape(contact_text)))
    if found.location:
        lines.append(texts("unprompted-location", location=escape(found.location)))
    else:
        lines.append(texts("unprompted-no-location"))
    lines.append(texts("unprompted-written", time=format_time(case.opened_at, zone)))
    text = "\n".join(lines) + "\n" + case_footer(texts, zone, case)
    return text, card_keyboard(case, texts), case


async def render_card(ctx: RenderContext, case_id: int, *, edit: bool) -> Outgoing | None:
    """The card as a new message, or (`edit`) as the edit of the one sent; None while
    it has not been sent (it will show the latest state when it goes out)."""
    texts = Texts(ctx.translator, ctx.manager_language)
    built = await card(ctx.db, texts, ctx.zone, case_id)
    if built is None:
        return None
    text, keyboard, case = built
    if not edit:
        return Outgoing(chat_id=0, text=text, keyboard=keyboard)
    if case.alert_chat_id is None or case.alert_message_id is None:
        return None
    return Outgoing(
        chat_id=case.alert_chat_id,
        text=text,
        keyboard=keyboard,
        edit_message_id=case.alert_message_id,
    )


class UnpromptedRenderer:
    """`unprompted_card` rows (ref_id = the case): the card, its case pointed at it once
    sent, and the first message's media copied under it."""

    def __init__(self, ctx: RenderContext) -> None:
        self._ctx = ctx

    async def render(self, item: OutboxItem) -> Outgoing | None:
        message = await render_card(self._ctx, item.ref_id or 0, edit=False)
        if message is not None:
            message.chat_id = item.chat_id
        return message

    async def on_sent(self, conn: Connection, item: OutboxItem, result: SendResult) -> None:
        if result.message_id is None:
            return
        if self._ctx.metrics is not None:
            self._ctx.metrics.alert_sent("unprompted")
        now = to_ms(self._ctx.clock.now())
        case_id = item.ref_id or 0
        await case_repo.set_alert(conn, case_id, item.chat_id, result.message_id, now)
        loaded = json.loads(item.payload or "{}")
        copy = loaded.get("copy") if isinstance(loaded, dict) else None
        if isinstance(copy, dict):
            await enqueue_copy(
                conn,
                item.chat_id,
                case_id,
                int(copy["from_chat_id"]),
                int(copy["message_id"]),
                now,
            )

    async def on_failed(self, conn: Connection, item: OutboxItem, error: SendError) -> None:
        """Recorded on the outbox row; the case is listed by /cases either way."""
