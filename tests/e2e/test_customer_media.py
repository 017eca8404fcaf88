"""Every way a customer speaks is heard: a voice message, photo, video... given as the
reason or sent into an open case reaches the case in the managers' chat as a copy
(copyMessage: no link to the customer's account), and the stored reason is its label."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.core.clock import FakeClock
from storage import cases as case_repo
from storage import surveys
from tests.support.cases import ANN, case_one, detractor_case
from tests.support.fake_telegram import SentMessage
from tests.support.harness import BotHarness, running_bot, running_instances
from tests.support.settings import MANAGER_CHAT_ID


async def _at_reason_step(h: BotHarness) -> tuple[SentMessage, SentMessage]:
    """Ann scores 3, then CES 2: (the case card, the survey message asking why)."""
    card = await detractor_case(h)
    survey = await h.fake.wait_for(lambda m: m.chat_id == ANN and len(m.callback_data) == 7)
    await h.press(ANN, survey, "2")
    await h.fake.wait_for(lambda m: m.message_id == survey.message_id and "went wrong" in m.text)
    return card, survey


def _copies(h: BotHarness) -> list[SentMessage]:
    return [m for m in h.fake.messages_to(MANAGER_CHAT_ID) if m.method == "copyMessage"]


async def test_a_voice_reason_is_copied_under_the_card_and_stored_as_its_label(
    tmp_path: Path,
) -> None:
    async with running_bot(tmp_path, webhook=True) as h:
        card, _ = await _at_reason_step(h)
        update = await h.fake.send_media(ANN, "voice", duration=12)
        voice_id = update["message"]["message_id"]

        # Acknowledged as a text reason is.
        await h.fake.wait_for_message(ANN, text_contains="A manager will look into it")
        copy = await h.fake.wait_for(
            lambda m: m.chat_id == MANAGER_CHAT_ID and m.method == "copyMessage"
        )
        call = h.fake.calls("copyMessage")[0]
        assert call.params["from_chat_id"] == ANN and call.params["chat_id"] == MANAGER_CHAT_ID
        assert call.params["message_id"] == voice_id
        assert copy.media == "voice" and copy.reply_to_message_id == card.message_id
        assert not h.fake.calls("forwardMessage")
        # The card shows the label, and the copy came after it.
        edited = await h.fake.wait_for(
            lambda m: m.message_id == card.message_id and "[voice 0:12]" in m.text
        )
        assert edited.seq < copy.seq
        async with h.app.db.read() as conn:
            survey = await surveys.get(conn, 1)
        assert survey is not None
        assert (survey.reason, survey.reason_message_id) == ("[voice 0:12]", voice_id)

        # Telegram redelivers the update: nothing is copied or stored twice.
        await h.fake.wait_for_webhook_delivery(update["update_id"])
        h.fake.redeliver(update["update_id"])
        assert (await h.fake.wait_for_webhook_delivery(update["update_id"], count=2)).status == 200
        await h.settled()
        assert len(h.fake.calls("copyMessage")) == 1


async def test_a_photo_with_a_caption_into_an_open_case(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        card, survey = await _at_reason_step(h)
        await h.press(ANN, h.fake.message(ANN, survey.message_id), "Skip")
        await h.fake.wait_for(lambda m: m.chat_id == ANN and "Thank" in m.text)
        await h.settled()

        update = await h.fake.send_photo(ANN, b"\xff\xd8\xff\xe0-jpeg", caption="the spilt tea")
        thread = await h.fake.wait_for_message(MANAGER_CHAT_ID, text_contains="[photo]")
        assert "Case #1" in thread.text and "[photo] the spilt tea" in thread.text
        copy = await h.fake.wait_for(
            lambda m: m.chat_id == MANAGER_CHAT_ID and m.method == "copyMessage"
        )
        assert copy.media == "photo" and copy.caption == "the spilt tea"
        assert copy.reply_to_message_id == card.message_id and thread.seq < copy.seq
        assert (
            h.fake.calls("copyMessage")[0].params["message_id"]
            == (update["message"]["message_id"])
        )
        async with h.app.db.read() as conn:
            events = await case_repo.events(conn, 1)
        assert [e.text for e in events if e.kind == "message_in"] == ["[photo] the spilt tea"]


async def test_every_kind_of_media_has_its_label(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        await _at_reason_step(h)
        await h.fake.send_media(ANN, "video_note", duration=8)
        await h.fake.wait_for_message(ANN, text_contains="A manager will look into it")
        sends = [
            ("video", {"duration": 45, "caption": "look"}, "[video 0:45] look"),
            ("document", {"file_name": "receipt.pdf"}, "[document receipt.pdf]"),
            ("sticker", {"emoji": "😡"}, "[sticker 😡]"),
            ("audio", {"duration": 3725}, "[audio 1:02:05]"),
            ("animation", {"duration": 2}, "[animation]"),
        ]
        for kind, fields, _ in sends:
            await h.fake.send_media(ANN, kind, **fields)  # type: ignore[arg-type]
        await h.fake.wait_for(lambda m: m.chat_id == MANAGER_CHAT_ID and "[animation]" in m.text)
        await h.settled()
        async with h.app.db.read() as conn:
            survey = await surveys.get(conn, 1)
            events = await case_repo.events(conn, 1)
        assert survey is not None and survey.reason == "[video note 0:08]"
        assert [e.text for e in events if e.kind == "message_in"] == [s[2] for s in sends]
        copied = [m.media for m in _copies(h)]
        assert copied == ["video_note", "video", "document", "sticker", "audio", "animation"]


async def test_a_copy_is_not_sent_again_after_a_crash(tmp_path: Path) -> None:
    clock = FakeClock()
    async with running_instances(
        tmp_path,
        clock,
        database_url=f"sqlite:///{tmp_path / 'otklik.sqlite3'}",
        count=1,
        users=(ANN,),
    ) as cluster:
        member = cluster.members[0]
        h = member.harness
        card, _ = await _at_reason_step(h)
        await h.fake.send_media(ANN, "voice", duration=5)
        await h.fake.wait_for(lambda m: m.chat_id == MANAGER_CHAT_ID and m.method == "copyMessage")
        await h.settled()
        await cluster.kill(member)
        clock.advance(timedelta(minutes=10))
        member = await cluster.restart(member)
        await member.harness.settled()
        await member.app.maintenance()
        await member.harness.settled()
        assert len(cluster.fake.calls("copyMessage")) == 1
        assert (await case_one(member.harness)).alert_message_id == card.message_id


async def test_media_at_the_ces_step_is_the_reason_and_at_the_nps_step_a_hint(
    tmp_path: Path,
) -> None:
    async with running_bot(tmp_path) as h:
        await h.start_customer(ANN)
        await h.post_visit(ANN, "pos-1", location="Main St")
        survey = await h.survey_for(ANN)
        await h.fake.send_media(ANN, "voice", duration=4)
        await h.fake.wait_for_message(ANN, text_contains="from 0 to 10")
        await h.press(ANN, survey, "8")
        await h.fake.wait_for(lambda m: m.chat_id == ANN and len(m.callback_data) == 7)
        await h.fake.send_media(ANN, "voice", duration=3)
        await h.fake.wait_for_message(ANN, text_contains="Thank you for your feedback")
        await h.settled()
        async with h.app.db.read() as conn:
            stored = await surveys.get(conn, 1)
        assert stored is not None
        assert (stored.nps, stored.ces, stored.reason) == (8, None, "[voice 0:03]")
        # A passive has no case: nothing reaches the managers.
        assert h.fake.messages_to(MANAGER_CHAT_ID) == []
