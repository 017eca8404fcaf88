"""The outbox's registry of renderers: each kind belongs to exactly one feature."""

from __future__ import annotations

import pytest

from bot.cases.alerts import ALERT_EDIT_KIND, ALERT_KIND, AlertRenderer
from bot.config import Settings
from bot.core.clock import SystemClock
from bot.i18n import load_translator
from bot.outbox.contracts import Outgoing, SendError, SendResult
from bot.outbox.registry import DuplicateKind, RendererRegistry
from bot.wiring import create_renderers
from storage.db import Connection, create_database
from storage.models import OutboxItem


class _Quiet:
    """A renderer that renders nothing."""

    async def render(self, item: OutboxItem) -> Outgoing | None:
        return None

    async def on_sent(self, conn: Connection, item: OutboxItem, result: SendResult) -> None:
        """Nothing to record."""

    async def on_failed(self, conn: Connection, item: OutboxItem, error: SendError) -> None:
        """Nothing to record."""


def test_a_kind_registered_twice_is_refused() -> None:
    registry = RendererRegistry()
    first = _Quiet()
    registry.register("alert", first)
    with pytest.raises(DuplicateKind, match="'alert' is registered twice"):
        registry.register_all({"survey": _Quiet(), "alert": _Quiet()})
    assert registry["alert"] is first
    assert "survey" in registry  # what came before the duplicate stays registered


def test_every_feature_registers_its_own_kinds_once(settings: Settings) -> None:
    """The real wiring builds without a duplicate, and the alert kinds are the cases'."""
    db = create_database(settings.database_url)
    registry = create_renderers(settings, db, SystemClock(), load_translator())
    assert isinstance(registry[ALERT_KIND], AlertRenderer)
    assert isinstance(registry[ALERT_EDIT_KIND], AlertRenderer)
    for kind in ("survey", "reminder", "survey_close", "case_card", "case_message"):
        assert kind in registry
