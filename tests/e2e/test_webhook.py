"""Webhook mode end to end: the real bot registers WEBHOOK_URL on its API app and the
fake Bot API server pushes updates there, with the secret token, retrying failures."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.app import Otklik, StartupError
from bot.config import derive_webhook_secret
from bot.telegram.webhook import MAX_UPDATE_BYTES, SECRET_HEADER
from storage import surveys, updates
from tests.support.fake_telegram import FakeTelegram
from tests.support.harness import BotHarness, running_bot
from tests.support.settings import BOT_TOKEN, make_settings

ANN = 601
BORIS = 602


async def post_update(h: BotHarness, body: Any, secret: str | None) -> tuple[int, dict[str, Any]]:
    """POST to the bot's webhook as Telegram (or an impostor) would; a dict is sent as
    JSON, anything else (bytes, a stream) as it is."""
    assert h.settings.webhook_url is not None
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers[SECRET_HEADER] = secret
    data = json.dumps(body).encode() if isinstance(body, dict) else body
    async with h.http.post(h.settings.webhook_url, data=data, headers=headers) as response:
        return response.status, await response.json()


async def answered(h: BotHarness) -> None:
    """Wait until the webhook has answered every update queued so far: a handler's last
    message reaches the fake before the handler's HTTP answer does."""
    for update in h.fake.updates:
        await h.fake.wait_for_webhook_delivery(update["update_id"])


async def processed(h: BotHarness, update_id: int) -> bool:
    async with h.app.db.read() as conn:
        return await updates.is_processed(conn, update_id)


