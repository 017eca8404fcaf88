"""Managers working a case (buttons under the alert, replies, /cases, /case <id>) and
the customer's side of it (replies to the manager, the follow-up answer)."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, replace
from datetime import timedelta
from html import escape

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardMarkup,
    Message,
)

from bot.cases.alerts import full_card
from bot.cases.callbacks import CaseButton, CaseCallback, FollowupCallback
from bot.cases.keyboards import (
    cancel_keyboard,
    resolve_keyboard,
    send_keyboard,
    templates_keyboard,
    value_keyboard,
)
from bot.cases.outbox import (
    CaseOutbox,
    enqueue_card_refresh,
    enqueue_improved_notice,
    enqueue_prompt_close,
    enqueue_text,
)
from bot.cases.service import (
    Case,
    CaseResult,
    CaseService,
    Direction,
    PendingAction,
    Prompt,
    Refusal,
)
from bot.cases.templates import VALUE_MAX, CaseTemplate, TemplateBook
from bot.cases.texts import (
    acknowledgement_text,
    customer_message_text,
    format_history,
    format_open_cases,
    refusal_text,
)
from bot.cases.unprompted import enqueue_card as enqueue_unprompted_card
from bot.chats.access import IsManagerChat, is_member
from bot.config import Settings
from bot.core.clock import Clock, to_ms
from bot.i18n import Texts
from bot.locations.routing import Routing
from bot.survey.service import SurveyService
from bot.survey.texts import Wording
from bot.telegram.media import has_media, label_of
from bot.topics import Taxonomy
from storage import cases as case_repo
from storage import customers, visits
from storage.customers import TelegramProfile
from storage.db import Connection, Database

RECENT_RESOLUTION = timedelta(days=3)
_PENDING_BY_BUTTON = {
    CaseButton.WRITE: PendingAction.MESSAGE,
    CaseButton.RESOLVE_NOTIFY: PendingAction.RESOLVE_NOTIFY,
    CaseButton.RESOLVE_SILENT: PendingAction.RESOLVE_SILENT,
    CaseButton.CLOSE: PendingAction.CLOSE_REASON,
}
_PROMPTS = {
    PendingAction.MESSAGE: "case-prompt-message",
    PendingAction.RESOLVE_NOTIFY: "case-prompt-resolve-note",
    PendingAction.RESOLVE_SILENT: "case-prompt-resolve-note",
    PendingAction.CLOSE_REASON: "case-prompt-close-reason",
}
_MENU_CHOICES = {
    CaseButton.RESOLVE_NOTIFY: "case-button-resolve-notify",
    CaseButton.RESOLVE_SILENT: "case-button-resolve-silent",
}
# A menu pressed after these can never be used again: it loses its buttons.
_FINAL_REFUSALS = (Refusal.NOT_FOUND, Refusal.ALREADY_CLOSED)
_DONE = {
    PendingAction.MESSAGE: "case-done-message-sent",
    PendingAction.RESOLVE_NOTIFY: "case-done-resolved",
    PendingAction.RESOLVE_SILENT: "case-done-resolved",
    PendingAction.CLOSE_REASON: "case-done-closed",
}


def get_router() -> Router:
    router = Router(name="cases")
    router.callback_query.register(case_button, CaseCallback.filter(), IsManagerChat())
    # A case button anywhere else (a forwarded card) is refused, never acted on.
    router.callback_query.register(foreign_case_button, CaseCallback.filter())
    router.callback_query.register(followup_button, FollowupCallback.filter())
    router.message.register(list_cases, Command("cases"), IsManagerChat())
    router.message.register(show_case, Command("case"), IsManagerChat())
    router.message.register(manager_text, IsManagerChat(), F.text, ~F.text.startswith("/"))
    router.message.register(customer_text, F.chat.type == "private", F.text, _in_case_thread)
    router.message.register(customer_media, F.chat.type == "private", has_media, _in_case_thread)
    return router


def get_unprompted_router() -> Router:
    """Whatever else a customer writes in private (text or media, not a command) when no
    survey asks them anything and no case of theirs is open: unprompted feedback. A
    catch-all, so this router goes last, after the survey's."""
    router = Router(name="unprompted")
    router.message.register(unprompted_message, F.chat.type == "private", _said)
    return router


