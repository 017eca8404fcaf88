"""What a dashboard viewer may see: the chain's scope rules (bot/locations/routing.py)
applied to the managers' chats the person is a member of.

An admin, or a member of the head office's (or the escalation) chat, sees everything; a
member of branch or region chats sees the union of their locations; anyone else sees
nothing. Membership is asked of Telegram (getChatMember) and remembered for
DASHBOARD_MEMBER_CACHE, so pages do not call Telegram per request."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection
from datetime import timedelta

from bot.chats.service import ChatDirectory
from bot.core.clock import Clock
from bot.locations.routing import EVERYTHING, NOTHING, Routing, Scope

# Whether a Telegram user is a member of a chat (bot/chats/access.is_member).
Membership = Callable[[int, int], Awaitable[bool]]
# getChatMember calls at once for one viewer: a chain of 50 branches asks in batches.
_CONCURRENT_CHECKS = 8


class DashboardAccess:
    def __init__(
        self,
        routing: Routing,
        chats: ChatDirectory,
        membership: Membership,
        clock: Clock,
        *,
        admin_ids: Collection[int],
        cache_for: timedelta,
    ) -> None:
        self._routing = routing
        self._chats = chats
        self._membership = membership
        self._clock = clock
        self._admins = frozenset(admin_ids)
        self._cache_for = cache_for
        self._cache: dict[int, tuple[float, Scope]] = {}

    def is_admin(self, user_id: int) -> bool:
        return user_id in self._admins

    async def scope_for(self, user_id: int) -> Scope:
        """The viewer's scope, from the cache while it is fresh."""
        now = self._clock.now().timestamp()
        cached = self._cache.get(user_id)
        if cached is not None and now < cached[0]:
            return cached[1]
        scope = await self._scope(user_id)
        if len(self._cache) > 10_000:  # people come and go; stale entries go with them
            self._cache = {key: item for key, item in self._cache.items() if now < item[0]}
        self._cache[user_id] = (now + self._cache_for.total_seconds(), scope)
        return scope

    def forget(self, user_id: int) -> None:
        self._cache.pop(user_id, None)

    async def _scope(self, user_id: int) -> Scope:
        if user_id in self._admins:
            return EVERYTHING
        everything = {self._chats.managers, self._chats.escalation}
        for chat_id in sorted(everything):
            if await self._membership(chat_id, user_id):
                return EVERYTHING
        branch_chats = sorted(self._chats.team_chats() - everything)
        gate = asyncio.Semaphore(_CONCURRENT_CHECKS)

        async def member(chat_id: int) -> bool:
            async with gate:
                return await self._membership(chat_id, user_id)

        found = await asyncio.gather(*(member(chat_id) for chat_id in branch_chats))
        mine = [chat_id for chat_id, yes in zip(branch_chats, found, strict=True) if yes]
        if not mine:
            return NOTHING
        locations: set[str] = set()
        async with self._routing.reader() as conn:
            for chat_id in mine:
                scope = await self._routing.scope_in(conn, chat_id)
                if scope.everything:
                    return EVERYTHING
                locations |= scope.locations
        return Scope(everything=False, locations=frozenset(locations))
