"""Every inbound message goes through here: store it raw (dedupe), route it, commit once.

One message is one database transaction: the raw copy, the orders it changes and the replies
it causes commit together. A message id seen before changes nothing. An error may delay an
order, never lose it:
- a transient database error (locked or busy, a dropped connection, a serialisation failure)
  rolls the transaction back and the message is tried again after a short back-off;
- when it still fails, the raw message is stored on its own with status `error` and the group's
  leader is told privately which post could not be recorded yet. A stored failure is not a
  duplicate: it is handled again at the next start and whenever it is fed again (a replay);
- when the database cannot even store it, the message waits in memory and every tick tries it
  again.
What a message means is the router's business (handlers/router.py); this loop only keeps those
promises.
"""

from __future__ import annotations

import asyncio
import logging
import traceback
from dataclasses import replace

from bot.limits import ReplyBudget
from handlers.router import Router
from models.clock import Clock
from models.config import Config
from models.context import Context
from models.db import Database, is_transient
from models.messages import ChatMessage, OutgoingMessage
from models.rounds import RoundCache
from models.store.groups import Groups
from models.store.inbound import failed_messages, record_failure, store_raw, take_over
from models.store.outbox import enqueue

log = logging.getLogger(__name__)

NUL_SIGN = "\u2400"
# Back-off before each retry of a transient database error: about 1.3 s in all, longer than a
# PostgreSQL fail-over's reconnect or a checkpoint holding SQLite's write lock.
RETRY_DELAYS = (0.05, 0.25, 1.0)
MAX_PENDING = 10_000  # messages held in memory while the database is unreachable


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
        self.retry_delays: tuple[float, ...] = RETRY_DELAYS
        self.reply_budget = ReplyBudget()
        # Messages the database could not even store (it was unreachable): tried every tick.
        self.pending: list[ChatMessage] = []

    def lock(self, room: str | None) -> asyncio.Lock:
        """The lock a message of `room` is handled under; an operator's decision takes it too."""
        if self._global is not None:
            return self._global
        key = room or "<private>"
        lock = self._rooms.get(key)
        if lock is None:
            lock = self._rooms[key] = asyncio.Lock()
        return lock

    async def handle(self, msg: ChatMessage) -> bool:
        """Process one message; True if it was new (or failed before), False if a duplicate."""
        msg = without_nul(msg)
        async with self.lock(msg.room):
            return await self._handle(msg)

    async def _handle(self, msg: ChatMessage) -> bool:
        for attempt in range(len(self.retry_delays) + 1):
            try:
                return await self._once(msg)
            except Exception as exc:
                self.cache.clear()  # memory may hold effects the rollback just undid
                if is_transient(exc) and attempt < len(self.retry_delays):
                    log.warning("message %s: transient database error, retrying: %s", msg.id, exc)
                    await asyncio.sleep(self.retry_delays[attempt])
                    continue
                log.error("message %s failed: %s\n%s", msg.id, exc, traceback.format_exc())
                await self._keep_failed(msg, exc)
                return True
        raise AssertionError("unreachable")  # pragma: no cover

    async def _once(self, msg: ChatMessage) -> bool:
        """One try: one transaction for the raw copy, its effects and its replies."""
        async with self.db.begin() as conn:
            failed_before = 0
            if not await store_raw(conn, msg, status="handled"):
                taken = await take_over(conn, msg)
                if taken is None:
                    return False
                failed_before = taken
            ctx = Context(
                msg=msg, conn=conn, config=self.config, clock=self.clock, groups=self.groups
            )
            await self.router.dispatch(ctx, self.cache)
            self._within_budget(ctx)
            if failed_before:
                self._tell_leader(ctx.replies, msg, recovered=True)
            await enqueue(conn, ctx.replies, ctx.now)
        return True

    def _within_budget(self, ctx: Context) -> None:
        """Drop the replies to this sender beyond their budget (leaders and admins have none)."""
        msg = ctx.msg
        mine = [o for o in ctx.replies if o.to == msg.sender or msg.sender in o.mentions]
        if not mine or msg.sender in self.config.admins:
            return
        if any(g.leader == msg.sender for g in self.groups.all()):
            return
        allowed = self.reply_budget.take(msg.sender, len(mine), ctx.now)
        if allowed < len(mine):
            dropped = {id(o) for o in mine[allowed:]}
            log.warning(
                "%s is over their reply budget: %d repl(ies) not sent", msg.sender, len(dropped)
            )
            ctx.replies = [o for o in ctx.replies if id(o) not in dropped]

    async def _keep_failed(self, msg: ChatMessage, exc: Exception) -> None:
        """Store the failed message with its error and tell the leader once; when even that
        fails, hold it in memory for the next tick."""
        try:
            async with self.db.begin() as conn:
                if await record_failure(conn, msg, repr(exc)[:2000]) == 1:
                    told: list[OutgoingMessage] = []
                    self._tell_leader(told, msg, recovered=False)
                    await enqueue(conn, told, self.clock.now())
        except Exception as again:
            log.error("message %s could not be stored (%s); kept in memory", msg.id, again)
            if len(self.pending) < MAX_PENDING and msg not in self.pending:
                self.pending.append(msg)

    def _tell_leader(
        self, out: list[OutgoingMessage], msg: ChatMessage, *, recovered: bool
    ) -> None:
        """Privately, to the group's leader: which post is not recorded yet, or is now."""
        group = self.groups.get(msg.room) if msg.room is not None else None
        if group is None or msg.kind not in {"text", "app"}:
            return
        head = msg.text.strip().splitlines()[0][:40] if msg.text.strip() else ""
        if recovered:
            key, text = (
                f"failed-ok:{msg.id}",
                f"已补记 {msg.sender_name} 之前没能记下的消息：{head}",
            )
        else:
            key = f"failed:{msg.id}"
            text = (
                f"{msg.sender_name} 的一条消息暂时没能记下（数据库出错），"
                f"我会自动重试，不用重发：{head}"
            )
        out.append(OutgoingMessage(dedupe_key=key, room=None, to=group.leader, text=text))

    async def retry_pending(self) -> int:
        """Messages held in memory while the database was down, tried again; returns how many
        were stored (handled, or kept as failed)."""
        waiting, self.pending = self.pending, []
        for msg in waiting:
            await self.handle(msg)
        return len(waiting) - len(self.pending)

    async def retry_failed(self) -> int:
        """Stored messages whose handling failed, handled again (at start); returns how many
        are recorded now."""
        async with self.db.connect() as conn:
            failed = await failed_messages(conn)
        for msg in failed:
            await self.handle(msg)
        async with self.db.connect() as conn:
            still = {m.id for m in await failed_messages(conn)}
        return sum(m.id not in still for m in failed)
