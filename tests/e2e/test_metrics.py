"""GET /metrics from the running bot, parsed with prometheus_client's own text parser:
after a scripted visit -> survey -> detractor answer -> alert, with a 429 from the fake
Bot API, a survey held up 90 s by a 500 and a webhook receiver that answers 500 once,
every figure is what happened.
And who may read it: API_TOKEN, or METRICS_TOKEN when set; nobody else."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.core.metrics import CASE_AGES
from tests.e2e.test_webhooks import subscribe, until_rows
from tests.support.cases import detractor_case
from tests.support.harness import BotHarness, running_bot
from tests.support.settings import API_TOKEN
from tests.support.webhook_receiver import Receiver

METRICS_TOKEN = "metrics-token-0123456789"
BOB = 502
CAROL = 503

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    started = await Receiver(script=[500]).start()  # the first delivery fails once
    try:
        yield started
    finally:
        await started.close()


async def fetch(h: BotHarness, token: str | None) -> tuple[int, str, str]:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    async with h.http.get(h.api_url + "/metrics", headers=headers) as response:
        return response.status, response.headers.get("Content-Type", ""), await response.text()


async def scrape(h: BotHarness, token: str = METRICS_TOKEN) -> Samples:
    """Every sample of /metrics by (name, sorted labels), through the Prometheus parser."""
    status, content_type, text = await fetch(h, token)
    assert status == 200, text
    assert content_type == "text/plain; version=0.0.4; charset=utf-8"
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_the_metrics_tell_what_happened(tmp_path: Path, receiver: Receiver) -> None:
    async with running_bot(tmp_path, metrics_token=METRICS_TOKEN) as h:
        await subscribe(h, receiver)
        # Ann is surveyed at once and scores 3: a case, its alert, two webhook events.
        await detractor_case(h)
        # The receiver answered the first event 500: it is retried after a backoff.
        await until_rows(h.app.db, lambda rows: rows[0].last_status == 500)
        # Carol's survey meets a 500 from Telegram when due: retried after a backoff
        # of at most a second, it goes out when the clock has moved 90 s on.
        await h.start_customer(CAROL)
        since = len(h.fake.sent)
        h.fake.fail_next(
            "sendMessage", error_code=500, description="Internal Server Error", chat_id=CAROL
        )
        await h.post_visit(CAROL, "pos-3")
        await h.fake.wait_for_call("sendMessage", lambda r: r.error_code == 500)
        await h.settled()
        h.clock.advance(90)
        await h.survey_for(CAROL, since=since)
        # ... and so is the retried webhook event, and then the next.
        await until_rows(h.app.db, lambda rows: {r.status for r in rows} == {"delivered"})
        # Bob's survey meets a 429: it is due again in 60 s (not yet: 'scheduled').
        await h.start_customer(BOB)
        h.fake.fail_next(
            "sendMessage",
            error_code=429,
            description="Too Many Requests: retry after 60",
            retry_after=60,
            chat_id=BOB,
        )
        await h.post_visit(BOB, "pos-2")
        await h.fake.wait_for_call("sendMessage", lambda r: r.error_code == 429)
        await h.settled()

        m = await scrape(h)
        assert value(m, "otklik_answers_total", question="nps") == 1
        assert value(m, "otklik_answers_total", question="ces") == 0
        assert value(m, "otklik_alerts_sent_total", form="single") == 1
        assert value(m, "otklik_outbox_sent_total", kind="survey") == 2
        assert value(m, "otklik_outbox_sent_total", kind="alert") == 1
        assert value(m, "otklik_telegram_429_total", source="outbox") == 1
        assert value(m, "otklik_outbox_rows", kind="survey", state="scheduled") == 1
        assert value(m, "otklik_outbox_rows", kind="survey", state="pending") == 0
        # Start, the survey and the answer's own replies went through the reply pacer.
        assert value(m, "otklik_replies_sent_total", method="sendMessage") >= 2
        # Ann's survey went out the moment it was due (the clock stood still), Carol's
        # 90 s after its due time (the time it waited in the outbox, not on its row).
        assert value(m, "otklik_survey_lateness_seconds_count") == 2
        assert value(m, "otklik_survey_lateness_seconds_bucket", le="0.5") == 1
        assert value(m, "otklik_survey_lateness_seconds_bucket", le="60.0") == 1
        assert value(m, "otklik_survey_lateness_seconds_bucket", le="120.0") == 2
        assert value(m, "otklik_survey_lateness_seconds_sum") == 90
        assert value(m, "otklik_webhook_deliveries_total", outcome="retry") == 1
        assert value(m, "otklik_webhook_deliveries_total", outcome="delivered") == 2
        assert value(m, "otklik_webhook_deliveries_total", outcome="failed") == 0
        assert value(m, "otklik_db_transaction_seconds_count") >= 10
        assert value(m, "otklik_db_transaction_seconds_bucket", le="+Inf") == value(
            m, "otklik_db_transaction_seconds_count"
        )
        assert value(m, "target_info", instance_id=h.settings.instance_id) == 1
        ages = {label: value(m, "otklik_open_cases", age=label) for _, label in CASE_AGES}
        assert ages == {"0-1h": 1, "1h-4h": 0, "4h-24h": 0, "24h-48h": 0, "48h-7d": 0, "7d+": 0}

        # Read at scrape time: two hours on, the same case is in the next bucket.
        h.clock.advance(2 * 3600)
        later = await scrape(h, API_TOKEN)  # API_TOKEN opens /metrics too
        assert value(later, "otklik_open_cases", age="0-1h") == 0
        assert value(later, "otklik_open_cases", age="1h-4h") == 1
        assert value(later, "otklik_answers_total", question="nps") == 1

        # Nobody else: no token, a wrong one, another scheme; METRICS_TOKEN opens no API.
        for token in (None, "wrong-token-0123456789", API_TOKEN + "x"):
            status, _, body = await fetch(h, token)
            assert status == 401 and "otklik_" not in body
        async with h.http.get(
            h.api_url + "/metrics", headers={"Authorization": f"Basic {METRICS_TOKEN}"}
        ) as response:
            assert response.status == 401
        status, _ = await h.call("GET", "/api/v1/webhooks", token=METRICS_TOKEN)
        assert status == 401


async def test_without_metrics_token_the_api_token_alone_opens_metrics(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        status, _, text = await fetch(h, API_TOKEN)
        assert status == 200
        families = {family.name: family for family in text_string_to_metric_families(text)}
        assert families["otklik_outbox_sent"].type == "counter"
        assert families["otklik_outbox_sent"].samples == []  # nothing sent yet
        for token in (None, METRICS_TOKEN, ""):
            status, _, _ = await fetch(h, token)
            assert status == 401
