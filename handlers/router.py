"""Routes: what the bot answers to, registered by a decorator beside each handler.

In the manner of aiogram's Router and nonebot's matchers, each handler file has a `router` and
says, above each function, what it answers to:

    router = Router()

    @router.command("取消", Role.RESIDENT, "取消 3：取消自己接的第3条", args="numbers")
    async def cancel(ctx: Context, cmd: Command, cache: RoundCache, role: Role) -> None: ...

    @router.chain_post          # a chain copy (接龙) typed in a group
    @router.on("recall")        # any other message kind: "recall", "app" (native 接龙)

handlers/routes.py includes every file's router into one, which the dispatcher runs. The role
check and the audit log are middleware here, once for every command; the usage lines and the
private help are generated from the registrations. Matching, in a group:
- a message is a command only if its first word is a registered verb and its arguments fit
  (`截单了吗？` is chat, not 截单), and the verb is not run into other words or asked about
  (`分拣单是什么`); with a `#` or `/` in front, a misfit gets a usage line (or a refusal);
- a private-chat command typed with a prefix in a group is refused there and audited;
- any other prefixed short line gets the usage lines; everything else may be a chain.
A refusal, usage line or help goes once per person, room and command each hour.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC
from typing import Literal, TypeVar

from handlers.commands import MAX_COMMAND_LEN, Command, Role, parse_command
from handlers.parsing.bounds import bound_for_parsing
from handlers.parsing.chain_parser import parse_chain
from handlers.parsing.types import ParsedChain
from models.config import GroupConfig
from models.context import Context
from models.rounds import RoundCache
from models.store import audit

Handler = Callable[[Context, Command, RoundCache, Role], Awaitable[None]]
EventHandler = Callable[[Context, RoundCache], Awaitable[None]]
ChainHandler = Callable[[Context, ParsedChain, RoundCache], Awaitable[None]]
H = TypeVar("H", bound=Handler)
E = TypeVar("E", bound=EventHandler)
C = TypeVar("C", bound=ChainHandler)
Args = Literal["none", "numbers", "time", "text", "words"]
Chat = Literal["group", "private"]

NUMBERS = re.compile(r"^(?:[#No.第]*\d{1,4}[号条]?)?$")
TIME = re.compile(r"^\d{1,2}[:：点]\d{0,2}分?$")
MAX_TEXT = 200_000  # characters of one message read as a command or chain
# The leader's `接龙` (post the chain) is the bare word only: `#接龙` followed by anything is a
# chain head, however short.
CHAIN_VERB = "接龙"

RESIDENT_PRIVATE_HELP = (
    "你好！请在团购群里接龙下单：复制最新接龙，在最后加一行“序号. 名字 商品数量”。"
)


@dataclass(frozen=True, slots=True)
class Route:
    """One command: its verb, who may use it, its handler, its usage line, its argument shape
    (none | numbers | time | text | words: two or more) and where it is said."""

    verb: str
    role: Role
    handler: Handler
    usage: str
    args: Args = "none"
    chat: Chat = "group"
    alias_of: str | None = None  # another word for a listed command (`删除` for `删`): no help

    @property
    def hidden(self) -> bool:
        return self.alias_of is not None

    @property
    def name(self) -> str:
        """The command's own word, whichever word was typed."""
        return self.alias_of or self.verb

    def fits(self, cmd: Command) -> bool:
        if self.args == "none":
            return not cmd.args
        if self.args == "numbers":
            return all(NUMBERS.match(a) for a in cmd.args)
        if self.args == "words":
            return len(cmd.args) >= 2
        if self.args == "time":
            return len(cmd.args) <= 1 and all(TIME.match(a) for a in cmd.args)
        return True

    @property
    def short(self) -> str:
        """The usage line up to its explanation: `汇总 2026-11-23`."""
        return self.usage.split("：", 1)[0]


def looks_like_command(text: str) -> bool:
    """`#开团` or `/help`: short, one line, prefixed, and not a chain head (`#接龙 …`)."""
    t = text.strip()
    return (
        len(t) <= MAX_COMMAND_LEN
        and "\n" not in t
        and t[:1] in {"#", "/", "＃", "／"}
        and "接龙" not in t
    )


def role_of(ctx: Context, group: GroupConfig | None) -> Role:
    """By contact id only: a resident renamed to the leader's name is still a resident.

    In a private chat (no group), whoever leads any group is a leader.
    """
    sender = ctx.msg.sender
    if sender in ctx.config.admins:
        return Role.ADMIN
    if group is not None:
        return Role.LEADER if sender == group.leader else Role.RESIDENT
    leads = any(g.leader == sender for g in ctx.groups.all())
    return Role.LEADER if leads else Role.RESIDENT


