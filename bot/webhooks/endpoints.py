"""Webhook endpoints: what a valid one is, and managing them (the API, the WEBHOOKS
setting, the CLI). Every refusal names the field; none quotes a secret."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, StrictStr, ValidationError

from bot.core.clock import Clock, to_ms
from bot.webhooks.events import EVENTS, Event
from bot.webhooks.signing import BadSecret, generate_secret, secret_key
from storage import webhooks as repo
from storage.db import Database
from storage.webhooks import DeliveryStatus, Endpoint

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
NAME = re.compile(NAME_PATTERN)
MAX_URL_LENGTH = 2000
# No whitespace nor control characters (the document states it; check_url enforces it).
URL_PATTERN = r"^[^\s\x00-\x1f\x7f]+$"
SECRET_PATTERN = r"^whsec_[A-Za-z0-9+/]+={0,2}$"


class WebhookError(ValueError):
    """A refused endpoint: `field` names what is wrong (for the API's 400)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class EndpointBody(BaseModel):
    """PUT /api/v1/webhooks/{name}: the URL, the secret (generated when omitted) and the
    events (every one when omitted)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    url: Annotated[
        StrictStr,
        Field(
            min_length=1,
            max_length=MAX_URL_LENGTH,
            pattern=URL_PATTERN,
            description="https://...; plain http only to a loopback address"
            " (127.0.0.1, ::1, localhost) unless WEBHOOK_ALLOW_HTTP=true",
        ),
    ]
    secret: (
        Annotated[
            StrictStr,
            Field(
                min_length=10,
                max_length=200,
                pattern=SECRET_PATTERN,
                description="whsec_ and the base64 of a 24-64 byte key; omitted: one is"
                " generated (for a new endpoint) or the current one kept",
            ),
        ]
        | None
    ) = None
    events: (
        Annotated[
            list[Event],
            Field(
                min_length=1,
                max_length=len(EVENTS),
                json_schema_extra={"uniqueItems": True},
                description="the events to send; omitted: every event",
            ),
        ]
        | None
    ) = None


def check_name(name: str) -> str:
    if not NAME.match(name):
        raise WebhookError("name", "expected 1-64 letters, digits, _ . - (starting with one)")
    return name


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str, *, allow_http: bool) -> str:
    """An https URL, or http to a loopback address (or anywhere with WEBHOOK_ALLOW_HTTP)."""
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise WebhookError("url", "must not contain spaces or control characters")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- a port out of range raises here
    except ValueError:
        raise WebhookError("url", "not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookError("url", "expected an https:// URL with a host")
    if parts.scheme == "http" and not allow_http and not is_loopback(parts.hostname):
        raise WebhookError(
            "url",
            "plain http is allowed only to a loopback address (or with WEBHOOK_ALLOW_HTTP=true)",
        )
    return url


def check_events(events: list[Event] | None) -> tuple[str, ...] | None:
    if events is None:
        return None
    for index, event in enumerate(events):
        if events.index(event) != index:
            raise WebhookError(f"events.{index}", "listed twice")
    return tuple(event.value for event in events)


def check_secret(secret: str | None) -> str | None:
    if secret is None:
        return None
    try:
        secret_key(secret)
    except BadSecret as error:
        raise WebhookError("secret", str(error)) from None
    return secret


@dataclass(frozen=True, slots=True)
class EndpointFields:
    url: str
    secret: str | None
    events: tuple[str, ...] | None


def parse_endpoint(body: Any, *, allow_http: bool) -> EndpointFields:
    """A PUT body (or one WEBHOOKS entry) checked whole; WebhookError names the field."""
    try:
        parsed = EndpointBody.model_validate(body)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "body"
        message = first["msg"].removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            message = "unknown field"
        elif first["type"] == "missing":
            message = "is required"
        elif first["type"] == "model_type":
            message = "expected a JSON object"
        raise WebhookError(field, message) from None
    return EndpointFields(
        url=check_url(parsed.url, allow_http=allow_http),
        secret=check_secret(parsed.secret),
        events=check_events(parsed.events),
    )


def endpoint_to_dict(endpoint: Endpoint, counts: dict[str, int] | None = None) -> dict[str, Any]:
    """What the API shows of an endpoint: never its secret."""
    return {
        "name": endpoint.name,
        "url": endpoint.url,
        "events": list(endpoint.events) if endpoint.events is not None else None,
        "created_at": repo.iso_ms(endpoint.created_at),
        "updated_at": repo.iso_ms(endpoint.updated_at),
        "deliveries": {status.value: (counts or {}).get(status, 0) for status in DeliveryStatus},
    }


@dataclass(frozen=True, slots=True)
class PutResult:
    created: bool
    endpoint: Endpoint
    # The secret generated for a new endpoint: the only time it is shown.
    generated_secret: str | None


class WebhookService:
    """Endpoints and the delivery log, for the API, the CLI and /metrics."""

    def __init__(self, db: Database, clock: Clock, *, allow_http: bool = False) -> None:
        self._db = db
        self._clock = clock
        self.allow_http = allow_http

    async def put(self, name: str, body: Any) -> PutResult:
        """Create or replace an endpoint. Replacing without a secret keeps its secret."""
        check_name(name)
        fields = parse_endpoint(body, allow_http=self.allow_http)
        generated = generate_secret()
        async with self._db.transaction() as conn:
            created = await repo.put_endpoint(
                conn,
                name,
                url=fields.url,
                secret=fields.secret,
                new_secret=generated,
                events=fields.events,
                now=to_ms(self._clock.now()),
            )
            endpoint = await repo.get_endpoint(conn, name)
        assert endpoint is not None
        shown = generated if created and fields.secret is None else None
        return PutResult(created, endpoint, shown)

    async def seed(self, entries: dict[str, Any]) -> None:
        """The WEBHOOKS setting at start-up: each entry put as by the API (a secret is
        required there, so that every instance signs alike)."""
        for name, body in entries.items():
            try:
                check_name(name)
                if not isinstance(body, dict) or "secret" not in body:
                    raise WebhookError("secret", "is required in WEBHOOKS")
                await self.put(name, body)
            except WebhookError as error:
                raise WebhookError(f"{name}.{error.field}", error.message) from None

    async def all(self) -> list[tuple[Endpoint, dict[str, int]]]:
        async with self._db.read() as conn:
            found = await repo.endpoints(conn)
            counts = await repo.delivery_counts(conn)
        return [
            (e, {status: n for (name, status), n in counts.items() if name == e.name})
            for e in found
        ]

    async def get(self, name: str) -> Endpoint | None:
        async with self._db.read() as conn:
            return await repo.get_endpoint(conn, name)

    async def delete(self, name: str) -> bool:
        check_name(name)
        async with self._db.transaction() as conn:
            return await repo.delete_endpoint(conn, name, to_ms(self._clock.now()))

    async def delivery_counts(self) -> dict[tuple[str, str], int]:
        """{(endpoint, status): n}, status one of pending, sending, delivered, failed."""
        async with self._db.read() as conn:
            return await repo.delivery_counts(conn)

    async def log(
        self, *, endpoint: str | None = None, status: str | None = None, limit: int = 50
    ) -> list[repo.Delivery]:
        async with self._db.read() as conn:
            return await repo.log(conn, endpoint=endpoint, status=status, limit=limit)
