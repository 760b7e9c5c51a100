"""Every inbound message goes through here: store it raw (dedupe), route it, commit once.

One message is one database transaction: the raw copy, the orders it changes and the replies
it causes commit together. A message id seen before changes nothing. If a handler fails, the
transaction rolls back and the raw message is stored again on its own with the error, so
nothing posted is ever lost and the leader can see what went wrong.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import traceback
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.clock import Clock
from bot.config import Config, GroupConfig
from bot.context import Context
from bot.messages import ChatMessage
from bot.outbox import enqueue, insert_ignore
from handlers import private
from handlers.chain import handle_chain_post, handle_native_chain
from handlers.commands import MAX_COMMAND_LEN, Command, Role, parse_command
from handlers.parsing.chain_parser import parse_chain
from handlers.recall import handle_recall
from handlers.registry import BY_VERB, PRIVATE_BY_VERB, PRIVATE_VERBS, VERBS, Spec, usage_for
from handlers.round_state import RoundCache
from models.db import Database
from models.tables import AuditLog, InboundMessage

if TYPE_CHECKING:
    from scheduler.deals import Deal  # scheduler.deals imports the handlers this module routes to

log = logging.getLogger(__name__)

MAX_TEXT = 200_000  # characters kept of one message; WeChat caps text far below this
NUL_SIGN = "\u2400"


def looks_like_command(text: str) -> bool:
    """`#开团` or `/help`: short, one line, prefixed, and not a chain head (`#接龙 …`)."""
    t = text.strip()
    return (
        len(t) <= MAX_COMMAND_LEN
        and "\n" not in t
        and t[:1] in {"#", "/", "＃", "／"}
        and "接龙" not in t
    )


def without_nul(msg: ChatMessage) -> ChatMessage:
    """PostgreSQL text cannot hold NUL; it becomes ␀ (U+2400) so the rest is stored as sent."""
    if "\x00" not in msg.text and "\x00" not in msg.sender_name:
        return msg
    return replace(
        msg,
        text=msg.text.replace("\x00", NUL_SIGN),
        sender_name=msg.sender_name.replace("\x00", NUL_SIGN),
    )


def fingerprint(msg: ChatMessage) -> str | None:
    """Room, sender, second and text: equal for one group message seen by two bot accounts
    (each gets its own platform id). Private chats are per account, so they have none."""
    if msg.room is None or msg.kind == "recall":
        return None
    key = "\x1f".join((msg.room, msg.sender, str(int(msg.ts.timestamp())), msg.kind, msg.text))
    return hashlib.sha1(key.encode("utf-8", "surrogatepass")).hexdigest()


_STORE: dict[str, Any] = {}


def _store_stmt(conn: AsyncConnection) -> Any:
    """INSERT … ON CONFLICT DO NOTHING RETURNING id, built once per dialect (hot path)."""
    stmt = _STORE.get(conn.dialect.name)
    if stmt is None:
        stmt = _STORE[conn.dialect.name] = (
            insert_ignore(conn)(InboundMessage)
            .on_conflict_do_nothing()  # a known platform id, or a known fingerprint
            .returning(InboundMessage.id)
        )
    return stmt


class Dispatcher:
    def __init__(self, db: Database, config: Config, clock: Clock) -> None:
        self.db = db
        self.config = config
        self.clock = clock
        self.cache = RoundCache()
        self.deals: list[Deal] = []  # the App's deals list, shared (admins push from it)
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
                    if not await self._store_raw(conn, msg, status="handled"):
                        return False
                    ctx = Context(
                        msg=msg, conn=conn, config=self.config, clock=self.clock, deals=self.deals
                    )
                    await self._route(ctx)
                    await enqueue(conn, ctx.replies, ctx.now)
                return True
            except Exception as exc:
                self.cache.clear()  # memory may hold effects the rollback just undid
                log.error("message %s failed: %s\n%s", msg.id, exc, traceback.format_exc())
                async with self.db.begin() as conn:
                    await self._store_raw(conn, msg, status="error", error=repr(exc)[:2000])
                return True

    def role_of(self, sender: str, group: GroupConfig | None) -> Role:
        """By contact id only: a resident renamed to the leader's name is still a resident.

        In a private chat (no group), whoever leads any group is a leader.
        """
        if sender in self.config.admins:
            return Role.ADMIN
        if group is not None:
            return Role.LEADER if sender == group.leader else Role.RESIDENT
        leads = any(g.leader == sender for g in self.config.all_groups())
        return Role.LEADER if leads else Role.RESIDENT

    async def _private(self, ctx: Context) -> None:
        role = self.role_of(ctx.msg.sender, None)
        cmd = parse_command(ctx.msg.text, PRIVATE_VERBS)
        spec = PRIVATE_BY_VERB.get(cmd.verb) if cmd else None
        if cmd is None or spec is None or not spec.fits(cmd):
            private.help_once(ctx, role)
            return
        await self._command(ctx, spec, cmd, None)

    async def _command(
        self, ctx: Context, spec: Spec, cmd: Command, group: GroupConfig | None
    ) -> None:
        msg = ctx.msg
        role = self.role_of(msg.sender, group)
        allowed = role >= spec.role
        await self._audit(ctx, cmd, role, allowed=allowed)
        if allowed:
            await spec.handler(ctx, cmd, self.cache, role)
        else:
            who = "管理员" if spec.role >= Role.ADMIN else "团长"
            ctx.reply(
                "refused",
                f"{msg.sender_name} 只有{who}可以“{cmd.verb}”。",
                mention=True,
                private=msg.room is None,
            )

    async def _audit(self, ctx: Context, cmd: Command, role: Role, *, allowed: bool) -> None:
        msg = ctx.msg
        await ctx.conn.execute(
            insert(AuditLog).values(
                ts=ctx.now,
                room=msg.room,
                actor=msg.sender,
                actor_name=msg.sender_name[:256],
                verb=cmd.verb,
                args=list(cmd.args),
                role=role.name.lower(),
                allowed=allowed,
                message_id=msg.id[:128],
            )
        )

    async def _store_raw(
        self, conn: AsyncConnection, msg: ChatMessage, *, status: str, error: str | None = None
    ) -> bool:
        params = {
            "platform_id": msg.id[:128],
            "room": msg.room,
            "sender": msg.sender[:128],
            "sender_name": msg.sender_name[:256],
            "text": msg.text[:MAX_TEXT],
            "kind": msg.kind,
            "ts": msg.ts,
            "status": status,
            "error": error,
            "fingerprint": fingerprint(msg),
        }
        return (await conn.execute(_store_stmt(conn), params)).scalar_one_or_none() is not None

    async def _route(self, ctx: Context) -> None:
        msg = ctx.msg
        if msg.room is None:
            if msg.kind == "text":
                await self._private(ctx)
            return
        group = self.config.group(msg.room)
        if group is None or group.paused:
            return  # a group the bot does not serve (now): stored, nothing said
        if msg.kind == "recall":
            await handle_recall(ctx, self.cache)
            return
        if msg.kind == "app":
            await handle_native_chain(ctx, self.cache)
            return
        if msg.kind != "text":
            return  # images, voice, files: stored, nothing to read
        text = msg.text[:MAX_TEXT]
        cmd = parse_command(text, VERBS)
        if cmd is not None:
            spec = BY_VERB[cmd.verb]
            if spec.fits(cmd):
                await self._command(ctx, spec, cmd, group)
                return
            if cmd.prefixed:
                ctx.reply("usage", f"{msg.sender_name} 用法：{spec.usage}", mention=True)
                return
            # An unprefixed verb with words that do not fit (`截单了吗？`) is chat.
        elif (private_cmd := parse_command(text, PRIVATE_VERBS)) is not None and (
            private_cmd.prefixed
        ):
            # `#汇总` in a group: refused there (figures are not for the group). Unprefixed, the
            # same words are ordinary chat (`团长，明天几点到？`).
            await self._audit(ctx, private_cmd, self.role_of(msg.sender, group), allowed=False)
            ctx.reply(
                f"once:private-only:{msg.room}:{msg.sender}",
                f"{msg.sender_name} “{private_cmd.verb}”请私聊机器人使用。",
                mention=True,
            )
            return
        elif looks_like_command(text):
            role = self.role_of(msg.sender, group)
            ctx.reply(
                f"once:group-help:{msg.room}:{msg.sender}",
                f"{msg.sender_name} 没有这个命令。可用：\n{usage_for(role)}",
                mention=True,
                private=role >= Role.LEADER,
            )
            return
        parsed = parse_chain(text)
        if parsed.has_marker or any(e.seq is not None for e in parsed.entries):
            await handle_chain_post(ctx, parsed, self.cache)
