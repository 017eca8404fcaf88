"""The process's instruments (bot/core/metrics.py): each bot has a registry of its own,
and the reply pacer counts its sends and Telegram's 429s."""

from __future__ import annotations

import itertools
from typing import Any

from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import SendMessage
from prometheus_client.parser import text_string_to_metric_families

from bot.core.metrics import Metrics
from bot.outbox.limiter import RateLimiter
from bot.outbox.replies import ReplyPacer


def _samples(metrics: Metrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    from prometheus_client import generate_latest

    text = generate_latest(metrics.registry).decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_two_bots_in_one_process_count_apart() -> None:
    first, second = Metrics("one"), Metrics("two")
    first.sent("survey")
    first.sent("survey")
    second.sent("survey")
    second.answered("nps")
    assert _samples(first)[("otklik_outbox_sent_total", (("kind", "survey"),))] == 2
    assert _samples(second)[("otklik_outbox_sent_total", (("kind", "survey"),))] == 1
    assert ("otklik_answers_total", (("question", "nps"),)) not in _samples(first)
    assert _samples(second)[("target_info", (("instance_id", "two"),))] == 1
    # No *_created series beside the counters.
    assert not any(name.endswith("_created") for name, _ in _samples(first))


async def test_the_reply_pacer_counts_its_sends_and_429s() -> None:
    ticks = itertools.count(0, 1000)  # each look at the clock is 1000 s later: no waits
    limiter = RateLimiter(1000, monotonic=lambda: float(next(ticks)))
    metrics = Metrics()
    pacer = ReplyPacer(limiter, metrics=metrics)
    method = SendMessage(chat_id=5, text="thanks")
    answers: list[Any] = [TelegramRetryAfter(method, "Too Many Requests", 1), "ok"]

    async def make_request(bot: Any, method: Any) -> Any:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    answered: Any = await pacer(make_request, object(), method)  # type: ignore[arg-type]
    assert answered == "ok"
    samples = _samples(metrics)
    assert samples[("otklik_telegram_429_total", (("source", "reply"),))] == 1
    assert samples[("otklik_replies_sent_total", (("method", "sendMessage"),))] == 1