async def _in_scope(routing: Routing, cases: CaseService, chat_id: int, case_id: int) -> bool:
    """Whether the case's location is one this managers' chat may see. A case that does
    not exist passes: the service answers "not found" for it."""
    async with routing.reader() as conn:
        location = await cases.location_of(case_id, conn=conn)
        return location is None or (await routing.scope_in(conn, chat_id)).allows(location)


async def _answer(query: CallbackQuery, text: str) -> None:
    await query.answer(text, show_alert=False)


async def foreign_case_button(
    query: CallbackQuery,
    callback_data: CaseCallback,
    bot: Bot,
    settings: Settings,
    routing: Routing,
    cases: CaseService,
    db: Database,
    manager_texts: Texts,
) -> None:
    """A case button pressed outside a managers' chat: refused, never acted on."""
    async with db.read() as conn:
        location = await cases.location_of(callback_data.case_id, conn=conn) or ""
        chat_id = await routing.team_chat(conn, location)
    allowed = await is_member(bot, settings, chat_id, query.from_user.id)
    key = "case-refused-wrong-chat" if allowed else "case-refused-not-a-manager"
    await _answer(query, manager_texts(key))


async def case_button(
    query: CallbackQuery,
    callback_data: CaseCallback,
    bot: Bot,
    settings: Settings,
    manager_texts: Texts,
    cases: CaseService,
    case_outbox: CaseOutbox,
    routing: Routing,
    db: Database,
    clock: Clock,
    wording: Wording,
    templates: TemplateBook,
    taxonomy: Taxonomy,
) -> None:
    """Take, write, resolve or close a case from the buttons under its alert (or,
    under a folded alert, take it or open its card)."""
    user = query.from_user
    assert isinstance(query.message, Message)  # IsManagerChat let only those through
    chat_id = query.message.chat.id
    if not await is_member(bot, settings, chat_id, user.id):
        # Its own answer: "only the owner" would tell a stranger the case has an owner.
        await _answer(query, manager_texts("case-refused-not-a-manager"))
        return
    case_id, action = callback_data.case_id, callback_data.action
    if not await _in_scope(routing, cases, chat_id, case_id):
        await _answer(query, manager_texts("case-refused-other-branch"))
        return
    is_admin = user.id in settings.admin_ids
    if action is CaseButton.TAKE:
        async with db.transaction() as conn:
            result = await cases.take(case_id, user.id, user.full_name, conn=conn)
            await _edit_card(conn, result, clock)
        case_outbox.kick()
        done = "case-done-taken" if result.changed else "case-done-already-yours"
        await _answer(query, _refusal(manager_texts, result) or manager_texts(done))
        return
    if action is CaseButton.OPEN:
        card = await full_card(db, manager_texts, settings.zone, case_id, taxonomy)
        if card is None:
            await _answer(query, manager_texts("case-refused-not-found", owner=""))
            return
        await _answer(query, "")
        await _reply(query, *card)
        return
    if action is CaseButton.CANCEL:
        await _cancel(query, case_id, manager_texts, cases, case_outbox, db, clock)
        return
    if action in (CaseButton.RESOLVE, CaseButton.TEMPLATES):
        key, keyboard = (
            ("case-prompt-resolve-notify", resolve_keyboard(case_id, manager_texts))
            if action is CaseButton.RESOLVE
            else ("case-prompt-templates", templates_keyboard(case_id, manager_texts, templates))
        )
        await _answer(query, "")
        await _reply(query, manager_texts(key, id=case_id), keyboard)
        return
    step = _TEMPLATE_STEPS.get(action)
    if step is not None:
        await step(
            query,
            callback_data,
            is_admin,
            manager_texts,
            cases,
            case_outbox,
            db,
            clock,
            wording,
            templates,
        )
        return
    await _ask(
        query, callback_data, is_admin, manager_texts, cases, case_outbox, db, clock, templates
    )


