"""`otklik demo` without the command line: a demo database built once (or reused), and
the managers' dashboard served on it with demo logins, never reaching Telegram.

    database = await prepare_database(Path("otklik-demo.sqlite3"), days=90)
    server = DemoServer(database, host="127.0.0.1", port=8080)
    await server.start()
    server.url(ADMIN)           # http://127.0.0.1:8080/demo/admin: logs the visitor in
    ...
    await server.stop()

The database is built under a temporary name and renamed when complete, then marked as
a demo (storage/demo.py) with the moment its story ends. Serving, the dashboard's clock
starts at that moment and runs on, so a database built last week still shows its 90
days as the last 90. A file that exists but is not a demo is refused, never replaced.

Who may look: the demo's admin (everything), and its branch managers, whose chats come
from the demo chain's roster instead of getChatMember. Each demo address
(`/demo/admin`, `/demo/manager`) answers with a redirect to a fresh one-time login link
(`Dashboard.login_link`), so it can be opened again and again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from aiohttp import web

from bot.config import SUPPORTED_LANGUAGES
from bot.core.clock import Clock, SystemClock
from bot.dashboard.access import DashboardAccess, Membership
from bot.dashboard.app import mount_dashboard
from bot.dashboard.auth import Viewer
from bot.demo.build import NoTelegram, demo_settings, generate
from bot.demo.chain import BRANCHES, DEMO_ADMIN_ID, DEMO_ADMIN_NAME, Branch
from bot.demo.live import LiveSummary
from bot.demo.plan import Scale
from bot.wiring import Services, build_services
from storage import demo as marks
from storage.db import create_database, migrate

logger = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# A demo page stays logged in for a working day.
SESSION_TTL = timedelta(hours=12)


class NotADemo(Exception):
    """The file exists and is not a finished demo database (it may be a real one)."""


@dataclass(frozen=True, slots=True)
class DemoDatabase:
    """A finished demo database: its file, when its data ends, and how it was built now
    (`summary` and `seconds`; None when an existing file was reused)."""

    path: Path
    ends_at: datetime
    summary: LiveSummary | None = None
    seconds: float | None = None

    @property
    def url(self) -> str:
        return f"sqlite:///{self.path}"


def _building_path(path: Path) -> Path:
    """Where a build happens before its rename: otklik-demo.building.sqlite3."""
    return path.with_name(f"{path.stem}.building{path.suffix or '.sqlite3'}")


def _exists(path: Path) -> bool:
    return path.exists()


def _remove(path: Path) -> None:
    for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")):
        leftover.unlink(missing_ok=True)


async def prepare_database(
    path: Path,
    *,
    fresh: bool = False,
    days: int = 90,
    seed: int = 1,
    now: datetime | None = None,
    on_build: Callable[[], None] | None = None,
) -> DemoDatabase:
    """The demo database in `path`: reused when it is a finished demo (unless `fresh`),
    else built (`days` of data ending `now`, by default the current minute; `on_build`
    is called first, to tell the user to wait). NotADemo for a file that is something
    else: it is left alone."""
    if _exists(path):
        ends_at = marks.demo_ends_at(path)
        if ends_at is None:
            raise NotADemo(
                f"{path} exists and is not an otklik demo database: choose another file"
                " with --database (the demo never replaces a database it did not build)"
            )
        if not fresh:
            return DemoDatabase(path, ends_at)
    if on_build is not None:
        on_build()
    ends_at = (now or SystemClock().now()).replace(second=0, microsecond=0)
    building = _building_path(path)
    _remove(building)  # an interrupted build's leftovers
    started = time.perf_counter()
    summary = await generate(
        demo_settings(f"sqlite:///{building}"), ends_at, seed=seed, scale=Scale(days=days)
    )
    if summary.refused:
        # The plan and the services disagree: a bug, but the data is still a demo.
        logger.warning("demo: %d planned steps were refused", len(summary.refused))
    db = create_database(f"sqlite:///{building}")
    await db.connect()
    try:
        async with db.transaction() as conn:
            await marks.mark_demo(conn, ends_at)
    finally:
        await db.close()  # the last connection: SQLite folds the WAL into the file
    _remove(path)
    os.replace(building, path)
    return DemoDatabase(path, ends_at, summary, time.perf_counter() - started)


class RunningClock:
    """Time that begins at `start` and runs as the wall clock does."""

    def __init__(self, start: datetime, monotonic: Callable[[], float] = time.monotonic):
        self._start = start
        self._monotonic = monotonic
        self._origin = monotonic()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=self._monotonic() - self._origin)


@dataclass(frozen=True, slots=True)
class DemoLogin:
    """A demo address, who it logs in, and what to say about them."""

    path: str
    viewer: Viewer
    who: str


def _manager_login(branch: Branch, path: str) -> DemoLogin:
    manager = branch.managers[0]
    return DemoLogin(
        path,
        Viewer(manager.telegram_id, manager.name, branch.manager_language),
        f"{manager.name}, manager of {branch.name}: that branch only",
    )


ADMIN = DemoLogin(
    "/demo/admin",
    Viewer(DEMO_ADMIN_ID, DEMO_ADMIN_NAME, "en"),
    "the demo's admin: all six branches",
)
MANAGER = _manager_login(next(b for b in BRANCHES if b.code == "lviv-rynok"), "/demo/manager")
LOGINS = (ADMIN, MANAGER)


def roster_membership(branches: tuple[Branch, ...] = BRANCHES) -> Membership:
    """Who is in which managers' chat, from the demo chain itself: each branch's
    managers are members of its chat. Telegram is never asked."""
    members = {
        (branch.manager_chat_id, manager.telegram_id)
        for branch in branches
        for manager in branch.managers
    }

    async def member(chat_id: int, user_id: int) -> bool:
        return (chat_id, user_id) in members

    return member


class DemoServer:
    """The dashboard on a demo database at http://host:port/app/, with demo logins."""

    def __init__(
        self,
        database: DemoDatabase,
        *,
        host: str = "127.0.0.1",
        port: int = 8080,
        clock: Clock | None = None,
    ) -> None:
        self.database = database
        self.host = host
        self.port = port
        self.clock = clock or RunningClock(database.ends_at)
        self.telegram = NoTelegram()
        # A token of its own per run: sessions and login links of another run (or
        # forged with the demo's source at hand) are not accepted.
        self.settings = demo_settings(
            database.url,
            bot_token=f"1:demo-{secrets.token_urlsafe(24)}",
            dashboard_session_ttl=SESSION_TTL,
        )
        self.services: Services = build_services(self.settings, self.clock, session=self.telegram)
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        """Open (and migrate) the database and listen; OSError when the port is taken."""
        services = self.services
        await services.db.connect()
        try:
            await migrate(services.db)
            await services.chats.refresh()
            dashboard = services.dashboard
            dashboard.access = DashboardAccess(
                services.routing,
                services.chats,
                roster_membership(),
                self.clock,
                admin_ids=self.settings.admin_ids,
                cache_for=self.settings.dashboard_member_cache,
            )
            app = web.Application()
            mount_dashboard(app, dashboard)
            for login in LOGINS:
                app.router.add_get(login.path, self._login_handler(login))
            app.router.add_get("/", self._login_handler(ADMIN))
            self._runner = web.AppRunner(app, access_log=None)
            await self._runner.setup()
            site = web.TCPSite(self._runner, self.host, self.port)
            await site.start()
        except BaseException:
            await self.stop()
            raise
        if self.port == 0:  # a free port was asked for: which one
            self.port = int(self._runner.addresses[0][1])

    def _login_handler(self, login: DemoLogin) -> Handler:
        dashboard = self.services.dashboard

        async def handler(request: web.Request) -> web.StreamResponse:
            language = request.query.get("lang", login.viewer.language)
            if language not in SUPPORTED_LANGUAGES:
                language = login.viewer.language
            viewer = Viewer(login.viewer.user_id, login.viewer.name, language)
            response = web.HTTPFound(dashboard.login_link(viewer))
            response.headers["Cache-Control"] = "no-store"
            raise response

        return handler

    def url(self, login: DemoLogin | None = None) -> str:
        """The address to open: a demo login's, or the dashboard's."""
        host = self.host
        if host in ("", "0.0.0.0", "::"):
            host = "127.0.0.1"
        elif ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}{login.path if login else '/app/'}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        with contextlib.suppress(Exception):
            await self.services.db.close()
        await self.services.bot.session.close()


async def serve_until(server: DemoServer, stop: asyncio.Event) -> None:
    """Serve until `stop` is set, then stop cleanly."""
    try:
        await stop.wait()
    finally:
        await server.stop()
