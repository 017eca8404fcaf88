"""Settings, read from the environment and `.env`; every bad value is named in one line."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
import socket
from datetime import time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

TELEGRAM_API_URL = "https://api.telegram.org"
MAX_SURVEY_DELAY_SECONDS = 20 * 60
SUPPORTED_LANGUAGES = ("en", "ru", "uk")

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def parse_duration(value: Any) -> timedelta:
    """Accept seconds (`90`), or a number with a unit (`30m`, `2h`, `1d`)."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        match = _DURATION.match(str(value))
        if not match:
            raise ValueError("expected a duration such as 90, 90s, 30m, 2h or 1d")
        seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if seconds < 0:
        raise ValueError("a duration cannot be negative")
    return timedelta(seconds=seconds)


# The questions a survey may ask (storage.models.SurveyStep names them alike).
SURVEY_STEP_NAMES = ("nps", "ces", "csat", "reason")
DEFAULT_SURVEY_STEPS = ("nps", "ces", "reason")
_STEPS_RULE = (
    "expected nps first, then ces and/or csat (each at most once, in either order),"
    " then reason, e.g. nps,ces,reason or nps,csat,reason or nps,ces,csat,reason"
)


def parse_survey_steps(value: Any) -> tuple[str, ...]:
    """SURVEY_STEPS: the NPS opens every survey (its score decides the case and the
    'why?' wording) and the reason closes it (what a manager acts on); CES and CSAT
    may be asked between them."""
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list | tuple):
        raise ValueError(_STEPS_RULE)
    steps = tuple(str(step).strip().lower() for step in value)
    unknown = [step for step in steps if step not in SURVEY_STEP_NAMES]
    if unknown:
        raise ValueError(f"unknown step {unknown[0]!r}; {_STEPS_RULE}")
    if (
        len(steps) < 2
        or steps[0] != "nps"
        or steps[-1] != "reason"
        or len(set(steps)) != len(steps)
    ):
        raise ValueError(_STEPS_RULE)
    return steps


def parse_clock(value: str) -> time:
    """Parse `HH:MM` into a time of day."""
    match = _CLOCK.match(value.strip())
    if not match:
        raise ValueError(f"expected HH:MM, got {value!r}")
    return time(int(match.group(1)), int(match.group(2)))


Duration = Annotated[timedelta, NoDecode]


def default_instance_id() -> str:
    """hostname-pid-random: unique per process even for containers sharing a hostname."""
    host = re.sub(r"[^\w.-]", "-", socket.gethostname())[:64] or "host"
    return f"{host}-{os.getpid()}-{secrets.token_hex(3)}"


def derive_webhook_secret(bot_token: str) -> str:
    """A webhook secret every instance computes alike from BOT_TOKEN (hex fits Telegram's
    A-Z a-z 0-9 _ - alphabet) and that does not reveal the token."""
    return hmac.new(bot_token.encode(), b"otklik webhook secret", hashlib.sha256).hexdigest()


class QuietHours:
    """A daily window such as 22:00-09:00 (it may cross midnight)."""

    def __init__(self, start: time, end: time) -> None:
        self.start = start
        self.end = end

    @classmethod
    def parse(cls, value: str) -> QuietHours:
        parts = value.split("-")
        if len(parts) != 2:
            raise ValueError(f"expected HH:MM-HH:MM, got {value!r}")
        start, end = parse_clock(parts[0]), parse_clock(parts[1])
        if start == end:
            raise ValueError("quiet hours must not start and end at the same minute")
        return cls(start, end)

    def contains(self, moment: time) -> bool:
        if self.start < self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end

    def __repr__(self) -> str:
        return f"QuietHours({self.start:%H:%M}-{self.end:%H:%M})"


