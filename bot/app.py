"""Wiring: one App holds the database, clock, dispatcher and the jobs, for any adapter.

Every adapter (console, replay, wechaty) drives the same three calls: `start()` once, `feed()`
per inbound message, `tick()` whenever time may have moved. That is what keeps them all on the
same core. The App owns the state the parts share (the round cache, the live groups) and hands
it to them; nothing reaches into another part for it.
"""

from __future__ import annotations

import gc
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from bot.changes import Changes
from bot.dispatcher import Dispatcher
from bot.limits import SendLimiter
from bot.outbox import SendFn, drain
from handlers.routes import build_router
from models.clock import Clock, ManualClock, SystemClock
from models.config import Config
from models.db import Database
from models.deals import load_deals
from models.messages import ChatMessage
from models.rounds import RoundCache
from models.store import deals as deal_store
from models.store import outbox
from models.store.groups import Groups
from scheduler.jobs import run_due
from scheduler.runner import TICK_SECONDS, start_scheduler

if TYPE_CHECKING:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

log = logging.getLogger(__name__)


@dataclass
class App:
    config: Config
    db: Database
    clock: Clock
    dispatcher: Dispatcher
    cache: RoundCache
    groups: Groups
    limiter: SendLimiter | None = None  # None: send at once (replay, tests)
    changes: Changes = field(default_factory=Changes)  # nudges open pages (dashboard, sim)

    async def start(self) -> None:
        """Migrate, recover interrupted sends, and catch up: missed deal posts, missed cutoffs."""
        await self.db.upgrade()
        now = self.clock.now()
        await self.groups.sync(self.db, now, seed=True)
        if self.config.deals_file is not None:  # the operator's file: its deals, as it says
            deals = load_deals(self.config.deals_file, self.config.timezone)
            async with self.db.begin() as conn:
                await deal_store.save(conn, deals, now)
        retried = await self.dispatcher.retry_failed()
        if retried:
            log.warning("%d message(s) that failed before are recorded now", retried)
        recovered = await outbox.recover_claimed(self.db)
        if recovered:
            log.warning(
                "%d message(s) were mid-send at the last stop; they will be resent", recovered
            )
        await self.run_due(self.clock.now())
        # What exists now (modules, config, caches built at start) lives as long as the
        # process: freezing it keeps full collections from walking ~340k objects (a ~100 ms
        # pause, measured as the parse p99) in the middle of a message.
        gc.collect()
        gc.freeze()

    async def run_due(self, now: datetime) -> None:
        """Every scheduled effect due at `now`; each is exactly-once in the database."""
        await run_due(self.db, self.groups, self.cache, self.config, now)

    async def feed(self, msg: ChatMessage) -> bool:
        new = await self.dispatcher.handle(msg)
        if new:
            self.changes.notify("message")
        return new

    async def tick(self, send: SendFn, now: datetime | None = None) -> None:
        """Run what is due at `now` (the clock's time by default) and send what is due."""
        when = now or self.clock.now()
        if self.dispatcher.pending:  # the database was unreachable: try those messages again
            await self.dispatcher.retry_pending()
        await self.run_due(when)
        if await drain(self.db, send, when, limiter=self.limiter):
            self.changes.notify("sent")

    def start_scheduler(self, send: SendFn, *, seconds: int = TICK_SECONDS) -> AsyncIOScheduler:
        """Tick every few seconds on the live loop; a console's clock follows the wall."""

        async def live_tick() -> None:
            if isinstance(self.clock, ManualClock):
                self.clock.set(datetime.now(self.clock.tz))
            await self.tick(send)

        return start_scheduler(live_tick, self.config.timezone, seconds=seconds)

    async def last_pending_send(self) -> datetime | None:
        """When the last queued message may go out (a replay flushes up to it at its end)."""
        return await outbox.last_pending_send(self.db)

    async def close(self) -> None:
        await self.db.dispose()


def build_app(
    config: Config,
    clock: Clock | None = None,
    *,
    pg_schema: str | None = None,
    limited: bool = False,
) -> App:
    """Wire an App; `limited` applies the [sender] budgets (a live account, not a replay)."""
    db = Database(config.database_url, pg_schema=pg_schema)
    clk = clock or SystemClock(config.timezone)
    if config.deals_file:
        load_deals(config.deals_file, config.timezone)  # a broken file stops the start here
    cache = RoundCache()
    groups = Groups(config.groups)
    return App(
        config=config,
        db=db,
        clock=clk,
        dispatcher=Dispatcher(db, config, clk, build_router(), cache, groups),
        cache=cache,
        groups=groups,
        limiter=SendLimiter(config.sender) if limited else None,
    )
