"""`otklik topics ...`: the topic classifier from the command line. `classify` needs no bot
settings (only TOPICS_FILE, if set), so anyone can repeat the evaluation; `reclassify`
reads every stored reason again with TOPICS_FILE's taxonomy and rebuilds the topic
counters (in batches, beside a running bot)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, TextIO

from bot.config import ConfigError, Settings, load_topics_settings
from bot.topics import TaxonomyError, TopicClassifier, load_taxonomy
from storage import topics as topic_rows
from storage.db import Connection, Database, create_database, migrate
from storage.rollups import Tally

# Reasons per transaction: short enough that answers never wait long behind one.
DEFAULT_BATCH = 500


def add_parser(commands: Any) -> None:
    """Add the `topics` group; each subcommand is one `add_parser` call below."""
    topics = commands.add_parser("topics", help="the topics of the customers' reasons")
    group = topics.add_subparsers(dest="topics_command", required=True)
    classify = group.add_parser(
        "classify",
        help='read one reason per line on stdin, write one JSON object per line: {"text", '
        '"language", "topics"}',
    )
    classify.add_argument(
        "--topics-file",
        type=Path,
        default=None,
        help="a topics file (default: the TOPICS_FILE setting, else the built-in taxonomy)",
    )
    reclassify_parser = group.add_parser(
        "reclassify",
        help="read every stored reason again with TOPICS_FILE's taxonomy and rebuild the"
        " topic counters (in batches; safe while the bot runs)",
    )
    reclassify_parser.add_argument(
        "--batch-size",
        type=_batch,
        default=DEFAULT_BATCH,
        help=f"reasons per transaction, 1 to 10000 (default {DEFAULT_BATCH})",
    )


def _batch(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if not 1 <= value <= 10_000:
        raise argparse.ArgumentTypeError("expected 1 to 10000")
    return value


def classify_cli(args: argparse.Namespace) -> int:
    """`otklik topics classify`: stdin to stdout, with the taxonomy errors on stderr."""
    try:
        path = args.topics_file or load_topics_settings().topics_file
        classifier = TopicClassifier(load_taxonomy(path))
    except (ConfigError, TaxonomyError) as error:
        print(f"otklik topics classify: {error}", file=sys.stderr)
        return 2
    classify_lines(classifier, sys.stdin.buffer, sys.stdout)
    return 0


def classify_lines(classifier: TopicClassifier, source: BinaryIO, target: TextIO) -> int:
    """One JSON line per input line (an empty line too, so the outputs line up)."""
    count = 0
    for raw in source:
        text = raw.decode("utf-8", errors="replace").rstrip("\r\n")
        result = classifier.classify(text)
        record = {"text": text, "language": result.language, "topics": list(result.topics)}
        target.write(json.dumps(record, ensure_ascii=False) + "\n")
        count += 1
    target.flush()
    return count


@dataclass(frozen=True, slots=True)
class Reclassified:
    reasons: int  # stored reasons read again
    changed: int  # of them, those whose topics changed
    daily_rows: int  # topic_daily rows after the rebuild


async def reclassify(
    db: Database,
    classifier: TopicClassifier,
    *,
    batch_size: int = DEFAULT_BATCH,
    progress: Callable[[int, int], None] | None = None,
) -> Reclassified:
    """Read every stored reason again with `classifier`, a batch per transaction, then
    rebuild the topic counters. Safe beside a running bot: each batch classifies outside
    its transaction, then re-reads its surveys (locked on PostgreSQL) and replaces only
    the readings of reasons still as classified (one edited meanwhile was read by its
    edit), adjusting the counters as it goes; the final rebuild is a consistency pass."""
    after, seen, changed = 0, 0, 0
    while True:
        async with db.read() as conn:
            page = await topic_rows.reasons_page(conn, after, batch_size)
        if not page:
            break
        readings = {
            reason.key.survey_id: (reason.text, classifier.classify(reason.text).topics)
            for reason in page
        }
        async with db.transaction() as conn:
            changed += await _replace_readings(conn, readings)
        seen += len(page)
        after = page[-1].key.survey_id
        if progress is not None:
            progress(seen, changed)
    async with db.transaction() as conn:
        rows = await topic_rows.rebuild(conn)
    return Reclassified(seen, changed, rows)


async def _replace_readings(
    conn: Connection, readings: dict[int, tuple[str, tuple[str, ...]]]
) -> int:
    """Put each survey's new reading in place, if its reason is still the one classified;
    how many changed."""
    tally = Tally()
    count = 0
    now = await topic_rows.current_reasons(conn, list(readings))
    for survey_id, (text, found) in readings.items():
        current = now.get(survey_id)
        if current is not None and current.text == text:
            count += await topic_rows.replace(conn, tally, current.key, found)
    await tally.write(conn)
    return count


async def reclassify_cli(settings: Settings, batch_size: int = DEFAULT_BATCH) -> int:
    """`otklik topics reclassify`: TOPICS_FILE's taxonomy over every stored reason."""
    try:
        classifier = TopicClassifier(load_taxonomy(settings.topics_file))
    except TaxonomyError as error:
        print(f"otklik topics reclassify: {error}", file=sys.stderr)
        return 2
    db = create_database(settings.database_url)
    await db.connect()
    try:
        await migrate(db)

        def report(seen: int, changed: int) -> None:
            print(f"... {seen} reasons read, {changed} changed", file=sys.stderr)

        done = await reclassify(db, classifier, batch_size=batch_size, progress=report)
    finally:
        await db.close()
    print(
        f"reclassified {done.reasons} reasons: {done.changed} changed;"
        f" topic counters rebuilt ({done.daily_rows} daily rows)"
    )
    return 0