async def _ask(
    query: CallbackQuery,
    callback_data: CaseCallback,
    is_admin: bool,
    manager_texts: Texts,
    cases: CaseService,
    case_outbox: CaseOutbox,
    db: Database,
    clock: Clock,
    templates: TemplateBook,
) -> None:
    """Write, Close or a resolve choice: the manager's next text belongs to the case; ask
    for it with a prompt whose Cancel stays live only while it does."""
    pending = _PENDING_BY_BUTTON.get(callback_data.action, PendingAction.MESSAGE)
    text = manager_texts(_PROMPTS[pending], id=callback_data.case_id)
    await _prompt(
        query,
        callback_data,
        is_admin,
        manager_texts,
        cases,
        case_outbox,
        db,
        clock,
        Ask(pending, text, cancel_keyboard(callback_data.case_id, manager_texts)),
        templates,
    )


@dataclass(frozen=True, slots=True)
class Ask:
    """A pending action to start and the prompt that asks for it."""

    action: PendingAction
    text: str
    keyboard: InlineKeyboardMarkup
    template: str | None = None
    draft: str | None = None


async def _prompt(
    query: CallbackQuery,
    callback_data: CaseCallback,
    is_admin: bool,
    manager_texts: Texts,
    cases: CaseService,
    case_outbox: CaseOutbox,
    db: Database,
    clock: Clock,
    ask: Ask,
    templates: TemplateBook,
) -> None:
    """Start `ask.action` for the presser and reply with its prompt (noting the menu
    choice pressed); one live prompt per case."""
    user, case_id = query.from_user, callback_data.case_id
    message = query.message
    pressed = Prompt(message.chat.id, message.message_id) if message is not None else None
    async with db.transaction() as conn:
        result = await cases.start_pending(
            case_id,
            user.id,
            ask.action,
            is_admin=is_admin,
            template=ask.template,
            draft=ask.draft,
            conn=conn,
        )
        await _retire(conn, [p for p in result.retired if p != pressed], clock)
    case_outbox.kick()
    chosen = _chosen_label(callback_data, manager_texts, templates)
    if not result.ok:
        await _answer(query, _refusal(manager_texts, result))
        if chosen is not None and result.refusal in _FINAL_REFUSALS:
            await _close_pressed(query, None)  # a menu of a finished case: never usable
        return
    await _answer(query, "")
    if chosen is not None or (pressed is not None and pressed in result.retired):
        await _close_pressed(query, manager_texts("case-prompt-chosen", choice=chosen or ""))
    sent = await _reply(query, ask.text, ask.keyboard)
    await _remember_prompt(cases, case_id, user.id, sent)


async def _remember_prompt(
    cases: CaseService, case_id: int, manager_id: int, sent: Message | None
) -> None:
    if sent is None:
        return
    if not await cases.set_prompt(case_id, manager_id, Prompt(sent.chat.id, sent.message_id)):
        # A racing press asked for the same text (or it came already): one live prompt.
        with contextlib.suppress(TelegramBadRequest):
            await sent.edit_reply_markup(reply_markup=None)


