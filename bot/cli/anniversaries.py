"""`otklik anniversaries`: a day's thank-yous shown (dry run) or queued for the running bot."""

from __future__ import annotations

from datetime import date

from bot.anniversaries import service
from bot.anniversaries.outbox import AdminContext, queue_day
from bot.config import Settings
from bot.core.clock import Clock, SystemClock
from bot.i18n import load_translator
from storage import anniversaries as store
from storage.db import create_database, migrate


async def anniversaries_cli(
    settings: Settings, day: date | None, *, send: bool, clock: Clock | None = None
) -> str:
    """`otklik anniversaries`: the plan (dry run), or queue it for the running bot."""
    db = create_database(settings.database_url)
    await db.connect()
    try:
        await migrate(db)
        ctx = AdminContext(
            db,
            clock or SystemClock(),
            load_translator().with_fallback(settings.default_language),
            settings,
        )
        day = day or service.today_in(settings.zone, ctx.clock)
        async with db.transaction() as conn:
            day_plan = await service.plan_for(conn, day, settings.default_language)
            if not send:
                previews = service.preview_texts(
                    ctx.translator,
                    day_plan,
                    company=settings.company_name,
                    template=settings.anniversary_text,
                    default_language=settings.default_language,
                )
                return service.admin_preview_text(ctx.translator, ctx.language, day_plan, previews)
            if day_plan.count == 0:
                return ctx.translator.get(
                    ctx.language, "anniv-nothing-to-send", date=day.isoformat()
                )
            queued = await queue_day(conn, ctx, day_plan, mode=store.MANUAL, started_by=None)
        return (
            f"queued: {queued.queued} (run #{queued.run_id}); the running bot sends them"
            " and posts the summary to the admins"
        )
    finally:
        await db.close()
