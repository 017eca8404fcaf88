"""How the bot introduces itself: the language a customer reads when Telegram's is
unknown or unsupported (DEFAULT_LANGUAGE), and the command menus per scope and language."""

from __future__ import annotations

from pathlib import Path

from tests.support.harness import running_bot

GERTRUD = 601
OLENA = 602


async def test_an_unsupported_language_reads_the_default_language(tmp_path: Path) -> None:
    async with running_bot(tmp_path, default_language="uk") as h:
        await h.start_customer(GERTRUD, "Gertrud", "de")
        await h.post_visit(GERTRUD, "pos-de", location="Хрещатик")
        message = await h.survey_for(GERTRUD)
        assert "Наскільки ймовірно" in message.text


async def test_a_supported_language_wins_over_the_default(tmp_path: Path) -> None:
    async with running_bot(tmp_path, default_language="uk") as h:
        await h.start_customer(OLENA, "Olena", "en")
        await h.post_visit(OLENA, "pos-en", location="Main St")
        message = await h.survey_for(OLENA)
        assert "How likely" in message.text