async def _template_chosen(
    query: CallbackQuery,
    callback_data: CaseCallback,
    is_admin: bool,
    manager_texts: Texts,
    cases: CaseService,
    case_outbox: CaseOutbox,
    db: Database,
    clock: Clock,
    wording: Wording,
    templates: TemplateBook,
) -> None:
    """A template picked: ask for the value it needs (a date, a bonus), or show the exact
    text the customer would get, to send with one tap. Nothing goes out with a blank."""
    case_id = callback_data.case_id
    template = templates.get(callback_data.value)
    if template is None:  # a menu from before TEMPLATES_FILE changed
        await _answer(query, manager_texts("case-refused-nothing-to-send"))
        await _close_pressed(query, None)
        return
    if template.value is None:
        language = await _customer_language(cases, case_id, manager_texts)
        draft = templates.draft(template, language, company=wording.company, value=None)
        ask = _confirm(case_id, template, draft, language, manager_texts, wording)
    else:
        keyboard = value_keyboard(case_id, template, manager_texts)
        text = manager_texts(f"case-template-ask-{template.value}", id=case_id)
        ask = Ask(PendingAction.TEMPLATE_VALUE, text, keyboard, template=template.id)
    await _prompt(
        query,
        callback_data,
        is_admin,
        manager_texts,
        cases,
        case_outbox,
        db,
        clock,
        ask,
        templates,
    )


async def _without_value(
    query: CallbackQuery,
    callback_data: CaseCallback,
    is_admin: bool,
    manager_texts: Texts,
    cases: CaseService,
    case_outbox: CaseOutbox,
    db: Database,
    clock: Clock,
    wording: Wording,
    templates: TemplateBook,
) -> None:
    """ "Without a date/bonus" under the question: the template's variant without it."""
    case_id = callback_data.case_id
    pending = await cases.pending_for(query.from_user.id)
    template = templates.get(callback_data.value)
    if (
        pending is None
        or pending.case.id != case_id
        or pending.action is not PendingAction.TEMPLATE_VALUE
        or pending.case.pending_template != callback_data.value
        or template is None
        or not template.without
    ):
        await _answer(query, manager_texts("case-refused-nothing-to-send"))
        await _close_pressed(query, None)
        return
    language = await _customer_language(cases, case_id, manager_texts)
    draft = templates.draft(template, language, company=wording.company, value=None)
    ask = _confirm(case_id, template, draft, language, manager_texts, wording)
    await _prompt(
        query,
        callback_data,
        is_admin,
        manager_texts,
        cases,
        case_outbox,
        db,
        clock,
        ask,
        templates,
    )


def _confirm(
    case_id: int,
    template: CaseTemplate,
    draft: str,
    language: str,
    texts: Texts,
    wording: Wording,
) -> Ask:
    """The preview: exactly what the customer will read, with Send and Cancel."""
    body = customer_message_text(
        texts.translator, language, escape(wording.company), escape(draft)
    )
    text = texts("case-template-preview", id=case_id, text=body)
    return Ask(
        PendingAction.TEMPLATE_CONFIRM,
        text,
        send_keyboard(case_id, texts),
        template=template.id,
        draft=draft,
    )


async def _customer_language(cases: CaseService, case_id: int, texts: Texts) -> str:
    card = await cases.card(case_id)
    return texts.translator.resolve(card.language if card else None)


async def _send_draft(
    query: CallbackQuery,
    callback_data: CaseCallback,
    is_admin: bool,
    manager_texts: Texts,
    cases: CaseService,
    case_outbox: CaseOutbox,
    db: Database,
    clock: Clock,
    wording: Wording,
    templates: TemplateBook,
) -> None:
    """Send under a preview: the previewed text goes to the customer, once."""
    user = query.from_user
    message = query.message
    pressed = Prompt(message.chat.id, message.message_id) if message is not None else None
    now = to_ms(clock.now())
    async with db.transaction() as conn:
        result, draft = await cases.send_draft(
            callback_data.case_id, user.id, user.full_name, is_admin=is_admin, conn=conn
        )
        if result.ok and result.case is not None and draft is not None:
            await _after(
                conn,
                PendingAction.MESSAGE,
                result.case,
                draft,
                manager_texts,
                wording,
                templates,
                now,
            )
            await _edit_card(conn, result, clock)
            await _retire(conn, [p for p in result.retired if p != pressed], clock)
    case_outbox.kick()
    if not result.ok:
        await _answer(query, _refusal(manager_texts, result))
        if result.refusal is Refusal.NOTHING_TO_SEND:
            await _close_pressed(query, None)
        return
    await _answer(query, manager_texts("case-done-message-sent"))
    await _close_pressed(query, manager_texts("case-done-message-sent"))