def start_update(update_id: int, user_id: int) -> dict[str, Any]:
    user = {"id": user_id, "is_bot": False, "first_name": "Eve", "language_code": "en"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": 1,
            "date": 1_700_000_000,
            "chat": {"id": user_id, "type": "private", "first_name": "Eve"},
            "from": user,
            "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }


async def test_webhook_is_registered_with_the_secret_and_serves_customers(
    tmp_path: Path,
) -> None:
    async with running_bot(tmp_path, webhook=True) as h:
        (registration,) = h.fake.calls("setWebhook")
        assert registration.params["url"] == h.settings.webhook_url == h.fake.webhook_url
        assert registration.params["secret_token"] == derive_webhook_secret(BOT_TOKEN)
        assert {"message", "callback_query"} <= set(registration.params["allowed_updates"])
        assert registration.params.get("drop_pending_updates") in (None, False)

        await h.start_customer(ANN)
        outcome = await h.post_visit(ANN, "pos-w1")
        survey_message = await h.survey_for(ANN)
        await h.press(ANN, survey_message, "9")
        await h.fake.wait_for(
            lambda m: m.message_id == survey_message.message_id and len(m.callback_data) == 7
        )
        async with h.app.db.read() as conn:
            stored = await surveys.get(conn, outcome["survey_id"])
        assert stored is not None and stored.nps == 9

        # Every update came through the webhook, each answered 200 at the first try.
        await answered(h)
        assert h.fake.calls("getUpdates") == []
        assert h.fake.webhook_deliveries
        assert all(d.status == 200 for d in h.fake.webhook_deliveries)
        assert h.fake.pending_updates == []
    # A stopping instance leaves the webhook to the others.
    assert h.fake.calls("deleteWebhook") == []


async def test_explicit_webhook_secret_is_used_instead_of_the_derived_one(
    tmp_path: Path,
) -> None:
    async with running_bot(tmp_path, webhook=True, webhook_secret="Operator_Chosen-1") as h:
        (registration,) = h.fake.calls("setWebhook")
        assert registration.params["secret_token"] == "Operator_Chosen-1"
        h.fake.user(BORIS, "Eve")
        update = start_update(10**9, BORIS)
        assert (await post_update(h, update, derive_webhook_secret(BOT_TOKEN)))[0] == 401
        assert (await post_update(h, update, "Operator_Chosen-1"))[0] == 200
        assert len(h.fake.messages_to(BORIS)) == 1  # the greeting, with the phone offer


async def test_wrong_or_missing_secret_is_refused_and_changes_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with running_bot(tmp_path, webhook=True) as h:
        update = start_update(10**9, BORIS)
        h.fake.user(BORIS, "Eve")
        for secret in (None, "", "wrong-secret", derive_webhook_secret("654321:OTHER-TOKEN")):
            status, body = await post_update(h, update, secret)
            assert (status, body["ok"]) == (401, False)
        assert h.fake.sent == []
        assert not await processed(h, 10**9)
        assert "refused a POST without the right secret token" in caplog.text
        assert "wrong-secret" not in caplog.text
        assert h.settings.webhook_secret_token not in caplog.text

        # The very same update with the right secret is handled: the refusal was the secret.
        status, _ = await post_update(h, update, h.settings.webhook_secret_token)
        assert status == 200
        assert await processed(h, 10**9)
        assert len(h.fake.messages_to(BORIS)) == 1  # the greeting, with the phone offer


async def test_malformed_and_oversized_bodies_get_clear_errors(tmp_path: Path) -> None:
    async with running_bot(tmp_path, webhook=True) as h:
        secret = h.settings.webhook_secret_token
        assert (await post_update(h, b"{not json", secret))[0] == 400
        assert (await post_update(h, b"[1, 2]", secret))[0] == 400
        assert (await post_update(h, {"message": "no update_id"}, secret))[0] == 400
        huge = json.dumps({"update_id": 5, "pad": "x" * MAX_UPDATE_BYTES}).encode()
        status, body = await post_update(h, io.BytesIO(huge), secret)
        assert (status, body["error"]) == (413, "body too large")

        async def chunks() -> AsyncIterator[bytes]:
            # No Content-Length: the limit holds while reading, too.
            for start in range(0, len(huge), 64 * 1024):
                yield huge[start : start + 64 * 1024]

        status, body = await post_update(h, chunks(), secret)
        assert (status, body["error"]) == (413, "body too large")
        assert h.fake.sent == []
        assert not await processed(h, 5)
        # The API beside it still answers.
        async with h.http.get(h.api_url + "/healthz") as response:
            assert response.status == 200


async def test_redelivered_start_is_applied_once(tmp_path: Path) -> None:
    async with running_bot(tmp_path, webhook=True) as h:
        await h.start_customer(ANN)
        await answered(h)
        replies = len(h.fake.messages_to(ANN))
        assert replies == 1  # the welcome, with the offer to share the phone number
        first = h.fake.updates[-1]["update_id"]

        h.fake.redeliver(first)
        delivery = await h.fake.wait_for_webhook_delivery(first, count=2)
        assert delivery.status == 200
        assert len(h.fake.messages_to(ANN)) == replies


async def test_redelivered_survey_press_is_applied_once(tmp_path: Path) -> None:
    async with running_bot(tmp_path, webhook=True) as h:
        await h.start_customer(ANN)
        outcome = await h.post_visit(ANN, "pos-w2")
        survey_message = await h.survey_for(ANN)
        press = await h.fake.press(
            ANN, survey_message.message_id, survey_message.button("10")["callback_data"]
        )
        await h.fake.wait_for_webhook_delivery(press["update_id"])
        await h.app.worker.drain()
        answers_before = len(h.fake.calls("answerCallbackQuery"))
        messages_before = len(h.fake.messages_to(ANN))
        edits_before = h.fake.message(ANN, survey_message.message_id).edits

        h.fake.redeliver(press["update_id"])
        second = await h.fake.wait_for_webhook_delivery(press["update_id"], count=2)
        await h.app.worker.drain()

        assert second.status == 200
        # Not even an answerCallbackQuery: the handler never ran for the copy.
        assert len(h.fake.calls("answerCallbackQuery")) == answers_before
        assert len(h.fake.messages_to(ANN)) == messages_before
        assert h.fake.message(ANN, survey_message.message_id).edits == edits_before
        async with h.app.db.read() as conn:
            stored = await surveys.get(conn, outcome["survey_id"])
        assert stored is not None and stored.nps == 10


async def test_failed_update_is_released_and_telegram_redelivery_handles_it(
    tmp_path: Path,
) -> None:
    async with running_bot(tmp_path, webhook=True) as h:
        h.fake.user(ANN, "Ann", "en")
        # A refusal no retry can help (a 5xx on a reply is retried in place instead,
        # see the next test) fails the handler and so the update.
        h.fake.fail_next(
            "sendMessage", error_code=400, description="Bad Request: try again", chat_id=ANN
        )
        update = await h.fake.send_text(ANN, "/start")
        failed = await h.fake.wait_for_webhook_delivery(update["update_id"])
        assert failed.status == 500
        retried = await h.fake.wait_for_webhook_delivery(update["update_id"], count=2)
        assert retried.status == 200
        assert await processed(h, update["update_id"])
        await h.fake.wait_for(lambda m: m.chat_id == ANN and m.reply_markup is not None)


async def test_a_failed_survey_press_is_released_and_its_redelivery_answered_once(
    tmp_path: Path,
) -> None:
    """The press's once-record rides in the answer's transaction: when the handler
    fails after the answer was stored, the record is dropped all the same, and
    Telegram's redelivery is handled afresh (as a press already answered)."""
    async with running_bot(tmp_path, webhook=True) as h:
        await h.start_customer(ANN)
        outcome = await h.post_visit(ANN, "pos-w3")
        survey_message = await h.survey_for(ANN)
        h.fake.fail_next(
            "answerCallbackQuery", error_code=500, description="Internal Server Error"
        )
        press = await h.fake.press(
            ANN, survey_message.message_id, survey_message.button("4")["callback_data"]
        )
        failed = await h.fake.wait_for_webhook_delivery(press["update_id"])
        assert failed.status == 500
        retried = await h.fake.wait_for_webhook_delivery(press["update_id"], count=2)
        assert retried.status == 200
        assert await processed(h, press["update_id"])
        already = "You have already answered this question."
        assert h.fake.callback_answers[-1].get("text") == already
        async with h.app.db.read() as conn:
            stored = await surveys.get(conn, outcome["survey_id"])
            total = await conn.fetch_one(
                "SELECT answered FROM monthly_segment_rollups WHERE kind = 'total'"
            )
        assert stored is not None and stored.nps == 4
        assert total == {"answered": 1}


async def test_a_reply_meeting_a_server_error_is_sent_again_within_the_same_update(
    tmp_path: Path,
) -> None:
    async with running_bot(tmp_path, webhook=True) as h:
        h.fake.user(ANN, "Ann", "en")
        h.fake.fail_next(
            "sendMessage", error_code=502, description="Bad Gateway", chat_id=ANN, times=2
        )
        update = await h.fake.send_text(ANN, "/start")
        delivery = await h.fake.wait_for_webhook_delivery(update["update_id"])
        assert delivery.status == 200
        assert await processed(h, update["update_id"])
        welcomes = [m for m in h.fake.messages_to(ANN) if "Hello, Ann" in m.text]
        assert len(welcomes) == 1
        failed = [r for r in h.fake.calls("sendMessage") if r.error_code == 502]
        assert len(failed) == 2


async def test_duplicate_update_is_skipped_in_polling_mode_too(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        await h.start_customer(ANN)
        replies = len(h.fake.messages_to(ANN))
        update = h.fake.updates[-1]
        assert await processed(h, update["update_id"])
        await h.app.dispatcher.feed_raw_update(h.app.bot, update)
        assert len(h.fake.messages_to(ANN)) == replies


async def test_webhook_path_does_not_open_the_api_to_telegram_posts(tmp_path: Path) -> None:
    async with running_bot(tmp_path, webhook=True) as h:
        # The API keeps its own bearer token; the webhook secret is no key to it.
        headers = {SECRET_HEADER: h.settings.webhook_secret_token}
        async with h.http.post(
            h.api_url + "/api/v1/visits", json={"visit_id": "x"}, headers=headers
        ) as response:
            assert response.status == 401


async def test_a_refused_webhook_stops_the_start_with_one_clear_line(tmp_path: Path) -> None:
    async with FakeTelegram() as fake:
        fake.fail_next(
            "setWebhook",
            error_code=400,
            description="Bad Request: bad webhook: Failed to resolve host",
        )
        settings = make_settings(
            tmp_path,
            telegram_api_url=fake.url,
            webhook_url="https://nowhere.invalid/telegram/webhook",
        )
        app = Otklik(settings, session=fake.make_bot().session)
        with pytest.raises(StartupError) as error:
            await app.start()
        assert str(error.value) == (
            "WEBHOOK_URL was refused by the Bot API: Bad Request: bad webhook: "
            "Failed to resolve host"
        )
        assert settings.webhook_secret_token not in str(error.value)
        await app.stop()  # what the CLI's caller does anyway: a second stop is harmless


async def test_healthz_names_the_instance_that_answered(tmp_path: Path) -> None:
    async with running_bot(tmp_path, webhook=True, instance_id="bot-7") as h:
        async with h.http.get(h.api_url + "/healthz") as response:
            body = await response.json()
        assert (response.status, body["instance"]) == (200, "bot-7")
