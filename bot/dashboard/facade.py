"""`Dashboard`: everything the /app/ pages need, and the ways in (initData, a one-time
login link, or a session issued directly by another front door such as a demo)."""

from __future__ import annotations

from aiohttp import web

from bot.config import Settings
from bot.core.clock import Clock, to_ms
from bot.dashboard.access import DashboardAccess
from bot.dashboard.auth import (
    AuthError,
    AuthFailure,
    LoginLinks,
    Sessions,
    Viewer,
    verify_init_data,
)
from bot.dashboard.service import DashboardService
from bot.i18n import Translator
from bot.locations.routing import Scope
from storage import dashboard as queries
from storage.db import Database

PREFIX = "/app/"


class Dashboard:
    """Everything the /app/ pages need, and the ways in: initData, a login link, or a
    session issued directly (`issue_session`) by another front door."""

    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        db: Database,
        translator: Translator,
        access: DashboardAccess,
        service: DashboardService,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.db = db
        self.translator = translator
        self.access = access
        self.service = service
        token = settings.bot_token.get_secret_value()
        self._bot_token = token
        self.sessions = Sessions(token, settings.dashboard_session_ttl)
        self.links = LoginLinks(token)

    def issue_session(self, viewer: Viewer) -> str:
        """A bearer session for `viewer` (what a checked initData is exchanged for). What
        they see is decided per request by `access` (an admin in ADMIN_IDS: everything)."""
        return self.sessions.issue(viewer, self.clock.now())

    def login_link(self, viewer: Viewer) -> str:
        """The path and query of a one-time login link for a browser: /app/?login=...
        (valid LOGIN_LINK_TTL, single use). Prefix it with PUBLIC_URL or the demo's host."""
        return f"{PREFIX}?login={self.links.issue(viewer, self.clock.now())}"

    def check_init_data(self, raw: str) -> Viewer:
        return verify_init_data(
            raw,
            self._bot_token,
            self.clock.now(),
            self.settings.dashboard_auth_max_age,
            self.settings.default_language,
        )

    async def redeem_login(self, token: str) -> Viewer:
        """The viewer of a login link, once: AuthError USED the second time."""
        now = self.clock.now()
        ticket = self.links.open(token, now)
        async with self.db.transaction() as conn:
            first = await queries.use_login(
                conn,
                ticket.nonce,
                ticket.viewer.user_id,
                now=to_ms(now),
                expires_at=to_ms(ticket.expires),
            )
        if not first:
            raise AuthError(AuthFailure.USED)
        return ticket.viewer


DASHBOARD_KEY = web.AppKey("dashboard", Dashboard)
# Set by the session middleware for the screens: who is looking, and what they may see.
VIEWER_KEY = web.RequestKey("viewer", Viewer)
SCOPE_KEY = web.RequestKey("scope", Scope)


def unauthorized(failure: AuthFailure) -> web.Response:
    """401 and nothing else: no data for a forged, stale or missing credential."""
    return web.json_response({"ok": False, "error": failure.value}, status=401)


def forbidden() -> web.Response:
    return web.json_response({"ok": False, "error": "forbidden"}, status=403)