def _chosen_label(
    callback_data: CaseCallback, texts: Texts, templates: TemplateBook
) -> str | None:
    """The label of a menu choice (a template, resolve with or without telling), else None."""
    if callback_data.action is CaseButton.TEMPLATE:
        template = templates.get(callback_data.value)
        return templates.label(template, texts.language) if template else None
    key = _MENU_CHOICES.get(callback_data.action)
    return texts(key) if key else None


async def _cancel(
    query: CallbackQuery,
    case_id: int,
    texts: Texts,
    cases: CaseService,
    case_outbox: CaseOutbox,
    db: Database,
    clock: Clock,
) -> None:
    """Cancel under a prompt or a menu: ends the presser's pending action on this case."""
    message = query.message
    pressed = Prompt(message.chat.id, message.message_id) if message is not None else None
    async with db.transaction() as conn:
        result = await cases.cancel_pending(
            query.from_user.id, case_id, pressed=pressed, conn=conn
        )
        await _retire(conn, [p for p in result.retired if p != pressed], clock)
    case_outbox.kick()
    if not result.ok:
        await _answer(query, _refusal(texts, result))
        return
    await _answer(query, texts("case-prompt-cancelled"))
    await _close_pressed(query, texts("case-prompt-cancelled"))


async def _close_pressed(query: CallbackQuery, note: str | None) -> None:
    """Take the buttons off the pressed prompt or menu, noting what was chosen: an edit
    in direct answer to the tap, like the reply that opened it."""
    message = query.message
    if not isinstance(message, Message):
        return
    with contextlib.suppress(TelegramBadRequest):
        if note is None or message.text is None:
            await message.edit_reply_markup(reply_markup=None)
        else:
            await message.edit_text(f"{message.html_text}\n\n{note}", reply_markup=None)


async def _retire(conn: Connection, prompts: Iterable[Prompt], clock: Clock) -> None:
    """Queue the removal of the buttons of prompts whose pending action has ended."""
    now = to_ms(clock.now())
    for prompt in prompts:
        await enqueue_prompt_close(conn, prompt, now)


def _refusal(texts: Texts, result: CaseResult) -> str:
    return escape(refusal_text(texts.translator, texts.language, result))


async def _reply(
    query: CallbackQuery, text: str, keyboard: InlineKeyboardMarkup | None
) -> Message | None:
    """A prompt under the card, for the manager who pressed (a direct answer to a tap)."""
    message = query.message
    if isinstance(message, Message):
        return await message.reply(text, reply_markup=keyboard)
    return None


async def _edit_card(conn: Connection, result: CaseResult, clock: Clock) -> None:
    await enqueue_card_refresh(conn, replace(result, retired=()), to_ms(clock.now()))


