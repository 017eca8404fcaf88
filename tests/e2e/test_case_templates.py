"""Reply templates from a case: a template that needs a date or a bonus asks for it (or
offers its variant without), shows the exact text, and sends it on one tap, once; a
business's own templates come from TEMPLATES_FILE."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app import Otklik, StartupError
from bot.cases.templates import TemplatesFileError, read_templates_file
from tests.support.cases import (
    ALICE,
    ANN,
    BOB,
    add_managers,
    case_one,
    closed,
    detractor_case,
    new_prompt,
    press,
)
from tests.support.fake_telegram import SentMessage
from tests.support.harness import BotHarness, running_bot
from tests.support.settings import MANAGER_CHAT_ID, make_settings


async def _taken(h: BotHarness, language: str = "en") -> SentMessage:
    add_managers(h)
    card = await detractor_case(h, language)
    await press(h, ALICE, card, "Take")
    return await h.fake.wait_for(lambda m: m.message_id == card.message_id and "Alice" in m.text)


async def _pick(h: BotHarness, card: SentMessage, label: str, expect: str) -> SentMessage:
    since = len(h.fake.sent)
    await press(h, ALICE, card, "Templates")
    menu = await new_prompt(h, since, "#1")
    since = len(h.fake.sent)
    await press(h, ALICE, menu, label)
    return await new_prompt(h, since, expect)


def _to_ann(h: BotHarness) -> list[str]:
    return [m.text for m in h.fake.messages_to(ANN) if "Otklik:" in m.text]


async def test_a_date_is_asked_for_previewed_and_sent_once(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        card = await _taken(h)
        question = await _pick(h, card, "Promise a fix", "by when will it be fixed")
        assert [b["text"] for b in question.buttons] == ["Without a date", "Cancel"]
        since = len(h.fake.sent)
        await h.fake.send_text(ALICE, "Friday, 12 December", chat_id=MANAGER_CHAT_ID)
        preview = await new_prompt(h, since, "the customer will get this message")
        assert "fix it by Friday, 12 December." in preview.text
        await closed(h, question)
        # Nothing reaches the customer before Send.
        await h.app.worker.drain()
        assert _to_ann(h) == []
        send_data = preview.button("Send")["callback_data"]
        assert await press(h, ALICE, preview, "Send") == "Sent to the customer."
        sent = await h.fake.wait_for_message(ANN, text_contains="Friday, 12 December")
        assert "by ." not in sent.text and "{" not in sent.text
        # Send again (a slow client, or a second instance): nothing more goes out.
        update = await h.fake.press(
            ALICE, preview.message_id, send_data, chat_id=MANAGER_CHAT_ID, check_button=False
        )
        query_id = update["callback_query"]["id"]
        again = await h.fake.wait_for_call(
            "answerCallbackQuery", lambda r: str(r.params.get("callback_query_id")) == query_id
        )
        assert "Nothing is waiting to be sent" in str(again.params.get("text"))
        await h.app.worker.drain()
        assert len(_to_ann(h)) == 1
        events = await h.app.cases.history(1)
        assert [e.text for e in events if e.kind == "message_out"] == [
            "We are already working on it and will fix it by Friday, 12 December. "
            "We will let you know when it is done."
        ]


async def test_a_bonus_can_be_left_out(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        card = await _taken(h, "ru")
        question = await _pick(h, card, "Apologise + bonus", "what do you offer")
        since = len(h.fake.sent)
        await press(h, ALICE, question, "Without a bonus")
        preview = await new_prompt(h, since, "the customer will get this message")
        # The preview is in the customer's language (Russian), without a blank.
        assert "Нам жаль" in preview.text and "предлагает вам ." not in preview.text
        await press(h, ALICE, preview, "Send")
        sent = await h.fake.wait_for_message(ANN, text_contains="Нам жаль")
        assert "предлагает" not in sent.text


async def test_a_value_that_is_empty_or_too_long_is_asked_again(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        card = await _taken(h)
        await _pick(h, card, "Promise a fix", "by when will it be fixed")
        since = len(h.fake.sent)
        await h.fake.send_text(ALICE, "x" * 201, chat_id=MANAGER_CHAT_ID)
        await h.fake.wait_for_message(
            MANAGER_CHAT_ID, text_contains="1 to 200 characters", since=since
        )
        assert (await case_one(h)).pending_action == "template_value"
        since = len(h.fake.sent)
        await h.fake.send_text(ALICE, "Monday", chat_id=MANAGER_CHAT_ID)
        preview = await new_prompt(h, since, "the customer will get this message")
        assert "by Monday." in preview.text


async def test_a_typed_text_under_the_preview_is_sent_instead(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        card = await _taken(h)
        preview = await _pick(h, card, "1. Thank", "the customer will get this message")
        await h.fake.send_text(ALICE, "Thanks, we will call you today", chat_id=MANAGER_CHAT_ID)
        await h.fake.wait_for_message(ANN, text_contains="we will call you today")
        await closed(h, preview)
        await h.app.worker.drain()
        assert not any("Feedback like yours" in text for text in _to_ann(h))


async def test_only_the_manager_who_picked_it_can_send_it(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        card = await _taken(h)
        preview = await _pick(h, card, "1. Thank", "the customer will get this message")
        assert "Nothing is waiting to be sent" in await press(h, BOB, preview, "Send")
        await h.app.worker.drain()
        assert _to_ann(h) == []


_OWN = """
replace = true

