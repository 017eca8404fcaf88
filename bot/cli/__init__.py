"""`otklik` on the command line: run the bot, migrate, import visits and customers."""

from __future__ import annotations

import argparse
import asyncio
import csv
import signal
import sys
from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path

from bot.config import ConfigError, Settings, load_settings
from bot.core.clock import SystemClock
from bot.core.policy import SurveyPolicy
from bot.customers.service import CustomerService
from bot.logging_setup import setup_logging
from bot.visits.service import VisitError, VisitRequest, VisitService
from storage.customers import CrmCustomer, normalize_phone
from storage.db import create_database, migrate


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
    export = commands.add_parser("export", help="write the responses of a period as CSV")
    export.add_argument("--period", default="", help="7d, 30d, 2026-10, 2026-10-01..2026-10-31")
    export.add_argument("--output", type=Path, default=None, help="file (default: stdout)")
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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "db" and args.db_command == "copy":
        # Both databases are named on the command line: no bot settings needed.
        from bot.cli.db import copy_command

        return asyncio.run(copy_command(args.source, args.target, args.batch_size))
    try:
        settings = load_settings()
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 2
    setup_logging(
        settings.log_level,
        [
            settings.bot_token.get_secret_value(),
            settings.api_token.get_secret_value(),
            settings.webhook_secret_token,
        ],
    )
    try:
        return asyncio.run(_dispatch(args, settings))
    except KeyboardInterrupt:
        return 130


async def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "run":
        return await run(settings)
    if args.command == "export":
        from bot.cli.reports import export_responses

        return await export_responses(settings, args.period, args.output)
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
    if args.command == "visits":
        return await import_visits(settings, args.file)
    if args.command == "anniversaries":
        from bot.anniversaries.outbox import anniversaries_cli

        print(await anniversaries_cli(settings, args.date, send=args.send))
        return 0
    return await import_customers(settings, args.file)


async def run(settings: Settings) -> int:
    from bot.app import Otklik, StartupError

    app = Otklik(settings)
    try:
        await app.start()
    except StartupError as error:
        print(f"otklik: {error}", file=sys.stderr)
        return 1
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        await app.stop()
    return 0


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return [
            {key.strip(): (value or "").strip() for key, value in row.items() if key}
            for row in csv.DictReader(handle)
        ]


def visit_request(row: dict[str, str]) -> VisitRequest:
    """One CSV row as a visit; raises VisitError naming the bad column."""
    if not row.get("visit_id"):
        raise VisitError("visit_id", "is required")
    telegram_id = None
    if row.get("telegram_id"):
        try:
            telegram_id = int(row["telegram_id"])
        except ValueError:
            raise VisitError("telegram_id", "expected a whole number") from None
    if row.get("phone") and normalize_phone(row["phone"]) is None:
        raise VisitError("phone", "expected an international number")
    if not (telegram_id or row.get("phone") or row.get("external_id")):
        raise VisitError("customer", "give telegram_id, phone or external_id")
    visited_at = None
    if row.get("visited_at"):
        try:
            visited_at = datetime.fromisoformat(row["visited_at"])
        except ValueError:
            raise VisitError("visited_at", "expected ISO 8601 with offset") from None
    return VisitRequest(
        visit_key=row["visit_id"],
        telegram_id=telegram_id,
        phone=row.get("phone") or None,
        external_id=row.get("external_id") or None,
        visited_at=visited_at,
        location=row.get("location", ""),
        staff=row.get("staff", ""),
        touchpoint=row.get("touchpoint", ""),
        source="csv",
    )


async def import_visits(settings: Settings, path: Path) -> int:
    """Register each row like POST /api/v1/visits; a running bot sends the surveys."""
    db = create_database(settings.database_url)
    await db.connect()
    await migrate(db)
    service = VisitService(db, SystemClock(), SurveyPolicy.from_settings(settings))
    summary: Counter[str] = Counter()
    try:
        for number, row in enumerate(_rows(path), start=2):
            try:
                outcome = await service.register(visit_request(row))
            except VisitError as error:
                print(f"line {number}: error: {error}", file=sys.stderr)
                summary["error"] += 1
                continue
            label = outcome.status if outcome.reason is None else f"skipped:{outcome.reason}"
            summary["duplicate" if outcome.duplicate else label] += 1
    finally:
        await db.close()
    print(", ".join(f"{key}: {count}" for key, count in sorted(summary.items())) or "no rows")
    return 1 if summary["error"] else 0


async def import_customers(settings: Settings, path: Path) -> int:
    db = create_database(settings.database_url)
    await db.connect()
    await migrate(db)
    service = CustomerService(db, SystemClock())
    summary: Counter[str] = Counter()
    try:
        for number, row in enumerate(_rows(path), start=2):
            try:
                record = crm_record(row)
            except ValueError as error:
                print(f"line {number}: error: {error}", file=sys.stderr)
                summary["error"] += 1
                continue
            _, created = await service.upsert_crm(record)
            summary["created" if created else "updated"] += 1
    finally:
        await db.close()
    print(", ".join(f"{key}: {count}" for key, count in sorted(summary.items())) or "no rows")
    return 1 if summary["error"] else 0


def crm_record(row: dict[str, str]) -> CrmCustomer:
    if not row.get("external_id"):
        raise ValueError("external_id: is required")
    phone = None
    if row.get("phone"):
        phone = normalize_phone(row["phone"])
        if phone is None:
            raise ValueError("phone: expected an international number")
    since = None
    if row.get("customer_since"):
        try:
            since = date.fromisoformat(row["customer_since"]).isoformat()
        except ValueError:
            raise ValueError("customer_since: expected YYYY-MM-DD") from None
    language = row.get("language") or None
    if language is not None and language not in ("ru", "uk", "en"):
        raise ValueError("language: expected ru, uk or en")
    return CrmCustomer(row["external_id"], phone, row.get("name") or None, language, since)