async def manager_text(
    message: Message,
    settings: Settings,
    manager_texts: Texts,
    cases: CaseService,
    case_outbox: CaseOutbox,
    db: Database,
    clock: Clock,
    wording: Wording,
    routing: Routing,
    templates: TemplateBook,
) -> None:
    """A manager's text: a reply to a case card, or the text their last button asked for,
    when the case is one of this chat's locations."""
    user, text = message.from_user, message.text or ""
    if user is None:
        return
    is_admin = user.id in settings.admin_ids
    now = to_ms(clock.now())
    reply_to = message.reply_to_message
    preview: Ask | None = None
    async with db.transaction() as conn:
        outcome_action: PendingAction | None
        if reply_to is not None and (
            case := await cases.find_by_alert(message.chat.id, reply_to.message_id, conn=conn)
        ):
            outcome_action = PendingAction.MESSAGE
            result = await cases.record_message(
                case.id,
                Direction.OUT,
                user.id,
                user.full_name,
                text,
                is_admin=is_admin,
                conn=conn,
            )
        else:
            pending = await cases.pending_for(user.id, conn=conn)
            if pending is None:
                return  # an ordinary chat message, not about a case
            location = await cases.location_of(pending.case.id, conn=conn) or ""
            if not (await routing.scope_in(conn, message.chat.id)).allows(location):
                return  # asked for in another branch's chat: not this chat's case
            if pending.action is PendingAction.TEMPLATE_VALUE:
                preview, refusal = await _with_value(
                    pending.case, text, manager_texts, cases, wording, templates
                )
                if preview is None:
                    await message.reply(manager_texts(refusal))
                    return
                result = await cases.start_pending(
                    pending.case.id,
                    user.id,
                    preview.action,
                    is_admin=is_admin,
                    template=preview.template,
                    draft=preview.draft,
                    conn=conn,
                )
                await _retire(conn, result.retired, clock)
                outcome_action = None
            else:
                outcome = await cases.submit_pending(
                    user.id, user.full_name, text, is_admin=is_admin, conn=conn
                )
                if outcome is None:
                    return  # an ordinary chat message, not about a case
                outcome_action, result = outcome.action, outcome.result
        if outcome_action is not None and result.ok and result.case is not None:
            await _after(
                conn, outcome_action, result.case, text, manager_texts, wording, templates, now
            )
            await _edit_card(conn, result, clock)
            await _retire(conn, result.retired, clock)
    case_outbox.kick()
    if preview is not None and result.ok and result.case is not None:
        sent = await message.reply(preview.text, reply_markup=preview.keyboard)
        await _remember_prompt(cases, result.case.id, user.id, sent)
        return
    done = _DONE[outcome_action] if outcome_action is not None else "case-done-message-sent"
    await message.reply(_refusal(manager_texts, result) or manager_texts(done))


async def _with_value(
    case: Case,
    value: str,
    texts: Texts,
    cases: CaseService,
    wording: Wording,
    templates: TemplateBook,
) -> tuple[Ask | None, str]:
    """The preview of the pending template filled with the manager's value, or the key
    of why not (an empty or overlong value; a template TEMPLATES_FILE no longer has)."""
    template = templates.get(case.pending_template or "")
    if template is None or template.value is None:
        return None, "case-refused-nothing-to-send"
    value = value.strip()
    if not value or len(value) > VALUE_MAX:
        return None, "case-template-value-invalid"
    language = await _customer_language(cases, case.id, texts)
    draft = templates.draft(template, language, company=wording.company, value=value)
    return _confirm(case.id, template, draft, language, texts, wording), ""


async def _after(
    conn: Connection,
    action: PendingAction,
    case: Case,
    text: str,
    texts: Texts,
    wording: Wording,
    templates: TemplateBook,
    now: int,
) -> None:
    """What a manager's text sends to the customer: their message, or the thanks."""
    company = escape(wording.company)
    if action is PendingAction.MESSAGE:
        card = await case_repo.card(conn, case.id)
        if card is None or card.customer_telegram_id is None:
            return
        body = customer_message_text(texts.translator, card.language, company, escape(text))
        await enqueue_text(conn, "case_message", card.customer_telegram_id, case.id, body, now)
    elif action is PendingAction.RESOLVE_NOTIFY:
        await enqueue_improved_notice(
            conn, case.id, templates, texts.translator, wording.company, now
        )


