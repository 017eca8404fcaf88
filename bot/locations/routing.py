"""Where a location's messages go and what each managers' chat may see.

A chain is branch -> region -> head office. A location's alerts, case posts, customer
replies, NPS-drop alerts and digest go to its own managers' chat, else to the head
office (MANAGER_CHAT_ID). An SLA escalation goes one level up: to the region's chat,
else the head office; ESCALATION_CHAT_ID, when set, takes every escalation.

A chat sees the locations whose chat it is, or whose region's chat it is; the head
office and the escalation chat see everything. Chat ids are followed through
supergroup upgrades (bot/chats/service.py), so a moved group keeps its scope.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass

from bot.chats.service import ChatDirectory
from storage import locations as catalogue
from storage.db import Connection, Database


@dataclass(frozen=True, slots=True)
class Scope:
    """What one managers' chat may see: every location, or the ones listed."""

    everything: bool
    locations: frozenset[str] = frozenset()

    def allows(self, location: str) -> bool:
        return self.everything or location in self.locations

    @property
    def empty(self) -> bool:
        return not self.everything and not self.locations


EVERYTHING = Scope(everything=True)
NOTHING = Scope(everything=False)


class Routing:
    """The chain's routing rules, read from the catalogue in the caller's transaction."""

    def __init__(self, db: Database, chats: ChatDirectory) -> None:
        self._db = db
        self._chats = chats

    def reader(self) -> AbstractAsyncContextManager[Connection]:
        """A read-only connection, for callers that ask several questions at once."""
        return self._db.read()

    @property
    def head_office(self) -> int:
        return self._chats.managers

    async def team_chat(self, conn: Connection, location: str) -> int:
        """The managers' chat of a location: its own, else the head office."""
        route = await catalogue.route(conn, location) if location else None
        if route is not None and route.location_chat is not None:
            return self._chats.resolve(route.location_chat)
        return self.head_office

    async def escalation_chat(self, conn: Connection, location: str) -> int:
        """One level up from the location: its region's chat, else the head office
        (ESCALATION_CHAT_ID, when set, takes them all)."""
        override = self._chats.escalation_override
        if override is not None:
            return override
        route = await catalogue.route(conn, location) if location else None
        if route is not None and route.region_chat is not None:
            return self._chats.resolve(route.region_chat)
        return self.head_office

    async def scope_of(self, chat_id: int) -> Scope:
        async with self._db.read() as conn:
            return await self.scope_in(conn, chat_id)

    async def scope_in(self, conn: Connection, chat_id: int) -> Scope:
        """What `chat_id` may see: everything for the head office and the escalation
        chat; else the locations whose chat (or whose region's chat) it is."""
        current = self._chats.resolve(chat_id)
        if current in (self.head_office, self._chats.escalation_override):
            return EVERYTHING
        codes = await catalogue.codes_for_chats(conn, self._chats.aliases(current))
        return Scope(everything=False, locations=frozenset(codes))
