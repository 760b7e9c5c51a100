"""The live trigger: APScheduler calls the App's tick every few seconds.

Every job's effect is decided in the database, so the trigger only has to be frequent, not
exact: a tick that fires twice, late, or in two processes at once changes nothing extra.
Start-up catches up first. The tick is given as a function, so this package knows nothing of
the running bot above it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

log = logging.getLogger(__name__)

TICK_SECONDS = 5

Tick = Callable[[], Awaitable[None]]


async def tick(run: Tick) -> None:
    """One tick; a failure is logged and the next tick tries again."""
    try:
        await run()
    except Exception:
        log.exception("scheduled tick failed; retrying at the next tick")


def start_scheduler(run: Tick, tz: ZoneInfo, *, seconds: int = TICK_SECONDS) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone=tz)
    scheduler.add_job(
        tick,
        IntervalTrigger(seconds=seconds),
        args=[run],
        id="tick",
        max_instances=1,  # a slow tick is not overlapped by the next one
        coalesce=True,  # ticks missed while busy collapse into one
        misfire_grace_time=60,
    )
    scheduler.start()
    return scheduler