class Settings(BaseSettings):
    """Everything an operator can set; `.env.example` documents each field."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        env_ignore_empty=True,
        extra="ignore",
        case_sensitive=False,
    )

    # Telegram
    bot_token: SecretStr
    telegram_api_url: str = TELEGRAM_API_URL
    manager_chat_id: int
    admin_ids: Annotated[tuple[int, ...], NoDecode] = ()
    escalation_chat_id: int | None = None

    # Storage and HTTP API
    database_url: str = "sqlite:///otklik.sqlite3"
    migrate_on_start: bool = True
    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8080, ge=0, le=65535)
    api_token: SecretStr
    api_max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    # A bearer token that opens GET /metrics only (API_TOKEN opens it too).
    metrics_token: SecretStr | None = None
    # POST /api/v1/visits:batch alone: up to 1,000 visits in one body.
    api_max_batch_body_bytes: int = Field(default=2 * 1024 * 1024, ge=1024)

    # The chain: a visit naming a location not in the catalogue is accepted (and
    # catalogued with no chat of its own) or refused with 400.
    unknown_locations: Literal["accept", "refuse"] = "accept"

    # Business and wording
    company_name: str = "Otklik"
    timezone: str = "UTC"
    default_language: str = "en"
    # The survey's questions in the business's own words: NPS_QUESTION (etc.) in every
    # language, NPS_QUESTION_RU (etc.) in one, which wins; unset = the built-in wording.
    nps_question: str | None = None
    nps_question_ru: str | None = None
    nps_question_uk: str | None = None
    nps_question_en: str | None = None
    ces_question: str | None = None
    ces_question_ru: str | None = None
    ces_question_uk: str | None = None
    ces_question_en: str | None = None
    csat_question: str | None = None
    csat_question_ru: str | None = None
    csat_question_uk: str | None = None
    csat_question_en: str | None = None
    # The business's own case reply templates (TOML; bot/cases/templates.py).
    templates_file: Path | None = None

    # Surveys: the steps asked, in order (nps first, reason last; ces and csat optional).
    survey_steps: Annotated[tuple[str, ...], NoDecode] = DEFAULT_SURVEY_STEPS
    survey_delay_seconds: int = Field(default=300, ge=0, le=MAX_SURVEY_DELAY_SECONDS)
    survey_cooldown_days: int = Field(default=30, ge=0)
    visit_max_age: Duration = timedelta(hours=2)
    reminder_after: Duration = timedelta(hours=2)
    survey_expires_after: Duration = timedelta(hours=24)
    quiet_hours: Annotated[QuietHours | None, NoDecode] = None
    # A visit whose survey quiet hours would push past VISIT_MAX_AGE is still asked when
    # they end ("How was your visit yesterday?") if it is no older than this then.
    quiet_hours_max_hold: Duration = timedelta(hours=14)

    # Delivery
    send_rate_per_second: float = Field(default=25, gt=0, le=1000)
    paid_broadcast: bool = False
    # Send outcomes are written in batches, at most this long after the first waits.
    outcome_flush_seconds: float = Field(default=0.05, gt=0, le=10)

    # Cases
    detractor_ces_max: int = Field(default=2, ge=0, le=7)
    case_take_sla_minutes: int = Field(default=30, ge=1)
    case_resolve_sla_hours: int = Field(default=48, ge=1)
    case_followup_days: int = Field(default=14, ge=0)
    # Alert bursts: fold waiting alerts into one message (see FoldPolicy).
    alert_fold_threshold: int = Field(default=3, ge=1)
    alert_fold_interval_seconds: int = Field(default=60, ge=0, le=3600)
    alert_fold_max_cases: int = Field(default=30, ge=2, le=40)

    # Reports
    min_sample: int = Field(default=80, ge=1)
    nps_drop_alert: int = Field(default=15, ge=1, le=200)
    digest_at: Annotated[str, NoDecode] = "mon 09:00"

    # Anniversaries
    anniversary_auto_send_at: Annotated[time | None, NoDecode] = None
    anniversary_text: str | None = None

    # Scale
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    redis_url: str | None = None
    instance_id: str = Field(default_factory=default_instance_id)
    instance_count: int = Field(default=1, ge=1, le=100)

    # The managers' dashboard (bot/dashboard): a Mini App at PUBLIC_URL/app/ (https).
    public_url: str | None = None
    dashboard_auth_max_age: Duration = timedelta(hours=1)
    dashboard_session_ttl: Duration = timedelta(hours=1)
    dashboard_member_cache: Duration = timedelta(minutes=5)
    # Outgoing webhooks (bot/webhooks/): endpoints put at start-up from a JSON object
    # {"name": {"url": ..., "secret": "whsec_...", "events": [...]}}, plain http beyond
    # loopback addresses, and each request's timeout.
    webhooks: Annotated[dict[str, Any], NoDecode] = Field(default_factory=dict)
    webhook_allow_http: bool = False
    webhook_timeout_seconds: float = Field(default=10, gt=0, le=60)

    log_level: str = "INFO"
    log_format: Literal["text", "json"] = "text"

    # Topics of the reasons: a file extending or replacing the built-in taxonomy
    # (README "What the reasons say"); unset = the built-in one.
    topics_file: Path | None = None

    @field_validator("topics_file")
    @classmethod
    def _topics_file(cls, value: Path | None) -> Path | None:
        return existing_file(value)

    @field_validator("survey_steps", mode="before")
    @classmethod
    def _survey_steps(cls, value: Any) -> tuple[str, ...]:
        return parse_survey_steps(value)

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: Any) -> Any:
        if isinstance(value, str):
            parts = [part.strip() for part in value.split(",") if part.strip()]
            try:
                return tuple(int(part) for part in parts)
            except ValueError:
                raise ValueError("expected comma-separated Telegram user ids") from None
        return value

    @field_validator(
        "visit_max_age",
        "reminder_after",
        "survey_expires_after",
        "quiet_hours_max_hold",
        "dashboard_auth_max_age",
        "dashboard_session_ttl",
        "dashboard_member_cache",
        mode="before",
    )
    @classmethod
    def _duration(cls, value: Any) -> timedelta:
        return parse_duration(value)

    @field_validator("quiet_hours", mode="before")
    @classmethod
    def _quiet_hours(cls, value: Any) -> QuietHours | None:
        if value is None or isinstance(value, QuietHours):
            return value
        if not str(value).strip():
            return None
        return QuietHours.parse(str(value))

    @field_validator("anniversary_auto_send_at", mode="before")
    @classmethod
    def _clock(cls, value: Any) -> time | None:
        if value is None or isinstance(value, time):
            return value
        return parse_clock(str(value)) if str(value).strip() else None

    @field_validator("digest_at", mode="before")
    @classmethod
    def _digest_at(cls, value: Any) -> str:
        text = str(value or "").strip().lower()
        if text:
            day, _, clock = text.partition(" ")
            if day not in _WEEKDAYS:
                raise ValueError("expected a weekday (mon..sun) and HH:MM, e.g. 'mon 09:00'")
            parse_clock(clock)
        return text

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @field_validator("templates_file")
    @classmethod
    def _existing_file(cls, value: Path | None) -> Path | None:
        # Its contents are checked when the bot is built (bot/cases/templates.py).
        if value is not None and not value.is_file():
            raise ValueError(f"no such file: {value}")
        return value

    @field_validator("default_language")
    @classmethod
    def _language(cls, value: str) -> str:
        if value not in SUPPORTED_LANGUAGES:
            raise ValueError(f"expected one of {', '.join(SUPPORTED_LANGUAGES)}")
        return value

    @field_validator("telegram_api_url", "webhook_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("expected an http(s) URL")
        return value.rstrip("/")

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        # Telegram opens Mini Apps only over https.
        if value is None or not value.strip():
            return None
        if not re.match(r"^https://[^\s/]+(/[^\s?#]*)?$", value.strip()):
            raise ValueError("expected the https base URL the bot is reachable at")
        return value.strip().rstrip("/")

    @field_validator("webhook_url")
    @classmethod
    def _webhook_path(cls, value: str | None) -> str | None:
        if value is None:
            return None
        path = urlsplit(value).path
        # The webhook shares the API's aiohttp app: /api/ wants a bearer token, /app/ is the
        # dashboard's.
        taken = path.startswith(("/api/", "/app/")) or path in ("/healthz", "/app")
        if not path or path == "/" or taken:
            raise ValueError(
                "expected a URL with its own path, e.g. https://bot.example.com/telegram/webhook"
                " (not /, /healthz, or under /api/ or the dashboard's /app/)"
            )
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _webhook_secret(cls, value: SecretStr | None) -> SecretStr | None:
        # Never echo the value: only its shape is checked.
        if value is not None and not re.match(r"^[A-Za-z0-9_-]{1,256}$", value.get_secret_value()):
            raise ValueError("expected 1-256 characters of A-Z, a-z, 0-9, _ and -")
        return value

    @field_validator("webhooks", mode="before")
    @classmethod
    def _webhooks(cls, value: Any) -> Any:
        # Never echo the value: it holds secrets. Each entry is checked at start-up.
        if isinstance(value, str):
            try:
                value = json.loads(value) if value.strip() else {}
            except json.JSONDecodeError:
                raise ValueError("expected a JSON object of endpoints by name") from None
        if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
            raise ValueError('expected a JSON object such as {"crm": {"url": ..., "secret": ...}}')
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("expected redis://host:6379/0, rediss://... or unix://...")
        return value

    @field_validator("log_format", mode="before")
    @classmethod
    def _log_format(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("instance_id")
    @classmethod
    def _instance_id(cls, value: str) -> str:
        if not re.match(r"^[\w.:@-]{1,128}$", value):
            raise ValueError("expected 1-128 characters of letters, digits, _ . : @ -")
        return value

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        if not value.startswith(("sqlite:///", "postgresql://", "postgres://")):
            raise ValueError("expected sqlite:///path or postgresql://...")
        return value

    @field_validator("bot_token")
    @classmethod
    def _token(cls, value: SecretStr) -> SecretStr:
        # Never echo the value: only its shape is checked.
        if not re.match(r"^\d+:[\w-]+$", value.get_secret_value()):
            raise ValueError("expected a token like 123456:ABC-DEF from @BotFather")
        return value

    @field_validator("api_token", "metrics_token")
    @classmethod
    def _api_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 16:
            raise ValueError("must be at least 16 characters long")
        return value

    @model_validator(mode="after")
    def _paid_rate(self) -> Settings:
        if self.send_rate_per_second > 30 and not self.paid_broadcast:
            raise ValueError(
                "SEND_RATE_PER_SECOND above 30 needs PAID_BROADCAST=true (Telegram's free limit)"
            )
        if self.telegram_api_url is None:
            self.telegram_api_url = TELEGRAM_API_URL
        return self

    @property
    def webhook_secret_token(self) -> str:
        """WEBHOOK_SECRET, or the secret derived from BOT_TOKEN when it is unset."""
        if self.webhook_secret is not None:
            return self.webhook_secret.get_secret_value()
        return derive_webhook_secret(self.bot_token.get_secret_value())

    @property
    def webhook_path(self) -> str | None:
        """Where the API app serves Telegram's POSTs (the path of WEBHOOK_URL)."""
        return urlsplit(self.webhook_url).path if self.webhook_url else None

    @property
    def webhook_seed_secrets(self) -> list[str]:
        """The secrets in WEBHOOKS, for the log filter."""
        return [str(entry["secret"]) for entry in self.webhooks.values() if entry.get("secret")]

    @property
    def log_secrets(self) -> list[str]:
        """Every secret the logs must never show (bot/logging_setup.py redacts them)."""
        return [
            self.bot_token.get_secret_value(),
            self.api_token.get_secret_value(),
            self.metrics_token.get_secret_value() if self.metrics_token else "",
            self.webhook_secret_token,
            *self.webhook_seed_secrets,
        ]

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def alert_escalation_chat_id(self) -> int:
        return (
            self.escalation_chat_id
            if self.escalation_chat_id is not None
            else (self.manager_chat_id)
        )


def existing_file(value: Path | None) -> Path | None:
    if value is not None and not value.is_file():
        raise ValueError(f"no such file: {value}")
    return value


class TopicsSettings(BaseSettings):
    """The one setting `otklik topics classify` reads: it runs without the bot's settings."""

    model_config = Settings.model_config
    topics_file: Path | None = None

    @field_validator("topics_file")
    @classmethod
    def _topics_file(cls, value: Path | None) -> Path | None:
        return existing_file(value)


def load_topics_settings() -> TopicsSettings:
    try:
        return TopicsSettings()
    except ValidationError as error:
        raise ConfigError(f"config error: {describe_errors(error)}") from None


class ConfigError(Exception):
    """A setting is missing or wrong; the message names it and never shows a secret."""


def describe_errors(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        name = ".".join(str(part) for part in item["loc"]).upper() or "SETTINGS"
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "missing":
            message = "is required but not set"
        lines.append(f"{name}: {message}")
    return "; ".join(lines)


def load_settings(**overrides: Any) -> Settings:
    """Build Settings, turning validation errors into one readable ConfigError."""
    try:
        return Settings(**overrides)
    except ValidationError as error:
        raise ConfigError(f"config error: {describe_errors(error)}") from None