def once_an_hour(ctx: Context, what: str, verb: str) -> str:
    """A refusal, usage or help answer goes once per person, room and command each hour: 600
    refused commands in a minute cost one reply, not 600 of the account's daily budget."""
    hour = ctx.now.astimezone(UTC).strftime("%Y%m%d%H")
    who = f"{ctx.msg.room or '-'}\x1f{ctx.msg.sender}".encode("utf-8", "surrogatepass")
    return f"once:{what}:{verb[:32]}:{hour}:{hashlib.sha1(who).hexdigest()}"  # fits 256


def tell_cut(ctx: Context, cut: list[str]) -> None:
    """What the parser did not read of a chain is said to its poster, once an hour."""
    ctx.reply(
        once_an_hour(ctx, "cut", ""),
        f"{ctx.msg.sender_name} {'；'.join(cut)}。原文已记下，请检查后分几条发。",
        mention=True,
    )


class Router:
    """Registrations, and (for the router the dispatcher runs) the routing itself."""

    def __init__(self) -> None:
        self.routes: list[Route] = []
        self.events: dict[str, EventHandler] = {}
        self.chain: ChainHandler | None = None
        self._tables: dict[Chat, dict[str, Route]] | None = None
        self._verbs: dict[Chat, frozenset[str]] = {}

    # Registration -------------------------------------------------------------------------

    def command(
        self,
        verb: str,
        role: Role,
        usage: str,
        *,
        args: Args = "none",
        chat: Chat = "group",
        aliases: tuple[str, ...] = (),
    ) -> Callable[[H], H]:
        """Register the decorated function as the command `verb` (in a group, or `chat`);
        `aliases` are the other words people use for it (`删除` for `删`), kept out of help."""

        def register(fn: H) -> H:
            self._add(Route(verb, role, fn, usage, args, chat))
            for alias in aliases:
                self._add(Route(alias, role, fn, usage, args, chat, alias_of=verb))
            return fn

        return register

    def on(self, kind: str) -> Callable[[E], E]:
        """Register the decorated function for group messages of this kind (recall, app)."""

        def register(fn: E) -> E:
            if kind in self.events:
                raise ValueError(f"two handlers for {kind!r} messages")
            self.events[kind] = fn
            return fn

        return register

    def chain_post(self, fn: C) -> C:
        """Register the decorated function for chain posts (接龙) typed in a group."""
        if self.chain is not None:
            raise ValueError("two handlers for chain posts")
        self.chain = fn
        return fn

    def include(self, *routers: Router) -> Router:
        """Take over other routers' registrations (each handler file has its own)."""
        for r in routers:
            for route in r.routes:
                self._add(route)
            for kind, fn in r.events.items():
                self.on(kind)(fn)
            if r.chain is not None:
                self.chain_post(r.chain)
        return self

    def _add(self, route: Route) -> None:
        if any(r.verb == route.verb and r.chat == route.chat for r in self.routes):
            raise ValueError(f"two {route.chat} commands named {route.verb!r}")
        self.routes.append(route)
        self._tables = None
        self._verbs = {}

    # Generated help -----------------------------------------------------------------------

    def table(self, chat: Chat) -> dict[str, Route]:
        if self._tables is None:
            self._tables = {
                "group": {r.verb: r for r in self.routes if r.chat == "group"},
                "private": {r.verb: r for r in self.routes if r.chat == "private"},
            }
        return self._tables[chat]

    def verbs(self, chat: Chat) -> frozenset[str]:
        verbs = self._verbs.get(chat)
        if verbs is None:
            verbs = self._verbs[chat] = frozenset(self.table(chat))
        return verbs

    def usage(self, role: Role, chat: Chat = "group") -> str:
        """The usage lines of what `role` may say, the simplest roles' commands first."""
        mine = [r for r in self.table(chat).values() if r.role <= role and not r.hidden]
        return "\n".join(r.usage for r in sorted(mine, key=lambda r: r.role))

    def private_help(self, role: Role) -> str:
        """The one-time answer to anything else said to the bot privately."""
        private = [r for r in self.table("private").values() if r.role <= role and not r.hidden]
        if role >= Role.ADMIN:
            return "管理员命令：" + "、".join(r.short for r in private)
        if role >= Role.LEADER:
            group = [
                r for r in self.table("group").values() if r.role == Role.LEADER and not r.hidden
            ]
            return (
                "团长命令："
                + "、".join(r.short for r in private)
                + "。群里还可用："
                + "、".join(r.short for r in group)
            )
        return RESIDENT_PRIVATE_HELP

    # Routing ------------------------------------------------------------------------------

    async def dispatch(self, ctx: Context, cache: RoundCache) -> None:
        """Route one stored message to its handler (inside the message's transaction)."""
        msg = ctx.msg
        if msg.room is None:
            if msg.kind == "text":
                await self._private(ctx, cache)
            return
        group = ctx.groups.get(msg.room)
        if group is None or group.paused:
            return  # a group the bot does not serve (now): stored, nothing said
        if msg.kind != "text":
            event = self.events.get(msg.kind)
            if event is not None:
                await event(ctx, cache)
            return  # images, voice, files: stored, nothing to read
        text, cut = bound_for_parsing(msg.text, MAX_TEXT)  # linear parsing; cuts are told
        group_verbs = self.table("group")
        cmd = parse_command(text, self.verbs("group"))
        if cmd is not None and not cmd.chatty:
            route = group_verbs[cmd.verb]
            if route.fits(cmd):
                await self._command(ctx, cache, route, cmd, group)
                return
            if cmd.verb == CHAIN_VERB:
                pass  # `#接龙 周六到 赣南脐橙 39.9元/箱…`: a one-line chain head, read below
            elif cmd.prefixed and route.role > (role := role_of(ctx, group)):
                # Not theirs to use: one short refusal (audited), never the leader's usage.
                await self._refuse(ctx, cmd, route, role)
                return
            elif cmd.prefixed:
                ctx.reply(
                    once_an_hour(ctx, "usage", cmd.verb),
                    f"{msg.sender_name} 用法：{route.usage}",
                    mention=True,
                )
                return
            # An unprefixed verb with words that do not fit (`截单了吗？`) is chat, whoever says it.
        elif cmd is not None:
            pass  # `分拣单是什么`, `代接的也算吗`: talk about a command, not the command
        elif (other := parse_command(text, self.verbs("private"))) is not None and (other.prefixed):
            # `#汇总` in a group: refused there (figures are not for the group). Unprefixed, the
            # same words are ordinary chat (`团长，明天几点到？`).
            await self._audit(ctx, other, role_of(ctx, group), allowed=False)
            ctx.reply(
                once_an_hour(ctx, "private-only", other.verb),
                f"{msg.sender_name} “{other.verb}”请私聊机器人使用。",
                mention=True,
            )
            return
        elif looks_like_command(text):
            role = role_of(ctx, group)
            ctx.reply(
                once_an_hour(ctx, "group-help", ""),
                f"{msg.sender_name} 没有这个命令。可用：\n{self.usage(role)}",
                mention=True,
                private=role >= Role.LEADER,
            )
            return
        if self.chain is None:
            return  # (a one-line `#接龙 …` head falls through to here)
        parsed = parse_chain(text)
        if parsed.has_marker or any(e.seq is not None for e in parsed.entries):
            if cut:
                tell_cut(ctx, cut)
            await self.chain(ctx, parsed, cache)

    async def _private(self, ctx: Context, cache: RoundCache) -> None:
        verbs = self.table("private")
        cmd = parse_command(ctx.msg.text, self.verbs("private"))
        route = verbs.get(cmd.verb) if cmd else None
        if cmd is None or route is None or not route.fits(cmd):
            role = role_of(ctx, None)
            help_key = once_an_hour(ctx, "private-help", "")
            ctx.reply(help_key, self.private_help(role), private=True)
            return
        await self._command(ctx, cache, route, cmd, None)

    async def _command(
        self, ctx: Context, cache: RoundCache, route: Route, cmd: Command, group: GroupConfig | None
    ) -> None:
        """Middleware: the sender's role is checked and the command audited, then it runs."""
        role = role_of(ctx, group)
        allowed = role >= route.role
        await self._audit(ctx, cmd, role, allowed=allowed)
        if allowed:
            await route.handler(ctx, cmd, cache, role)
        else:
            self._refusal(ctx, cmd, route)

    async def _refuse(self, ctx: Context, cmd: Command, route: Route, role: Role) -> None:
        await self._audit(ctx, cmd, role, allowed=False)
        self._refusal(ctx, cmd, route)

    @staticmethod
    def _refusal(ctx: Context, cmd: Command, route: Route) -> None:
        """One short refusal per person, command and day: the group hears it once."""
        msg = ctx.msg
        who = "管理员" if route.role >= Role.ADMIN else "团长"
        day = ctx.now.astimezone(ctx.clock.tz).date().isoformat()
        ctx.reply(
            f"once:refused:{msg.room}:{msg.sender}:{route.name}:{day}",
            f"{msg.sender_name} 只有{who}可以“{route.name}”。",
            mention=True,
            private=msg.room is None,
        )

    @staticmethod
    async def _audit(ctx: Context, cmd: Command, role: Role, *, allowed: bool) -> None:
        await audit.record(
            ctx.conn,
            ctx.msg,
            ctx.now,
            verb=cmd.verb,
            args=cmd.args,
            role=role.name.lower(),
            allowed=allowed,
        )
