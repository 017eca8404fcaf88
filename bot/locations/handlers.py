"""/locations for admins in a private chat: the chain's catalogue at a glance."""

from __future__ import annotations

from html import escape

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message

from bot.chats.access import IsAdmin
from bot.i18n import Texts
from bot.locations.service import WEEKDAYS, LocationService
from storage.locations import Location, Region

# Telegram's message limit is 4096 characters; a 50-branch chain needs a few messages.
MESSAGE_LIMIT = 3800


def get_router() -> Router:
    router = Router(name="locations")
    router.message.filter(IsAdmin())
    router.message.register(locations_command, Command("locations"))
    return router


def location_line(texts: Texts, location: Location) -> str:
    """One location: code, name, and what is set of zone, chat, region and hours."""
    parts = [f"<b>{escape(location.code)}</b>"]
    if location.name != location.code:
        parts.append(escape(location.name))
    none = texts("locations-not-set")
    parts.append(texts("locations-zone", zone=escape(location.time_zone or none)))
    chat = (
        str(location.manager_chat_id)
        if location.manager_chat_id
        else texts("locations-head-office")
    )
    parts.append(texts("locations-chat", chat=chat))
    if location.region:
        parts.append(texts("locations-region", region=escape(location.region)))
    hours = location.hours
    if hours:
        days = ", ".join(f"{day} {hours[day]}" for day in WEEKDAYS if day in hours)
        parts.append(texts("locations-hours", hours=escape(days)))
    return " · ".join(parts)


def region_line(texts: Texts, region: Region) -> str:
    chat = (
        str(region.manager_chat_id) if region.manager_chat_id else texts("locations-head-office")
    )
    return texts(
        "locations-region-line", code=escape(region.code), name=escape(region.name), chat=chat
    )


def catalogue_messages(
    texts: Texts, locations: list[Location], regions: list[Region]
) -> list[str]:
    """The catalogue as messages under Telegram's size limit, never splitting a line."""
    lines = [texts("locations-title", count=len(locations))]
    if not locations:
        lines.append(texts("locations-empty"))
    lines.extend(location_line(texts, location) for location in locations)
    if regions:
        lines.append("")
        lines.append(texts("locations-regions-title", count=len(regions)))
        lines.extend(region_line(texts, region) for region in regions)
    messages: list[str] = []
    current = ""
    for line in lines:
        if current and len(current) + len(line) + 1 > MESSAGE_LIMIT:
            messages.append(current)
            current = ""
        current = f"{current}\n{line}" if current else line
    messages.append(current)
    return messages


async def locations_command(
    message: Message, manager_texts: Texts, locations: LocationService
) -> None:
    """List every location with its time zone, managers' chat, region and hours."""
    found, regions = await locations.all()
    for text in catalogue_messages(manager_texts, found, regions):
        await message.answer(text)
