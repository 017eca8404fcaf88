"""What the reasons say, shown to managers through the real bot and the fake Bot API:
/topics (a PNG and its lines, scoped like /stats), the detractors' topics in /stats and
each location's biggest loss in the weekly digest. Every figure below is worked out by
hand from the scripted answers."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from tests.support.fake_telegram import SentMessage
from tests.support.harness import BotHarness, running_bot
from tests.support.settings import MANAGER_CHAT_ID

KYIV_CHAT, LVIV_CHAT = -100201, -100202
MIA, LEO = 711, 712
# (customer, location, NPS, reason) and the topics the classifier reads in them.
ANSWERS = [
    (601, "kyiv", 2, "очередь огромная"),  # wait
    (602, "kyiv", 3, "rude staff"),  # staff_attitude
    (603, "kyiv", 10, "персонал не хамил, але черга величезна"),  # wait (not rudeness)
    (604, "kyiv", 9, "great coffee"),  # product
    (605, "lviv", 4, "долго ждал, кассир нахамил"),  # wait, staff_attitude
    (606, "lviv", 10, None),
]


async def chain(h: BotHarness) -> None:
    """Kyiv and Lviv with chats of their own, Mia (en) in the head office's chat, Leo
    (ru) in Lviv's, and the answers above."""
    for chat_id, code in ((KYIV_CHAT, "kyiv"), (LVIV_CHAT, "lviv")):
        h.fake.group(chat_id, code.title())
        status, answer = await h.call(
            "PUT", f"/api/v1/locations/{code}", {"name": code.title(), "manager_chat_id": chat_id}
        )
        assert status == 201, answer
    h.fake.user(MIA, "Mia", "en")
    h.fake.add_member(MANAGER_CHAT_ID, MIA)
    h.fake.user(LEO, "Leo", "ru")
    h.fake.add_member(LVIV_CHAT, LEO)
    for customer, location, score, reason in ANSWERS:
        await h.start_customer(customer)
        outcome = await h.post_visit(customer, f"visit-{customer}", location=location)
        await h.survey_for(customer)
        survey_id = outcome["survey_id"]
        assert (await h.app.surveys.answer_nps(survey_id, customer, score)).ok
        assert (await h.app.surveys.answer_ces(survey_id, customer, 5)).ok
        if reason:
            assert (await h.app.surveys.answer_reason(survey_id, customer, reason)).ok
    await h.settled()


async def command(h: BotHarness, text: str, chat_id: int, user: int) -> SentMessage:
    since = len(h.fake.sent)
    await h.fake.send_text(user, text, chat_id=chat_id)
    return await h.fake.wait_for_message(chat_id, since=since)


async def test_topics_answers_with_a_chart_and_lines_scoped_like_stats(tmp_path: Path) -> None:
    async with running_bot(tmp_path, min_sample=2) as h:
        await chain(h)
        reply = await command(h, "/topics 30d", MANAGER_CHAT_ID, MIA)
        assert reply.media == "photo" and reply.photo is not None
        assert reply.photo.startswith(b"\x89PNG\r\n\x1a\n")
        text = reply.caption or ""
        # 6 answers: promoters 10, 9, 10; detractors 2, 3, 4: NPS 0.
        assert "6 answers · NPS 0" in text
        # Staff attitude (the 3 and the 4): without them 1 detractor, 3 promoters of 4:
        # NPS 50, so 0 - 50 = -50.0. Waiting (the 2, the 4 and a 10; "не хамил" is no
        # rudeness): without them 3, 9, 10: 33.3, so -33.3. Products (the 9): without it
        # 2 promoters, 3 detractors of 5: -20, so +20.0.
        lines = [line for line in text.splitlines() if line[:2] in ("1.", "2.", "3.", "4.")]
        assert lines == [
            "1. Staff attitude: NPS impact −50.0 · 2 mentions (2 detractors, 0 promoters)"
            " · 33% of answers",
            "2. Waiting: NPS impact −33.3 · 3 mentions (2 detractors, 1 promoter)"
            " · 50% of answers",
            "3. Products and quality: NPS impact +20.0 · 1 mention (0 detractors, 1 promoter)"
            " · 17% of answers",
        ]
        # The API says the same.
        status, body = await h.call("GET", "/api/v1/topics?period=30d&lang=en")
        assert status == 200
        impacts = {item["id"]: item["impact"] for item in body["topics"] if item["mentions"]}
        assert impacts == {"staff_attitude": -50.0, "wait": -33.3, "product": 20.0}

        # One location by its name, from the head office: Kyiv's 4 answers (NPS 0).
        reply = await command(h, "/topics Kyiv 30d", MANAGER_CHAT_ID, MIA)
        text = reply.caption or ""
        assert "Locations: kyiv" in text and "4 answers · NPS 0" in text
        assert "1. Staff attitude: NPS impact −33.3 · 1 mention" in text
        assert "2. Waiting: NPS impact 0.0 · 2 mentions (1 detractor, 1 promoter)" in text
        assert "3. Products and quality: NPS impact +33.3" in text

        # Lviv's chat (Leo reads Russian) sees Lviv only: 2 answers, and without either
        # topic's answer one is left, fewer than MIN_SAMPLE: too few to say.
        reply = await command(h, "/topics", LVIV_CHAT, LEO)
        assert reply.media == "photo"
        text = reply.caption or ""
        assert "Точки: lviv" in text and "2 ответа · NPS 0" in text
        assert (
            "1. Ожидание: мало данных, чтобы сказать · 1 упоминание (1 критик, 0 промоутеров)"
            " · 50% ответов"
        ) in text
        assert "2. Отношение персонала: мало данных, чтобы сказать" in text
        assert "Товар" not in text  # Kyiv's coffee is not Lviv's
        reply = await command(h, "/topics kyiv", LVIV_CHAT, LEO)
        assert reply.media is None and "«kyiv» не из них" in reply.text
        reply = await command(h, "/topics Odesa", MANAGER_CHAT_ID, MIA)
        assert "I do not know the location “Odesa”" in reply.text
        reply = await command(h, "/topics 2026-13", MANAGER_CHAT_ID, MIA)
        assert "not a valid date" in reply.text


