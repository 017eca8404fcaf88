"""The HTTP API for tills, CRMs and monitors: validation here, decisions in services."""

from __future__ import annotations

import hmac
import json
import logging
from datetime import datetime
from typing import Annotated, Any, Literal

from aiohttp import web
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SkipValidation,
    ValidationError,
    field_validator,
    model_validator,
)

from bot.api.keys import API_TOKEN_KEY, BATCH_BODY_KEY, METRICS_TOKEN_KEY, SERVICES_KEY
from bot.api.metrics import METRICS_PATH
from bot.api.openapi import OPENAPI_PATH, Answer, documented
from bot.core.bounds import (
    MAX_BATCH_VISITS,
    NO_CONTROL_MESSAGE,
    JsonAwareDatetime,
    JsonDate,
    Key,
    TelegramUserId,
    Text,
)
from bot.customers.service import CustomerService
from bot.visits.service import VISITED_AT_BOUNDS, VisitError, VisitRequest, VisitService
from storage.customers import CrmCustomer, PhoneTaken, normalize_phone

logger = logging.getLogger(__name__)

# Deeper than any body of ours or update of Telegram's; far below the parser's recursion.
MAX_JSON_DEPTH = 64


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _one_of(names: tuple[str, ...]) -> dict[str, Any]:
    """JSON Schema for "exactly one of `names` is given and not null"."""
    return {
        "oneOf": [
            {
                "required": [name],
                "properties": {
                    other: {"not": {"type": "null"}} if other == name else {"type": "null"}
                    for other in names
                },
            }
            for name in names
        ]
    }


