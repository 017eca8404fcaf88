"""What GET /metrics shows (Prometheus text format), kept per process.

One `Metrics` per running bot, each with its own registry (never prometheus_client's
global one), so that several bots in one process (tests, the demo) count apart.

Two kinds of figures:
- Counters and histograms of this process, bumped where things happen: sends and
  429s (the delivery worker and the reply pacer), answers, alerts, survey lateness,
  webhook deliveries, database time per transaction. Each bump is a dict lookup and a
  locked add (about a microsecond: bench/bench_metrics.py). They start at 0 with the
  process and are this instance's alone: with several instances, sum them in PromQL.
- Gauges read from the database at scrape time (`scrape`): the outbox's unfinished
  rows by kind and state, and the open cases by age. Those are the whole system's,
  the same from every instance: take max(), not sum(), across instances.
"""

from __future__ import annotations

from collections.abc import Sequence

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

from storage import cases, outbox
from storage.db import Database

CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4

# No `*_created` series beside each counter and histogram (the library's switch is
# process-wide; nothing else here uses it): they double the lines, and rate() already
# copes with a counter that restarts from 0.
disable_created_metrics()  # type: ignore[no-untyped-call]

# Seconds from a survey's due time to its send: on time is well under a second; the
# policy's hold for quiet hours and a backlog after downtime reach hours.
LATENESS_BUCKETS = (0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200)
# Seconds a transaction takes, from SQLite's sub-millisecond writes to a stuck lock.
TRANSACTION_BUCKETS = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1,
    2.5,
    5,
)
# Open cases by age: (upper bound in seconds, label); the last has no bound.
CASE_AGES: Sequence[tuple[int | None, str]] = (
    (3600, "0-1h"),
    (4 * 3600, "1h-4h"),
    (24 * 3600, "4h-24h"),
    (48 * 3600, "24h-48h"),
    (7 * 24 * 3600, "48h-7d"),
    (None, "7d+"),
)


class Metrics:
    """The instruments, and the hot-path calls that bump them (see the module doc)."""

    def __init__(self, instance_id: str | None = None) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        if instance_id:
            # target_info{instance_id="..."} 1: which instance answered this scrape.
            self.registry.set_target_info({"instance_id": instance_id})
        r = self.registry
        self._sent = Counter(
            "otklik_outbox_sent",
            "Outbox rows sent to Telegram by this instance, by kind",
            ["kind"],
            registry=r,
        )
        self._failed = Counter(
            "otklik_outbox_failed",
            "Outbox rows ended failed by this instance (with the reason on the row), by kind",
            ["kind"],
            registry=r,
        )
        self._replies = Counter(
            "otklik_replies_sent",
            "Handlers' own replies and edits sent through the reply pacer, by Bot API method",
            ["method"],
            registry=r,
        )
        self._floods = Counter(
            "otklik_telegram_429",
            "429 Too Many Requests answered by Telegram: outbox (the worker) or reply",
            ["source"],
            registry=r,
        )
        self._answers = Counter(
            "otklik_answers",
            "Survey answers stored, by question (nps, ces, csat, reason)",
            ["question"],
            registry=r,
        )
        self._alerts = Counter(
            "otklik_alerts_sent",
            "Case alerts sent to a managers' chat: single (a detractor's case), folded (many"
            " in one message) or unprompted (feedback written without a survey)",
            ["form"],
            registry=r,
        )
        self._lateness = Histogram(
            "otklik_survey_lateness_seconds",
            "Seconds from a survey's due time to its send being recorded",
            buckets=LATENESS_BUCKETS,
            registry=r,
        )
        self._webhooks = Counter(
            "otklik_webhook_deliveries",
            "Outgoing webhook attempts by outcome: delivered, retry (will be retried), failed"
            " (given up)",
            ["outcome"],
            registry=r,
        )
        self._transactions = Histogram(
            "otklik_db_transaction_seconds",
            "Seconds per database transaction, from its start to COMMIT or ROLLBACK"
            " (waiting for SQLite's one writer included)",
            buckets=TRANSACTION_BUCKETS,
            registry=r,
        )
        self._depth = Gauge(
            "otklik_outbox_rows",
            "Outbox rows not ended, by kind and state (pending: due; scheduled: not yet due;"
            " held; claimed; sending), read from the database at scrape time",
            ["kind", "state"],
            registry=r,
        )
        self._open_cases = Gauge(
            "otklik_open_cases",
            "Open cases (new or taken) by age since opened, read from the database at scrape time",
            ["age"],
            registry=r,
        )
        self._seen_depth: set[tuple[str, str]] = set()
        # The hot paths' labelled children, looked up once (labels() takes a lock).
        self._children: dict[tuple[Counter, str], Counter] = {}
        self.observe_transaction = self._transactions.observe

    def _child(self, counter: Counter, label: str) -> Counter:
        child = self._children.get((counter, label))
        if child is None:
            child = self._children[(counter, label)] = counter.labels(label)
        return child

    # --- the hot paths: one lookup and one add each ----------------------------------

    def sent(self, kind: str) -> None:
        self._child(self._sent, kind).inc()

    def failed(self, kind: str) -> None:
        self._child(self._failed, kind).inc()

    def reply_sent(self, method: str) -> None:
        self._child(self._replies, method).inc()

    def flood(self, source: str) -> None:
        """A 429 from Telegram; `source` is "outbox" or "reply"."""
        self._child(self._floods, source).inc()

    def answered(self, question: str) -> None:
        self._child(self._answers, question).inc()

    def alert_sent(self, form: str) -> None:
        """`form`: "single" (a detractor's case), "folded" or "unprompted"."""
        self._child(self._alerts, form).inc()

    def survey_late(self, seconds: float) -> None:
        self._lateness.observe(max(0.0, seconds))

    def webhook(self, outcome: str) -> None:
        """`outcome`: "delivered", "retry" or "failed"."""
        self._child(self._webhooks, outcome).inc()

    # --- scraping ----------------------------------------------------------------------

    def time_transactions(self, db: Database) -> None:
        """Every transaction of `db` is observed in otklik_db_transaction_seconds."""
        db.on_transaction = self.observe_transaction

    async def scrape(self, db: Database, now: int) -> bytes:
        """The exposition: the database's gauges read now (`now` in ms), then every
        instrument. Two grouped COUNTs on indexes (storage/outbox.py `depth`,
        storage/cases.py `open_by_age`); nothing awaits between setting the gauges
        and rendering, so concurrent scrapes cannot interleave."""
        bounds = [bound * 1000 for bound, _ in CASE_AGES if bound is not None]
        async with db.read() as conn:
            rows = await outbox.depth(conn, now=now)
            ages = await cases.open_by_age(conn, now=now, bounds_ms=bounds)
        current = {(kind, state): count for kind, state, count in rows}
        # A kind/state seen before and empty now reads 0, rather than vanishing.
        for key in self._seen_depth - current.keys():
            self._depth.labels(*key).set(0)
        for key, count in current.items():
            self._depth.labels(*key).set(count)
        self._seen_depth |= current.keys()
        for (_, label), count in zip(CASE_AGES, ages, strict=True):
            self._open_cases.labels(label).set(count)
        return generate_latest(self.registry)