[coffee]
label.en = "Coffee on us"
label.ru = "Кофе за наш счёт"
text.en = "Sorry! Your next {bonus} at {company} is on us."
text.ru = "Простите нас! Ваш следующий { $bonus } в {company} за наш счёт."
"""


async def test_a_business_uses_its_own_templates(tmp_path: Path) -> None:
    path = tmp_path / "templates.toml"
    path.write_text(_OWN, encoding="utf-8")
    async with running_bot(tmp_path, templates_file=path) as h:
        card = await _taken(h, "ru")
        since = len(h.fake.sent)
        await press(h, ALICE, card, "Templates")
        menu = await new_prompt(h, since, "#1")
        # Replaced: only the business's own, and "improved" that resolving sends.
        assert [b["text"] for b in menu.buttons] == [
            "Coffee on us",
            "5. Improved thanks to you",
            "Cancel",
        ]
        since = len(h.fake.sent)
        await press(h, ALICE, menu, "Coffee on us")
        question = await new_prompt(h, since, "what do you offer")
        # No variant without the bonus in the file: the bonus must be given.
        assert [b["text"] for b in question.buttons] == ["Cancel"]
        since = len(h.fake.sent)
        await h.fake.send_text(ALICE, "капучино", chat_id=MANAGER_CHAT_ID)
        preview = await new_prompt(h, since, "the customer will get this message")
        await press(h, ALICE, preview, "Send")
        sent = await h.fake.wait_for_message(ANN, text_contains="капучино")
        assert "Ваш следующий капучино в Otklik за наш счёт." in sent.text


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("[a]\nlabel.en='A'\n", "text needs at least one language"),
        ("[a]\nlabel.en='A'\ntext.en='Hi {name}'\n", "unknown placeholder {name}"),
        ("[a]\nlabel.en='A'\ntext.en='{date} {bonus}'\n", "use one"),
        ("[a]\nlabel.en='A'\ntext.de='Hallo'\n", "text.de: languages are en, ru, uk"),
        ("[Bad-Id]\nlabel.en='A'\ntext.en='Hi'\n", "an id is a-z"),
        ("[a]\nlabel.en='A'\ntext.en='By {date}'\nwithout.en='By {date}'\n", "without.en"),
        ("[a]\nlabel.en='A'\ntext.en='Hi'\ncolour='red'\n", "unknown field 'colour'"),
        ("replace = 'yes'\n[a]\nlabel.en='A'\ntext.en='Hi'\n", "replace must be true or false"),
        ("[a\n", "not valid TOML"),
        ("", "no templates"),
    ],
)
def test_a_bad_templates_file_is_refused_with_what_is_wrong(
    tmp_path: Path, text: str, error: str
) -> None:
    path = tmp_path / "templates.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(TemplatesFileError, match=error.replace("{", r"\{").replace("}", r"\}")):
        read_templates_file(path)


def test_the_bot_does_not_start_with_a_bad_templates_file(tmp_path: Path) -> None:
    path = tmp_path / "templates.toml"
    path.write_text("[a]\nlabel.en='A'\ntext.en='Hi {nme}'\n", encoding="utf-8")
    settings = make_settings(tmp_path, templates_file=path)
    with pytest.raises(StartupError, match=r"TEMPLATES_FILE: .*unknown placeholder") as caught:
        Otklik(settings)
    assert caught.value.exit_code == 2
