"""`otklik visits import` and `otklik customers import`: CSV files through the same
services as the HTTP API."""

from __future__ import annotations

import csv
import sys
from collections import Counter
from datetime import date, datetime
from pathlib import Path

from bot.config import Settings
from bot.core.bounds import MAX_BATCH_VISITS
from bot.core.clock import SystemClock
from bot.core.policy import SurveyPolicy
from bot.customers.service import CustomerService
from bot.visits.service import VisitError, VisitRequest, VisitService
from storage.customers import CrmCustomer, PhoneTaken, normalize_phone
from storage.db import create_database, migrate


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
    service = VisitService(
        db,
        SystemClock(),
        SurveyPolicy.from_settings(settings),
        refuse_unknown_locations=settings.unknown_locations == "refuse",
    )
    summary: Counter[str] = Counter()
    rows = _rows(path)
    try:
        # As POST /api/v1/visits:batch does: each chunk one transaction, rows in order.
        for start in range(0, len(rows), MAX_BATCH_VISITS):
            requests: list[VisitRequest | VisitError] = []
            for row in rows[start : start + MAX_BATCH_VISITS]:
                try:
                    requests.append(visit_request(row))
                except VisitError as error:
                    requests.append(error)
            outcomes = await service.register_many(requests)
            for number, outcome in enumerate(outcomes, start=start + 2):
                if isinstance(outcome, VisitError):
                    print(f"line {number}: error: {outcome}", file=sys.stderr)
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
            try:
                _, created = await service.upsert_crm(record)
            except PhoneTaken as error:
                print(f"line {number}: error: {error}", file=sys.stderr)
                summary["error"] += 1
                continue
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
