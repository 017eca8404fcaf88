"""`otklik` on the command line: the parser and the dispatch to one module per command
group (run, imports, locations, reports, db, anniversaries, topics, webhooks, demo)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from bot.cli import demo as demo_cli
from bot.cli import topics as topics_cli
from bot.config import ConfigError, Settings, load_settings
from bot.logging_setup import setup_logging
from storage.db import create_database, migrate


def _lines(text: str) -> int:
    """A count of lines to print, 1 to 10,000 (argparse names the option when refused)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if not 1 <= value <= 10_000:
        raise argparse.ArgumentTypeError("expected 1 to 10000")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="otklik", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="run the bot, its scheduler and its HTTP API")
    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    db_commands.add_parser("migrate", help="apply pending migrations")
    db_commands.add_parser(
        "rebuild-rollups", help="recompute the report rollups from the stored answers"
    )
    db_copy = db_commands.add_parser(
        "copy",
        help="copy every row of one database into another, empty one"
        " (e.g. SQLite to PostgreSQL); the target is migrated first",
    )
    for flag, dest in (("--from", "source"), ("--to", "target")):
        db_copy.add_argument(
            flag, dest=dest, required=True, help="sqlite:///... or postgresql://..."
        )
    db_copy.add_argument("--batch-size", type=int, default=1000, help="rows per insert batch")
    visits = commands.add_parser("visits", help="visits")
    visits_commands = visits.add_subparsers(dest="visits_command", required=True)
    visits_import = visits_commands.add_parser(
        "import",
        help="register visits from a CSV file (columns: visit_id, telegram_id | phone | "
        "external_id, visited_at, location, staff, touchpoint)",
    )
    visits_import.add_argument("file", type=Path)
    customers = commands.add_parser("customers", help="CRM customers")
    customers_commands = customers.add_subparsers(dest="customers_command", required=True)
    customers_import = customers_commands.add_parser(
        "import",
        help="upsert customers from a CSV file (columns: external_id, phone, name, "
        "language, customer_since)",
    )
    customers_import.add_argument("file", type=Path)
    locations = commands.add_parser("locations", help="the chain's catalogue of locations")
    locations_commands = locations.add_subparsers(dest="locations_command", required=True)
    locations_import = locations_commands.add_parser(
        "import",
        help="create or update locations (and their regions) from a CSV file (columns: code, "
        "name, time_zone, manager_chat_id, region, mon..sun, region_name, "
        "region_manager_chat_id); one bad row imports nothing",
    )
    locations_import.add_argument("file", type=Path)
    export = commands.add_parser("export", help="write the responses of a period as CSV")
    export.add_argument("--period", default="", help="7d, 30d, 2026-10, 2026-10-01..2026-10-31")
    export.add_argument("--output", type=Path, default=None, help="file (default: stdout)")
    export.add_argument(
        "--cases", action="store_true", help="the cases instead, one row each with its timings"
    )
    anniversaries = commands.add_parser(
        "anniversaries", help="a day's anniversary thank-yous: show them, or queue them"
    )
    anniversaries.add_argument(
        "--date", type=date.fromisoformat, default=None, help="YYYY-MM-DD (default: today)"
    )
    anniversaries_mode = anniversaries.add_mutually_exclusive_group(required=True)
    anniversaries_mode.add_argument("--dry-run", action="store_true", help="only show the plan")
    anniversaries_mode.add_argument(
        "--send", action="store_true", help="queue them; the running bot delivers"
    )
    topics_cli.add_parser(commands)
    webhooks = commands.add_parser("webhooks", help="outgoing webhooks")
    webhooks_commands = webhooks.add_subparsers(dest="webhooks_command", required=True)
    webhooks_log = webhooks_commands.add_parser(
        "log", help="the newest deliveries: delivered, waiting, or failed with the reason"
    )
    webhooks_log.add_argument("--name", default=None, help="only this endpoint's")
    webhooks_log.add_argument(
        "--status", default=None, choices=["pending", "sending", "delivered", "failed"]
    )
    webhooks_log.add_argument(
        "--limit", type=_lines, default=50, help="lines, 1 to 10000 (default 50)"
    )
    webhooks_test = webhooks_commands.add_parser(
        "test", help="send a signed webhook.ping to the endpoint NAME now"
    )
    webhooks_test.add_argument("name")
    demo_cli.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "db" and args.db_command == "copy":
        # Both databases are named on the command line: no bot settings needed.
        from bot.cli.db import copy_command

        return asyncio.run(copy_command(args.source, args.target, args.batch_size))
    if args.command == "topics" and args.topics_command == "classify":
        return topics_cli.classify_cli(args)  # needs no bot settings
    if args.command == "demo":
        return demo_cli.demo_cli(args)  # its own settings: no token, no .env
    try:
        settings = load_settings()
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 2
    setup_logging(settings.log_level, settings.log_secrets, settings.log_format)
    try:
        return asyncio.run(_dispatch(args, settings))
    except KeyboardInterrupt:
        return 130


async def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "run":
        from bot.cli.run import run

        return await run(settings)
    if args.command == "export":
        from bot.cli.reports import export_responses

        return await export_responses(settings, args.period, args.output, cases=args.cases)
    if args.command == "db" and args.db_command == "rebuild-rollups":
        from bot.cli.reports import rebuild

        return await rebuild(settings)
    if args.command == "db":
        db = create_database(settings.database_url)
        await db.connect()
        try:
            applied = await migrate(db)
        finally:
            await db.close()
        print(f"applied migrations: {applied or 'none (up to date)'}")
        return 0
    if args.command == "topics":
        return await topics_cli.reclassify_cli(settings, args.batch_size)
    if args.command == "locations":
        from bot.cli.locations import import_locations

        return await import_locations(settings, args.file)
    if args.command == "visits":
        from bot.cli.imports import import_visits

        return await import_visits(settings, args.file)
    if args.command == "webhooks":
        from bot.cli.webhooks import webhooks_log, webhooks_test

        if args.webhooks_command == "test":
            return await webhooks_test(settings, args.name)
        return await webhooks_log(settings, name=args.name, status=args.status, limit=args.limit)
    if args.command == "anniversaries":
        from bot.cli.anniversaries import anniversaries_cli

        print(await anniversaries_cli(settings, args.date, send=args.send))
        return 0
    from bot.cli.imports import import_customers

    return await import_customers(settings, args.file)
