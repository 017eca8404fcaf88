"""Where the managers' and escalation chats live now.

A basic group that becomes a supergroup (it grew past 200 members, an admin turned on
topics or a public link) gets a new chat id, and the old one answers every call with
400 migrate_to_chat_id. Telegram says so once; otklik remembers it in the database and
follows the move everywhere: new alerts, digests, the managers' commands and buttons.
MANAGER_CHAT_ID keeps naming the chat as configured; the operator is told to update it.
"""

from __future__ import annotations

import logging

from bot.core.clock import Clock, to_ms
from storage import chats, locations
from storage.db import Database

logger = logging.getLogger(__name__)

# A chat can move only once (a supergroup never migrates again); a few steps guard
# against a corrupt cycle in the table, not against a real chain.
_MAX_STEPS = 4


class ChatDirectory:
    """The configured team chats, resolved through the moves Telegram told us about."""

    def __init__(
        self, db: Database, clock: Clock, manager_chat_id: int, escalation_chat_id: int
    ) -> None:
        self._db = db
        self._clock = clock
        self._configured = {"MANAGER_CHAT_ID": manager_chat_id}
        if escalation_chat_id != manager_chat_id:
            self._configured["ESCALATION_CHAT_ID"] = escalation_chat_id
        self._moves: dict[int, int] = {}
        # The branches' and regions' chats from the catalogue (bot/locations), refreshed
        # with the moves: every tick, and at once after a change on this instance.
        self._catalogue_chats: set[int] = set()

    def resolve(self, chat_id: int) -> int:
        """The id `chat_id` lives under now."""
        for _ in range(_MAX_STEPS):
            moved = self._moves.get(chat_id)
            if moved is None:
                break
            chat_id = moved
        return chat_id

    @property
    def managers(self) -> int:
        return self.resolve(self._configured["MANAGER_CHAT_ID"])

    @property
    def escalation(self) -> int:
        return self.resolve(self._configured.get("ESCALATION_CHAT_ID", self.managers))

    @property
    def escalation_override(self) -> int | None:
        """ESCALATION_CHAT_ID when set apart from MANAGER_CHAT_ID: every escalation goes there."""
        configured = self._configured.get("ESCALATION_CHAT_ID")
        return None if configured is None else self.resolve(configured)

    def aliases(self, chat_id: int) -> list[int]:
        """`chat_id` and every earlier id of the same chat (a group before its upgrade)."""
        current = self.resolve(chat_id)
        return [current, *(old for old in self._moves if self.resolve(old) == current)]

    def is_team_chat(self, chat_id: int) -> bool:
        """The managers', escalation, a branch's or a region's chat, under its current id
        or an earlier one (the service message announcing a move comes from the old chat)."""
        return self.resolve(chat_id) in self.team_chats()

    def team_chats(self) -> set[int]:
        """Every managers' chat under its current id: the head office, the escalation
        chat and the catalogue's branch and region chats."""
        configured = [*self._configured.values(), *self._catalogue_chats]
        return {self.resolve(chat) for chat in configured}

    def learn(self, old_chat_id: int, new_chat_id: int) -> bool:
        """Follow a move from now on, in memory; True when it was news."""
        if old_chat_id == new_chat_id or self._moves.get(old_chat_id) == new_chat_id:
            return False
        self._moves[old_chat_id] = new_chat_id
        for setting, configured in self._configured.items():
            if self.resolve(configured) == new_chat_id:
                logger.warning(
                    "chat %d (%s) became supergroup %d; otklik follows it. Set %s=%d in the"
                    " settings so the configuration says so too",
                    old_chat_id,
                    setting,
                    new_chat_id,
                    setting,
                    new_chat_id,
                )
        return True

    async def record(self, old_chat_id: int, new_chat_id: int) -> None:
        """A move announced by a service message: remember it for every instance."""
        self.learn(old_chat_id, new_chat_id)
        async with self._db.transaction() as conn:
            await chats.record_migration(conn, old_chat_id, new_chat_id, to_ms(self._clock.now()))

    async def refresh(self) -> None:
        """Pick up moves that other instances (or earlier runs) recorded."""
        async with self._db.read() as conn:
            known = await chats.migrations(conn)
            self._catalogue_chats = await locations.team_chats(conn)
        for old_chat_id, new_chat_id in known.items():
            self.learn(old_chat_id, new_chat_id)
