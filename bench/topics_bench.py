"""Topic classifier benchmark: accuracy on the project's labelled reasons, time per reason
and the memory it adds to the running bot, in one process.

    python -m bench.topics_bench                 # every figure
    python -m bench.topics_bench --errors        # and the dev part's mistakes (for tuning)

The labelled set (tests/data/topics_labelled.jsonl) has a `split`: phrases are tuned on
`dev` only; `test` is held out and reported on its own, so its figures are not flattered
by the tuning. `--errors` shows dev mistakes only, for the same reason.

Accuracy: micro-F1 (precision and recall over all topic labels), per-topic F1, and per
language the micro-F1, the share of reasons whose topic set is exactly right, and the
share whose language was detected right. Time: every reason classified once by a fresh
classifier (cold: nothing cached) and then 20 more times (warm: its cache of looked-up
words filled, as in a running bot), median and p95 per reason, beside a baseline in the
same process (tokenising alone). Memory: RSS after importing bot.app (what `otklik run`
imports), then after importing bot.topics, building the classifier and classifying the
set 21 times; the difference is what the classifier adds. Prints `name: value unit`
lines; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "topics_labelled.jsonl"
LANGUAGES = ("ru", "uk", "en")


@dataclass(frozen=True)
class Example:
    text: str
    language: str
    topics: frozenset[str]
    tags: tuple[str, ...]
    split: str


@dataclass(frozen=True)
class Scores:
    true_positives: int
    false_positives: int
    false_negatives: int

    @property
    def precision(self) -> float:
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else 1.0

    @property
    def recall(self) -> float:
        wanted = self.true_positives + self.false_negatives
        return self.true_positives / wanted if wanted else 1.0

    @property
    def f1(self) -> float:
        total = 2 * self.true_positives + self.false_positives + self.false_negatives
        return 2 * self.true_positives / total if total else 1.0


def load_examples(path: Path = DATA) -> list[Example]:
    examples = []
    for line in path.read_text(encoding="utf-8").splitlines():
        row: dict[str, Any] = json.loads(line)
        examples.append(
            Example(
                row["text"],
                row["language"],
                frozenset(row["topics"]),
                tuple(row.get("tags", ())),
                row["split"],
            )
        )
    return examples


def score(
    pairs: Iterable[tuple[frozenset[str], frozenset[str]]], topic: str | None = None
) -> Scores:
    """Micro scores over (expected, predicted) topic sets; of one topic if named."""
    tp = fp = fn = 0
    for expected, predicted in pairs:
        if topic is not None:
            expected = expected & {topic}
            predicted = predicted & {topic}
        tp += len(expected & predicted)
        fp += len(predicted - expected)
        fn += len(expected - predicted)
    return Scores(tp, fp, fn)


@dataclass(frozen=True)
class Outcome:
    example: Example
    language: str
    topics: frozenset[str]


def classify_all(examples: Sequence[Example]) -> list[Outcome]:
    from bot.topics import TopicClassifier, load_taxonomy

    classifier = TopicClassifier(load_taxonomy())
    outcomes = []
    for example in examples:
        result = classifier.classify(example.text)
        outcomes.append(Outcome(example, result.language, frozenset(result.topics)))
    return outcomes


def micro_f1(outcomes: Iterable[Outcome]) -> float:
    return score((o.example.topics, o.topics) for o in outcomes).f1


def _print(name: str, value: float, unit: str = "") -> None:
    print(f"{name}: {value:.3f}{' ' + unit if unit else ''}")


def report_accuracy(outcomes: list[Outcome]) -> None:
    from bot.topics import load_taxonomy

    parts = {
        "all": outcomes,
        "dev": [o for o in outcomes if o.example.split == "dev"],
        "test": [o for o in outcomes if o.example.split == "test"],
    }
    for part, chosen in parts.items():
        print(f"{part}_reasons: {len(chosen)} count")
        scores = score((o.example.topics, o.topics) for o in chosen)
        _print(f"{part}_micro_f1", scores.f1)
        _print(f"{part}_micro_precision", scores.precision)
        _print(f"{part}_micro_recall", scores.recall)
        for language in LANGUAGES:
            mine = [o for o in chosen if o.example.language == language]
            _print(f"{part}_{language}_micro_f1", micro_f1(mine))
            exact = sum(o.topics == o.example.topics for o in mine) / len(mine)
            _print(f"{part}_{language}_exact_topics", exact, "share")
            detected = sum(o.language == language for o in mine) / len(mine)
            _print(f"{part}_{language}_language_detected", detected, "share")
        others = [o for o in chosen if o.example.language not in LANGUAGES]
        if others:
            detected = sum(o.language == "other" for o in others) / len(others)
            _print(f"{part}_other_language_detected", detected, "share")
    for part in ("test", "all"):
        for topic in load_taxonomy().ids():
            pairs = [(o.example.topics, o.topics) for o in parts[part]]
            _print(f"{part}_f1_{topic}", score(pairs, topic).f1)
    tags = sorted({tag for o in outcomes for tag in o.example.tags})
    for tag in tags:
        tagged = [o for o in outcomes if tag in o.example.tags]
        exact = sum(o.topics == o.example.topics for o in tagged) / len(tagged)
        _print(f"all_tag_{tag}_exact_topics", exact, "share")


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status (Linux only)")


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def report_speed_and_memory(examples: Sequence[Example]) -> None:
    import bot.app  # noqa: F401  (the running bot's imports: the memory baseline)

    before = _rss_mb()
    from bot.topics import TopicClassifier, load_taxonomy
    from bot.topics.text import tokenise

    start = time.perf_counter()
    classifier = TopicClassifier(load_taxonomy())
    build_ms = (time.perf_counter() - start) * 1000
    texts = [example.text for example in examples]
    cold = []
    for text in texts:
        start = time.perf_counter()
        classifier.classify(text)
        cold.append((time.perf_counter() - start) * 1000)
    warm = []
    baseline = []
    for _ in range(20):
        for text in texts:
            start = time.perf_counter()
            classifier.classify(text)
            warm.append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            tokenise(text)
            baseline.append((time.perf_counter() - start) * 1000)
    after = _rss_mb()
    _print("taxonomy_build_time", build_ms, "ms")
    _print("classify_cold_median", statistics.median(cold), "ms")
    _print("classify_cold_p95", _percentile(cold, 0.95), "ms")
    _print("classify_warm_median", statistics.median(warm), "ms")
    _print("classify_warm_p95", _percentile(warm, 0.95), "ms")
    _print("tokenise_only_median", statistics.median(baseline), "ms")
    _print(
        "ratio_classify_warm_vs_tokenise_only",
        statistics.median(warm) / statistics.median(baseline),
        "x",
    )
    _print("rss_bot_imports", before, "MB")
    _print("rss_added_by_classifier", after - before, "MB")


def show_errors(outcomes: list[Outcome]) -> None:
    for outcome in outcomes:
        example = outcome.example
        if example.split != "dev":
            continue  # the held-out part is not looked at while tuning
        if outcome.topics != example.topics or outcome.language != example.language:
            print(
                f"# {example.language}->{outcome.language} "
                f"missed={sorted(example.topics - outcome.topics)} "
                f"extra={sorted(outcome.topics - example.topics)} | {example.text}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--errors", action="store_true", help="list the dev part's mistakes")
    args = parser.parse_args()
    examples = load_examples()
    outcomes = classify_all(examples)
    if args.errors:
        show_errors(outcomes)
    report_accuracy(outcomes)
    report_speed_and_memory(examples)


if __name__ == "__main__":
    main()