async def _in_case_thread(
    message: Message, surveys: SurveyService, cases: CaseService, db: Database
) -> bool | dict[str, Case]:
    """A customer's text belongs to their case when no survey waits for a 'why?'."""
    user = message.from_user
    if user is None or (message.text or "").startswith("/"):
        return False
    if await surveys.awaiting_reason(user.id) is not None:
        return False
    async with db.read() as conn:
        customer = await customers.by_telegram_id(conn, user.id)
    if customer is None:
        return False
    case = await cases.active_case_for_customer(customer.id, resolved_within=RECENT_RESOLUTION)
    return {"case": case} if case is not None else False


async def customer_text(
    message: Message,
    case: Case,
    manager_texts: Texts,
    cases: CaseService,
    case_outbox: CaseOutbox,
    routing: Routing,
    db: Database,
    clock: Clock,
) -> None:
    """The customer's reply goes into the case thread in its location's managers' chat,
    and the customer hears it arrived (once per turn, see needs_acknowledgement)."""
    assert message.text is not None
    await _into_case(
        message, case, message.text, None, manager_texts, cases, case_outbox, routing, db, clock
    )


async def customer_media(
    message: Message,
    case: Case,
    manager_texts: Texts,
    cases: CaseService,
    case_outbox: CaseOutbox,
    routing: Routing,
    db: Database,
    clock: Clock,
) -> None:
    """A voice message, photo... into the case: its label is stored and posted in the
    thread like a text, and the media is copied after it (copyMessage, not forwarded)."""
    label = label_of(message)
    assert label is not None
    await _into_case(
        message,
        case,
        label,
        message.message_id,
        manager_texts,
        cases,
        case_outbox,
        routing,
        db,
        clock,
    )


async def _into_case(
    message: Message,
    case: Case,
    text: str,
    media_message_id: int | None,
    manager_texts: Texts,
    cases: CaseService,
    case_outbox: CaseOutbox,
    routing: Routing,
    db: Database,
    clock: Clock,
) -> None:
    assert message.from_user is not None
    user = message.from_user
    now = to_ms(clock.now())
    async with db.transaction() as conn:
        result = await cases.record_message(
            case.id, Direction.IN, user.id, user.full_name, text, conn=conn
        )
        if result.ok:
            post = manager_texts(
                "case-thread-in", id=case.id, customer=escape(user.full_name), text=escape(text)
            )
            location = await cases.location_of(case.id, conn=conn) or ""
            chat = await routing.team_chat(conn, location)
            copy = (message.chat.id, media_message_id) if media_message_id is not None else None
            await enqueue_text(conn, "case_thread", chat, case.id, post, now, copy=copy)
        if result.acknowledge:
            card = await case_repo.card(conn, case.id)
            language = card.language if card else user.language_code
            body = acknowledgement_text(manager_texts.translator, language)
            await enqueue_text(conn, "case_message", user.id, case.id, body, now)
    case_outbox.kick()


def _said(message: Message) -> bool | dict[str, object]:
    """What a customer's message says (its text, or a media message's label), unless it
    is a command or something else (a shared contact, a location...)."""
    if message.from_user is None or message.from_user.is_bot:
        return False
    if message.text is not None:
        if message.text.startswith("/"):
            return False
        return {"said": message.text, "media_id": None}
    label = label_of(message)
    return {"said": label, "media_id": message.message_id} if label else False