async def test_too_few_answers_are_said_so(tmp_path: Path) -> None:
    async with running_bot(tmp_path, min_sample=80) as h:
        await chain(h)
        reply = await command(h, "/topics", MANAGER_CHAT_ID, MIA)
    text = reply.caption or ""
    assert "Too few answers to say what costs NPS (n=6, at least 80 needed)" in text
    # No impact to rank them by: the most mentioned first.
    assert "1. Waiting: too few to say · 3 mentions (2 detractors, 1 promoter)" in text
    assert "2. Staff attitude: too few to say · 2 mentions (2 detractors, 0 promoters)" in text


async def test_stats_names_the_detractors_top_topics(tmp_path: Path) -> None:
    async with running_bot(tmp_path, min_sample=2) as h:
        await chain(h)
        reply = await command(h, "/stats 30d", MANAGER_CHAT_ID, MIA)
        # Staff attitude and waiting: two detractors each (ties by id); products: none.
        assert "Detractors mention most: Staff attitude (2) · Waiting (2)" in reply.text
        reply = await command(h, "/stats", LVIV_CHAT, LEO)
        assert "Критики чаще всего пишут о: Отношение персонала (1) · Ожидание (1)" in reply.text


async def test_the_weekly_digest_names_each_locations_biggest_loss(tmp_path: Path) -> None:
    async with running_bot(tmp_path, min_sample=2, digest_at="tue 09:00") as h:
        await chain(h)  # on 2026-11-23
        h.clock.set(datetime(2026, 11, 24, 9, 0, 30, tzinfo=UTC))
        await h.app.maintenance()
        await h.settled()
        chain_digest = await h.fake.wait_for_message(
            MANAGER_CHAT_ID, text_contains="Weekly digest"
        )
        kyiv_digest = await h.fake.wait_for_message(KYIV_CHAT, text_contains="Weekly digest")
        lviv_digest = await h.fake.wait_for_message(LVIV_CHAT, text_contains="Weekly digest")
    # Kyiv: 2, 3, 10, 9 (NPS 0); without the rude staff's 3: 33.3, so -33.3; waiting
    # costs nothing there (a 2 and a 10: 0.0). Lviv: two answers, too few to say.
    assert "Biggest loss by location:" in chain_digest.text
    assert "• kyiv: Staff attitude, NPS impact −33.3" in chain_digest.text
    assert "• lviv: too few answers to say" in chain_digest.text
    assert "• kyiv: Staff attitude, NPS impact −33.3" in kyiv_digest.text
    assert "lviv" not in kyiv_digest.text.split("Biggest loss")[1]
    assert "• lviv: too few answers to say" in lviv_digest.text
