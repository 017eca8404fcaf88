"""`otklik topics ...`: the topic classifier from the command line. `classify` needs no bot
settings (only TOPICS_FILE, if set), so anyone can repeat the evaluation."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, BinaryIO, TextIO

from bot.config import ConfigError, load_topics_settings
from bot.topics import TaxonomyError, TopicClassifier, load_taxonomy


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
