"""The dashboard's aiohttp app, mounted at /app/ on the bot's HTTP API app.

    dashboard = services.dashboard              # built by bot/wiring.py
    mount_dashboard(api_app, dashboard)         # what bot/app.py does
    # or, alone (otklik demo): root = web.Application(); mount_dashboard(root, dashboard)

The page at /app/ is a static shell; its script exchanges Telegram's initData (POST
/app/auth) or a one-time login link (POST /app/auth/link) for a bearer session kept in
page memory, then fetches the screens (/app/view/...) as server-rendered HTML. The auth
seam for other front doors (a demo login): `Dashboard.issue_session(viewer)` and
`Dashboard.login_link(viewer)`."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from importlib import resources
from pathlib import Path

from aiohttp import web

from bot.dashboard import views
from bot.dashboard.auth import AuthError, AuthFailure, Viewer
from bot.dashboard.facade import (
    DASHBOARD_KEY,
    PREFIX,
    SCOPE_KEY,
    VIEWER_KEY,
    Dashboard,
    forbidden,
    unauthorized,
)

logger = logging.getLogger(__name__)

# No inline scripts or styles, nothing from elsewhere; Telegram's web clients frame it.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
    " connect-src 'self'; form-action 'self'; base-uri 'none';"
    " frame-ancestors 'self' https://web.telegram.org https://*.telegram.org"
)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


STATIC_DIR = Path(str(resources.files("bot.dashboard").joinpath("static")))


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A strict CSP and friends on every answer of the dashboard, errors included."""
    try:
        response = await handler(request)
    except web.HTTPException as error:
        response = error
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    if not request.path.startswith(f"{PREFIX}static/"):
        response.headers["Cache-Control"] = "no-store"
    if isinstance(response, web.HTTPException) and response.status >= 400:
        raise response
    return response


@web.middleware
async def session_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The screens (view/...) want a live bearer session (401) and a viewer who may see
    something (403); they get `viewer` and `scope` in the request."""
    if not request.match_info.route.resource or not _is_view(request):
        return await handler(request)
    dashboard = request.app[DASHBOARD_KEY]
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return unauthorized(AuthFailure.MISSING)
    try:
        viewer = dashboard.sessions.open(token, dashboard.clock.now())
    except AuthError as error:
        return unauthorized(error.failure)
    scope = await dashboard.access.scope_for(viewer.user_id)
    if scope.empty:
        return forbidden()
    request[VIEWER_KEY] = viewer
    request[SCOPE_KEY] = scope
    return await handler(request)


def _is_view(request: web.Request) -> bool:
    return request.path.startswith(f"{PREFIX}view/")


async def _json(request: web.Request) -> dict[str, object]:
    try:
        body = json.loads(await request.read())
    except (ValueError, UnicodeDecodeError):
        return {}
    return body if isinstance(body, dict) else {}


async def _session_answer(dashboard: Dashboard, viewer: Viewer) -> web.Response:
    scope = await dashboard.access.scope_for(viewer.user_id)
    if scope.empty:
        return forbidden()
    return web.json_response(
        {
            "ok": True,
            "token": dashboard.issue_session(viewer),
            "language": viewer.language,
            "expires_in": int(dashboard.sessions.ttl.total_seconds()),
        }
    )


async def post_auth(request: web.Request) -> web.Response:
    """Telegram's raw initData -> a session (401 forged, stale or missing; 403 for a
    person who is neither an admin nor in a managers' chat)."""
    dashboard = request.app[DASHBOARD_KEY]
    raw = (await _json(request)).get("init_data")
    try:
        viewer = dashboard.check_init_data(raw if isinstance(raw, str) else "")
    except AuthError as error:
        return unauthorized(error.failure)
    return await _session_answer(dashboard, viewer)


async def post_login_link(request: web.Request) -> web.Response:
    """A one-time login link's token -> a session, once (401 when used or expired)."""
    dashboard = request.app[DASHBOARD_KEY]
    token = (await _json(request)).get("token")
    if not isinstance(token, str) or not token:
        return unauthorized(AuthFailure.MISSING)
    try:
        viewer = await dashboard.redeem_login(token)
    except AuthError as error:
        return unauthorized(error.failure)
    return await _session_answer(dashboard, viewer)


def create_dashboard_app(dashboard: Dashboard) -> web.Application:
    """The dashboard as an aiohttp app to mount at /app/ (see `mount_dashboard`)."""
    app = web.Application(middlewares=[security_headers, session_middleware])
    app[DASHBOARD_KEY] = dashboard
    app.router.add_get("/", views.shell)
    app.router.add_static("/static/", STATIC_DIR)
    app.router.add_post("/auth", post_auth)
    app.router.add_post("/auth/link", post_login_link)
    views.add_view_routes(app)
    return app


def mount_dashboard(app: web.Application, dashboard: Dashboard) -> None:
    """Serve the dashboard under /app/ of `app` (and /app redirects there)."""

    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPFound(PREFIX)

    app.router.add_get(PREFIX.rstrip("/"), redirect)
    app.add_subapp(PREFIX, create_dashboard_app(dashboard))
