"""The topic report's rules: NPS impact (the NPS minus the NPS without the answers that
mention a topic), too few to say below MIN_SAMPLE, shares, the change against the period
before, and the order (costliest first)."""

from __future__ import annotations

from datetime import date

from bot.reports.service import Period
from bot.reports.topics import Answers, build_topic_report, impact, topic_report_to_dict
from storage.topics import TopicCount

OCTOBER = Period(date(2026, 10, 1), date(2026, 10, 31))
SEPTEMBER = Period(date(2026, 9, 1), date(2026, 9, 30))
IDS = ("wait", "staff_attitude", "price")


def test_impact_is_the_nps_minus_the_nps_without_the_topic() -> None:
    answers = Answers(promoters=5, passives=2, detractors=3)  # NPS 20
    mentions = Answers(promoters=1, passives=0, detractors=2)  # without: 3/7 -> 42.857
    assert impact(answers, mentions, min_sample=5) == -22.9
    praised = Answers(promoters=3, passives=0, detractors=0)  # without: -1/7 -> -14.286
    assert impact(answers, praised, min_sample=5) == 34.3
    assert impact(answers, Answers(), min_sample=5) == 0.0


def test_too_few_to_say_below_min_sample() -> None:
    answers = Answers(promoters=5, passives=2, detractors=3)
    mentions = Answers(promoters=1, passives=0, detractors=2)
    assert impact(answers, mentions, min_sample=8) is None  # 7 answers left without it
    assert impact(answers, mentions, min_sample=11) is None  # 10 answers in all
    assert impact(answers, answers, min_sample=1) is None  # nothing left to compare


def test_the_report_orders_by_impact_and_compares_with_the_period_before() -> None:
    answers = Answers(promoters=50, passives=20, detractors=30)
    before = Answers(promoters=40, passives=30, detractors=30)
    current = [
        TopicCount("price", "detractors", 5),
        TopicCount("staff_attitude", "promoters", 20),
        TopicCount("wait", "detractors", 20),
        TopicCount("wait", "passives", 2),
        TopicCount("old_topic", "detractors", 1),
    ]
    previous = [TopicCount("wait", "detractors", 10)]
    report = build_topic_report(
        OCTOBER, SEPTEMBER, answers, before, current, previous, IDS, min_sample=10
    )
    assert [f.topic for f in report.topics] == ["wait", "price", "old_topic", "staff_attitude"]
    wait = report.topics[0]
    assert (wait.mentions, wait.detractors, wait.promoters) == (22, 20, 0)
    assert wait.current.share == 0.22 and wait.previous.share == 0.1
    assert wait.share_change == 12.0
    assert wait.current.impact is not None and wait.current.impact < 0
    assert wait.impact_change is not None and wait.impact_change < 0
    assert [f.topic for f in report.losses()] == ["wait", "price", "old_topic"]
    assert [f.topic for f in report.detractor_topics(2)] == ["wait", "price"]

    body = topic_report_to_dict(report, lambda topic: topic.upper())
    assert body["answers"]["nps"] == 20.0 and body["answers"]["previous_nps"] == 10.0
    first = body["topics"][0]
    assert (first["id"], first["label"], first["share"], first["too_few"]) == (
        "wait",
        "WAIT",
        22.0,
        False,
    )
    assert first["previous"]["mentions"] == 10


def test_no_answers_gives_no_shares_and_too_few() -> None:
    report = build_topic_report(OCTOBER, SEPTEMBER, Answers(), Answers(), [], [], IDS, 1)
    assert [f.topic for f in report.topics] == list(IDS)
    assert all(f.current.share is None and f.current.impact is None for f in report.topics)
    assert report.losses() == [] and not report.enough
