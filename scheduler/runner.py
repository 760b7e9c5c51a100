"""The live trigger: APScheduler calls `App.tick` every few seconds.

Every job's effect is decided in the database (deal posted once per room, round closed once,
reminder once per day), so the trigger only has to be frequent, not exact: a tick that fires
twice, late, or in two processes at once changes nothing extra. Start-up catches up first.
"""

from __future__ import annotations

import logging
from datetime import datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.app import App
from bot.clock import ManualClock
from bot.outbox import SendFn

log = logging.getLogger(__name__)

TICK_SECONDS = 5


async def tick(app: App, send: SendFn) -> None:
    """One tick; a failure is logged and the next tick tries again."""
    if isinstance(app.clock, ManualClock):
        app.clock.set(datetime.now(app.clock.tz))  # the console's clock follows the wall
    try:
        await app.tick(send)
    except Exception:
        log.exception("scheduled tick failed; retrying at the next tick")


def start_scheduler(app: App, send: SendFn, *, seconds: int = TICK_SECONDS) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone=app.config.timezone)
    scheduler.add_job(
        tick,
        IntervalTrigger(seconds=seconds),
        args=[app, send],
        id="tick",
        max_instances=1,  # a slow tick is not overlapped by the next one
        coalesce=True,  # ticks missed while busy collapse into one
        misfire_grace_time=60,
    )
    scheduler.start()
    return scheduler
