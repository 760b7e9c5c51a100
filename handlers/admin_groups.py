"""Admins manage groups in a private chat; every change is in the database for all processes.

- 绑定 <room id> <leader id> [route] [topic]: serve a new group (or re-bind one);
- 换团长 <room or topic> <leader id> [name]: a new leader from now on (rounds and money stay
  put); the name is shown until the new leader speaks (their display name then) or the
  config file names them;
- 暂停 <room or topic> / 恢复 <room or topic>: the bot stops / resumes acting in that group
  (messages are still stored; deals skip a paused group).
Replies name leaders as people know them (handlers/people.py), never by contact id.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from handlers.commands import Command, Role
from handlers.people import leader_names
from handlers.router import Router
from models.config import GroupConfig
from models.context import Context
from models.rounds import RoundCache

router = Router()


def _find(ctx: Context, key: str) -> GroupConfig | None:
    group = ctx.groups.get(key)
    if group is not None:
        return group
    named = [g for g in ctx.groups.all() if g.topic == key]
    return named[0] if len(named) == 1 else None


@router.command(
    "绑定", Role.ADMIN, "绑定 群号 团长微信号 [线路] [群名]：新增群", args="words", chat="private"
)
async def bind(ctx: Context, cmd: Command, cache: RoundCache, role: Role) -> None:
    room, leader, *rest = cmd.args
    old = ctx.groups.get(room)
    same = old is not None and old.leader == leader
    route = rest[0] if rest else (old.route if old else "")
    topic = " ".join(rest[1:]) if len(rest) > 1 else (old.topic if old else room)
    group = GroupConfig(
        room=room,
        topic=topic,
        leader=leader,
        route=route,
        pickup_point=old.pickup_point if old else "",
        commission_rate=old.commission_rate if old else Decimal("0.10"),
        leader_name=old.leader_name if old and same else "",
    )
    await ctx.groups.save(ctx.conn, group, ctx.now)
    names = await leader_names(ctx.conn, ctx.config, [group])
    ctx.reply(
        "bind",
        f"已绑定「{topic}」，团长 {names[leader]}，线路 {route or '未定'}。",
        private=True,
    )


@router.command(
    "换团长", Role.ADMIN, "换团长 群 团长微信号 [名字]：换团长", args="words", chat="private"
)
async def change_leader(ctx: Context, cmd: Command, cache: RoundCache, role: Role) -> None:
    key, leader, name = cmd.args[0], cmd.args[1], " ".join(cmd.args[2:])[:64]
    group = _find(ctx, key)
    if group is None:
        ctx.reply("leader", f"没有找到群「{key}」（写群号或完整群名）。", private=True)
        return
    new = replace(group, leader=leader, leader_name=name)
    names = await leader_names(ctx.conn, ctx.config, [group, new])
    await ctx.groups.save(ctx.conn, new, ctx.now)
    ctx.reply(
        "leader",
        f"「{group.topic}」的团长改为 {names[leader]}（原 {names[group.leader]}）。",
        private=True,
    )


async def _set_paused(ctx: Context, cmd: Command, paused: bool) -> None:
    key = " ".join(cmd.args)
    group = _find(ctx, key)
    if group is None:
        ctx.reply("pause", f"没有找到群「{key}」（写群号或完整群名）。", private=True)
        return
    await ctx.groups.save(ctx.conn, replace(group, paused=paused), ctx.now)
    state = "暂停" if paused else "恢复"
    ctx.reply("pause", f"「{group.topic}」已{state}。", private=True)


@router.command("暂停", Role.ADMIN, "暂停 群：机器人在该群暂停", args="text", chat="private")
async def pause(ctx: Context, cmd: Command, cache: RoundCache, role: Role) -> None:
    await _set_paused(ctx, cmd, True)


@router.command("恢复", Role.ADMIN, "恢复 群：恢复", args="text", chat="private")
async def resume(ctx: Context, cmd: Command, cache: RoundCache, role: Role) -> None:
    await _set_paused(ctx, cmd, False)
