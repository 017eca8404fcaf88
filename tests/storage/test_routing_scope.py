"""A property of the chain's routing: whatever the catalogue, every chat that hears of a
customer (their location's team chat, and the chat its escalations go to) is one whose
scope includes that location, and a chat that is no one's sees nothing."""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import dataclass
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.chats.service import ChatDirectory
from bot.core.clock import FakeClock
from bot.locations.routing import Routing
from bot.locations.service import LocationService, RegionBody
from storage.db import SqliteDatabase, migrate
from storage.locations import LocationFields

HEAD_OFFICE = -1000
CHATS = [-1001, -1002, -1003, -1004, None]
STRANGER_CHAT = -9999


@dataclass(frozen=True)
class Chain:
    regions: dict[str, int | None]
    locations: dict[str, tuple[int | None, str | None]]  # code -> (chat, region)
    escalation_chat: int | None


@st.composite
def chains(draw: st.DrawFn) -> Chain:
    region_codes = draw(st.lists(st.sampled_from(["north", "south", "west"]), unique=True))
    regions = {code: draw(st.sampled_from(CHATS)) for code in region_codes}
    codes = draw(st.lists(st.sampled_from(["a", "b", "c", "d", "e"]), unique=True, min_size=1))
    locations = {
        code: (
            draw(st.sampled_from(CHATS)),
            draw(st.sampled_from([None, *region_codes])),
        )
        for code in codes
    }
    escalation = draw(st.sampled_from([None, None, -1005]))
    return Chain(regions, locations, escalation)


async def _check(path: Path, chain: Chain) -> None:
    db = SqliteDatabase(path)
    await db.connect()
    try:
        await migrate(db)
        clock = FakeClock()
        chats = ChatDirectory(db, clock, HEAD_OFFICE, chain.escalation_chat or HEAD_OFFICE)
        service = LocationService(db, clock, on_change=chats.refresh)
        for code, chat in chain.regions.items():
            await service.put_region(code, RegionBody(name=code, manager_chat_id=chat))
        for code, (chat, region) in chain.locations.items():
            await service.put(code, LocationFields(name=code, manager_chat_id=chat, region=region))
        routing = Routing(db, chats)
        async with db.read() as conn:
            for code in chain.locations:
                for chat in (
                    await routing.team_chat(conn, code),
                    await routing.escalation_chat(conn, code),
                ):
                    scope = await routing.scope_in(conn, chat)
                    assert scope.allows(code), (code, chat, scope)
                    assert chats.is_team_chat(chat), chat
            # Every chat's scope holds only locations routed to it or to its region.
            for chat in {c for c in CHATS if c is not None}:
                scope = await routing.scope_in(conn, chat)
                if scope.everything:
                    continue
                for code in scope.locations:
                    own, region = chain.locations[code]
                    assert chat in (own, chain.regions.get(region or "")), (chat, code)
            stranger = await routing.scope_in(conn, STRANGER_CHAT)
            assert stranger.empty and not chats.is_team_chat(STRANGER_CHAT)
    finally:
        await db.close()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(chain=chains())
def test_no_chat_hears_of_a_customer_outside_its_scope(chain: Chain) -> None:
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(_check(Path(folder) / "chain.sqlite3", chain))
