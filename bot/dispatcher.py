"""Every inbound message goes through here: store it raw (dedupe), route it, commit once.

One message is one database transaction: the raw copy, the orders it changes and the replies
it causes commit together. A message id seen before changes nothing. If a handler fails, the
transaction rolls back and the raw message is stored again on its own with the error, so
nothing posted is ever lost and the leader can see what went wrong. What a message means is
the router's business (handlers/router.py); this loop only keeps those promises.
"""

from __future__ import annotations

import asyncio
import logging
import traceback
from dataclasses import replace

from handlers.router import Router
from models.clock import Clock
from models.config import Config
from models.context import Context
from models.db import Database
from models.messages import ChatMessage
from models.rounds import RoundCache
from models.store.groups import Groups
from models.store.inbound import store_raw
from models.store.outbox import enqueue

log = logging.getLogger(__name__)

NUL_SIGN = "\u2400"


def without_nul(msg: ChatMessage) -> ChatMessage:
    """PostgreSQL text cannot hold NUL; it becomes ␀ (U+2400) so the rest is stored as sent."""
    if "\x00" not in msg.text and "\x00" not in msg.sender_name:
        return msg
    return replace(
        msg,
        text=msg.text.replace("\x00", NUL_SIGN),
        sender_name=msg.sender_name.replace("\x00", NUL_SIGN),
    )


class Dispatcher:
    def __init__(
        self,
        db: Database,
        config: Config,
        clock: Clock,
        router: Router,
        cache: RoundCache,
        groups: Groups,
    ) -> None:
        self.db = db
        self.config = config
        self.clock = clock
        self.router = router
        self.cache = cache  # the App's round cache
        self.groups = groups  # the App's live map of the groups
        # SQLite has one writer; PostgreSQL serialises per round with row locks, and a room
        # lock keeps one process from racing itself on its own cache.
        self._global = asyncio.Lock() if db.is_sqlite else None
        self._rooms: dict[str, asyncio.Lock] = {}

    def _lock(self, room: str | None) -> asyncio.Lock:
        if self._global is not None:
            return self._global
        key = room or "<private>"
        lock = self._rooms.get(key)
        if lock is None:
            lock = self._rooms[key] = asyncio.Lock()
        return lock

    async def handle(self, msg: ChatMessage) -> bool:
        """Process one message; True if it was new, False if it was a duplicate."""
        msg = without_nul(msg)
        async with self._lock(msg.room):
            try:
                async with self.db.begin() as conn:
                    if not await store_raw(conn, msg, status="handled"):
                        return False
                    ctx = Context(
                        msg=msg, conn=conn, config=self.config, clock=self.clock, groups=self.groups
                    )
                    await self.router.dispatch(ctx, self.cache)
                    await enqueue(conn, ctx.replies, ctx.now)
                return True
            except Exception as exc:
                self.cache.clear()  # memory may hold effects the rollback just undid
                log.error("message %s failed: %s\n%s", msg.id, exc, traceback.format_exc())
                async with self.db.begin() as conn:
                    await store_raw(conn, msg, status="error", error=repr(exc)[:2000])
                return True