class CustomerRef(_Strict):
    model_config = ConfigDict(json_schema_extra=_one_of(("telegram_id", "phone", "external_id")))

    telegram_id: TelegramUserId | None = None
    phone: Text | None = None
    external_id: Key | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> CustomerRef:
        given = [v for v in (self.telegram_id, self.phone, self.external_id) if v is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of telegram_id, phone, external_id")
        if self.phone is not None and normalize_phone(self.phone) is None:
            raise ValueError("phone: expected an international number such as +79161234567")
        return self


class VisitBody(_Strict):
    visit_id: Key
    customer: CustomerRef
    visited_at: JsonAwareDatetime | None = Field(
        default=None, description=f"with a UTC offset; {VISITED_AT_BOUNDS}; default: now"
    )
    location: Text = ""
    staff: Text = ""
    touchpoint: Text = ""


class VisitBatchBody(_Strict):
    visits: Annotated[
        # Not validated with the envelope: each item is checked alone, and one that is
        # not a VisitBody is answered with an error in its place (the document says so).
        list[SkipValidation[VisitBody | Any]],
        Field(
            min_length=1,
            max_length=MAX_BATCH_VISITS,
            description=(
                "each as the body of POST /api/v1/visits; an item that is not one is"
                " answered in its place with an error naming its index and field, and"
                " the others are registered"
            ),
        ),
    ]


class CustomerBody(_Strict):
    external_id: Key
    phone: Text | None = None
    name: Text | None = None
    language: Literal["ru", "uk", "en"] | None = None
    customer_since: JsonDate | None = None

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        if value is None:
            return None
        normalized = normalize_phone(value)
        if normalized is None:
            raise ValueError("expected an international number such as +79161234567")
        return normalized


class VisitAnswer(BaseModel):
    """The visit's outcome: a survey scheduled (when) or skipped (why)."""

    ok: Literal[True]
    visit_id: int
    status: Literal["scheduled", "skipped"]
    reason: (
        Literal[
            "unknown_customer",
            "not_linked",
            "opted_out",
            "unreachable",
            "too_old",
            "cooldown",
            "quiet_hours",
        ]
        | None
    )
    survey_id: int | None
    due_at: datetime | None
    duplicate: bool = Field(description="true when this visit_id was reported before")


class VisitRefusal(BaseModel):
    """One item of a batch refused (nothing of it stored): `field` names it, as
    visits.<index>.<field>."""

    ok: Literal[False]
    index: int
    error: str
    field: str


class VisitBatchAnswer(BaseModel):
    """Each visit's outcome, in the order given: as POST /api/v1/visits answers it
    (a visit_id reported before, or earlier in the batch: that outcome, duplicate),
    or a refusal of that item alone."""

    ok: Literal[True]
    results: list[VisitAnswer | VisitRefusal]


class CustomerAnswer(BaseModel):
    """The CRM customer, with their personal deep link (null until the bot knows its name)."""

    ok: Literal[True]
    customer_id: int
    created: bool
    linked: bool
    start_link: str | None


class HealthAnswer(BaseModel):
    """The database answers; the outbox's rows by status, the bot, the instance."""

    model_config = ConfigDict(extra="allow")

    ok: bool
    outbox: dict[str, int] | None = None
    bot: str | None = None
    instance: str | None = None


def error_response(status: int, message: str, field: str | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error": message}
    if field:
        body["field"] = field
    return web.json_response(body, status=status)


def _first_error(error: ValidationError) -> tuple[str | None, str]:
    """The field (dotted path) and what is wrong with it, of the first error."""
    first = error.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or None
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        message = "unknown field"
    elif first["type"] == "missing":
        message = "is required"
    elif first["type"] == "string_pattern_mismatch":  # the only pattern: bounds.Text/Key
        message = NO_CONTROL_MESSAGE
    return field, message


def validation_error(error: ValidationError) -> web.Response:
    field, message = _first_error(error)
    return error_response(400, f"{field}: {message}" if field else message, field)


async def json_body(
    request: web.Request, max_bytes: int | None = None
) -> dict[str, Any] | web.Response:
    """The request's JSON object, or the 4xx answer; `max_bytes` replaces the app's
    API_MAX_BODY_BYTES."""
    if request.content_type != "application/json":
        return error_response(415, "expected Content-Type: application/json")
    if max_bytes is not None:
        request = request.clone(client_max_size=max_bytes)
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        return error_response(413, "body too large")
    body = decode_json_object(raw)
    return error_response(400, body) if isinstance(body, str) else body


class _Refused(ValueError):
    """Valid JSON for Python's parser that we refuse anyway (the message says why)."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # The last of two equal keys silently wins in json.loads: a sender's bug, or an
    # attempt to slip one value past a proxy that reads the first.
    body: dict[str, Any] = {}
    for key, value in pairs:
        if key in body:
            raise _Refused(f"duplicate key {key!r}")
        body[key] = value
    return body


def _no_constant(name: str) -> Any:
    raise _Refused(f"{name} is not a JSON number")


def _too_deep(value: Any, limit: int) -> bool:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def decode_json_object(raw: bytes) -> dict[str, Any] | str:
    """The JSON object in a request body, or what is wrong with it (for a 400):
    duplicate keys, NaN/Infinity, numbers over 4,300 digits and nesting deeper than
    MAX_JSON_DEPTH are refused, not guessed at."""
    try:
        body = json.loads(raw, object_pairs_hook=_unique_keys, parse_constant=_no_constant)
    except _Refused as error:
        return f"malformed JSON: {error}"
    except RecursionError:
        return f"malformed JSON: nested deeper than {MAX_JSON_DEPTH} levels"
    except ValueError:  # also UnicodeDecodeError, and ints past sys.get_int_max_str_digits
        return "malformed JSON"
    if not isinstance(body, dict):
        return "expected a JSON object"
    if _too_deep(body, MAX_JSON_DEPTH):
        return f"malformed JSON: nested deeper than {MAX_JSON_DEPTH} levels"
    return body


def _bearer_is_one_of(request: web.Request, tokens: tuple[str, ...]) -> bool:
    """The request's bearer token is one of `tokens` (an empty one matches nothing)."""
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer":
        return False
    # Every token is compared, each in constant time.
    matches = [hmac.compare_digest(given.strip().encode(), t.encode()) for t in tokens if t]
    return any(matches)


@web.middleware
async def auth_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    """Bearer API_TOKEN on /api/; on /metrics, API_TOKEN or METRICS_TOKEN. Compared in
    constant time, never logged."""
    if request.path == METRICS_PATH:
        tokens = (request.app[API_TOKEN_KEY], request.app[METRICS_TOKEN_KEY])
        if not _bearer_is_one_of(request, tokens):
            return error_response(401, "missing or wrong token (API_TOKEN or METRICS_TOKEN)")
    elif (
        request.path.startswith("/api/")
        and request.path != OPENAPI_PATH
        and not _bearer_is_one_of(request, (request.app[API_TOKEN_KEY],))
    ):
        return error_response(401, "missing or wrong API token")
    try:
        response: web.StreamResponse = await handler(request)
    except web.HTTPRequestEntityTooLarge:
        return error_response(413, "body too large")
    return response


@documented(
    "Report a visit",
    {201: VisitAnswer, 200: Answer("a visit_id reported before: its outcome", VisitAnswer)},
    body=VisitBody,
)
async def post_visit(request: web.Request) -> web.Response:
    """Report a visit; the answer says whether a survey was scheduled, when, or why not."""
    body = await json_body(request)
    if isinstance(body, web.Response):
        return body
    try:
        visit = VisitBody.model_validate(body)
    except ValidationError as error:
        return validation_error(error)
    visits: VisitService = request.app[SERVICES_KEY].visits
    try:
        outcome = await visits.register(_visit_request(visit))
    except VisitError as error:
        return error_response(400, str(error), error.field)
    status = 200 if outcome.duplicate else 201
    return web.json_response({"ok": True, **outcome.as_dict()}, status=status)


@documented(
    "Report up to 1,000 visits at once",
    {200: VisitBatchAnswer},
    body=VisitBatchBody,
)
async def post_visits_batch(request: web.Request) -> web.Response:
    """Report 1 to 1,000 visits in one transaction; the answer has each one's outcome in
    order. A bad item is refused in its place (its index and field named) without
    failing the others; a bad envelope (not a JSON object, `visits` missing or not a
    list of 1 to 1,000, a body over API_MAX_BATCH_BODY_BYTES) is refused whole."""
    body = await json_body(request, request.app[BATCH_BODY_KEY])
    if isinstance(body, web.Response):
        return body
    try:
        batch = VisitBatchBody.model_validate(body)
    except ValidationError as error:
        return validation_error(error)
    parsed: list[VisitRequest | VisitError] = []
    for item in batch.visits:
        if not isinstance(item, dict):
            parsed.append(VisitError("", "expected a JSON object"))
            continue
        try:
            parsed.append(_visit_request(VisitBody.model_validate(item)))
        except ValidationError as error:
            field, message = _first_error(error)
            parsed.append(VisitError(field or "", message))
    visits: VisitService = request.app[SERVICES_KEY].visits
    outcomes = await visits.register_many(parsed)
    results: list[dict[str, object]] = []
    for index, outcome in enumerate(outcomes):
        if isinstance(outcome, VisitError):
            field = ".".join(part for part in ("visits", str(index), outcome.field) if part)
            message = f"{field}: {outcome.detail}"
            results.append({"ok": False, "index": index, "error": message, "field": field})
        else:
            results.append({"ok": True, **outcome.as_dict()})
    return web.json_response({"ok": True, "results": results})


def _visit_request(visit: VisitBody) -> VisitRequest:
    return VisitRequest(
        visit_key=visit.visit_id,
        telegram_id=visit.customer.telegram_id,
        phone=visit.customer.phone,
        external_id=visit.customer.external_id,
        visited_at=visit.visited_at,
        location=visit.location,
        staff=visit.staff,
        touchpoint=visit.touchpoint,
        source="api",
    )


@documented(
    "Create or update a CRM customer",
    {
        201: Answer("created", CustomerAnswer),
        200: Answer("updated", CustomerAnswer),
        409: "the phone is another customer's",
    },
    body=CustomerBody,
)
async def post_customer(request: web.Request) -> web.Response:
    """Create or update a CRM customer; the answer carries their personal deep link."""
    body = await json_body(request)
    if isinstance(body, web.Response):
        return body
    try:
        customer = CustomerBody.model_validate(body)
    except ValidationError as error:
        return validation_error(error)
    accounts: CustomerService = request.app[SERVICES_KEY].accounts
    try:
        stored, created = await accounts.upsert_crm(
            CrmCustomer(
                external_id=customer.external_id,
                phone=customer.phone,
                name=customer.name,
                language=customer.language,
                customer_since=customer.customer_since.isoformat()
                if customer.customer_since
                else None,
            )
        )
    except PhoneTaken as error:
        return error_response(409, str(error), "phone")
    username = request.app[SERVICES_KEY].bot_username
    link = f"https://t.me/{username}?start=c_{stored.link_token}" if username else None
    return web.json_response(
        {
            "ok": True,
            "customer_id": stored.id,
            "created": created,
            "linked": stored.telegram_id is not None,
            "start_link": link,
        },
        status=201 if created else 200,
    )


@documented(
    "Health, for monitors (no token needed)",
    {200: HealthAnswer, 503: Answer("the database does not answer", HealthAnswer)},
    auth=False,
    tag="operations",
)
async def healthz(request: web.Request) -> web.Response:
    """For monitors: the database answers and the delivery loop is alive."""
    services = request.app[SERVICES_KEY]
    try:
        health = await services.health()
    except Exception:
        logger.exception("healthz: check failed")
        return web.json_response({"ok": False}, status=503)
    return web.json_response({"ok": True, **health})


def add_routes(app: web.Application) -> None:
    app.router.add_post("/api/v1/visits", post_visit)
    app.router.add_post("/api/v1/visits:batch", post_visits_batch)
    app.router.add_post("/api/v1/customers", post_customer)
    app.router.add_get("/healthz", healthz)