async def unprompted_message(
    message: Message,
    said: str,
    media_id: int | None,
    texts: Texts,
    manager_texts: Texts,
    cases: CaseService,
    case_outbox: CaseOutbox,
    routing: Routing,
    db: Database,
    clock: Clock,
    settings: Settings,
) -> None:
    """Unprompted feedback: the message opens a case without a score for the managers of
    the customer's most recent visit's location (the head office without one), its
    card and (for media) the copy follow, and the customer is thanked. A customer who
    opted out is heard too: writing to us is asking to be heard. Admins are not
    customers: they get the old "nothing to answer" reply."""
    user = message.from_user
    assert user is not None
    if user.id in settings.admin_ids:
        await message.answer(texts("survey-no-open"))
        return
    now = clock.now()
    now_ms = to_ms(now)
    profile = TelegramProfile(user.id, user.full_name, user.username, user.language_code)
    joined: Case | None = None
    async with db.transaction() as conn:
        customer = await customers.upsert_telegram(conn, profile, now_ms)
        location = await visits.latest_location(conn, customer.id) or ""
        case_id = await cases.open_unprompted(conn, customer.id, location, now)
        if case_id is None:
            # Another message of theirs opened it a moment ago: this one joins it.
            joined = await case_repo.open_unprompted(conn, customer.id)
        else:
            await cases.record_message(
                case_id, Direction.IN, user.id, user.full_name, said, conn=conn
            )
            chat = await routing.team_chat(conn, location)
            copy = (message.chat.id, media_id) if media_id is not None else None
            await enqueue_unprompted_card(conn, case_id, chat, now_ms, copy=copy)
            thanks = texts("unprompted-thanks")
            await enqueue_text(conn, "case_message", user.id, case_id, thanks, now_ms)
    if joined is not None:
        await _into_case(
            message, joined, said, media_id, manager_texts, cases, case_outbox, routing, db, clock
        )
        return
    case_outbox.kick()


async def followup_button(
    query: CallbackQuery,
    callback_data: FollowupCallback,
    texts: Texts,
    cases: CaseService,
    case_outbox: CaseOutbox,
    db: Database,
    clock: Clock,
    settings: Settings,
) -> None:
    """The customer's yes/no to "did we fix it?", stored once; a "no" reopens the case
    and its owner hears it."""
    async with db.transaction() as conn:
        result = await cases.answer_followup(
            callback_data.case_id, query.from_user.id, bool(callback_data.fixed), conn=conn
        )
        await _edit_card(conn, result, clock)
        if result.reopened and result.case is not None:
            await case_outbox.notify_reopened(conn, result.case, settings.zone)
    case_outbox.kick()
    if not result.ok:
        await _answer(query, _refusal(texts, result))
        return
    await query.answer()
    key = "case-followup-thanks-yes" if callback_data.fixed else "case-followup-thanks-no"
    if isinstance(query.message, Message):
        with contextlib.suppress(TelegramBadRequest):
            await query.message.edit_text(texts(key), reply_markup=None)


async def list_cases(
    message: Message, manager_texts: Texts, cases: CaseService, routing: Routing
) -> None:
    """/cases: open cases of this chat's locations, oldest first, with their ages."""
    scope = await routing.scope_of(message.chat.id)
    items = await cases.open_cases(locations=None if scope.everything else sorted(scope.locations))
    for chunk in format_open_cases(
        manager_texts.translator, manager_texts.language, items, escape
    ):
        await message.answer(chunk)


async def show_case(
    message: Message,
    command: CommandObject,
    manager_texts: Texts,
    cases: CaseService,
    routing: Routing,
    settings: Settings,
) -> None:
    """/case <id>: every step of one case of this chat's locations."""
    arg = (command.args or "").strip().lstrip("#")
    case = await cases.get(int(arg)) if arg.isdigit() else None
    if case is not None and not await _in_scope(routing, cases, message.chat.id, case.id):
        case = None  # another branch's case reads as unknown here
    if case is None:
        key = "case-refused-not-found" if arg.isdigit() else "case-usage"
        await message.answer(manager_texts(key, owner=""))
        return
    events = await cases.history(case.id)
    tr, lang = manager_texts.translator, manager_texts.language
    for chunk in format_history(tr, lang, case, events, settings.zone, escape):
        await message.answer(chunk)


_TEMPLATE_STEPS: dict[CaseButton, Callable[..., Awaitable[None]]] = {
    CaseButton.TEMPLATE: _template_chosen,
    CaseButton.WITHOUT_VALUE: _without_value,
    CaseButton.SEND: _send_draft,
}
