"""After 截单: the goods arrive (到货) and residents pick up (已取 / 核销).

- the leader says `到货`: the latest closed round is marked arrived, once, and the group is told
  who should come, by final-list number;
- the leader says `已取 3 5 7`: those lines of the final list are picked up;
- a resident says `已取`: the lines they posted are picked up. By contact id, never by display
  name: anyone can rename themselves 张三. A line written for a neighbour (代接) is marked by
  its poster or by the leader's number.
Reminders name only those still waiting. `分拣单` sends the leader, privately and in one
message, who gets what by building and room (`分拣单 按楼号` for 楼号-商品-房号).
"""

from __future__ import annotations

from handlers.commands import Command, Role, parse_seq
from handlers.router import Router
from handlers.sorting import (
    BY_BUILDING,
    BY_PRODUCT,
    person_name,
    residents,
    sort_rows,
    sorting_text,
)
from models.context import Context
from models.rounds import EntryView, RoundCache
from models.store import pickups
from models.store.rounds import latest_closed_round, lock_rounds
from models.store.sorting import lines_with_goods

router = Router()

MAX_NAMED = 30  # names listed in one reminder; WeChat truncates very long messages


def reminder_text(
    title: str, pickup_point: str, listed: list[tuple[int, str]], label: str = "【到货】"
) -> str:
    # `1号 王姐`, never `1.5栋302` (which reads as a decimal)
    names = "、".join(f"{n}号 {person_name(name)}" for n, name in listed[:MAX_NAMED])
    more = f" 等{len(listed)}位" if len(listed) > MAX_NAMED else ""
    where = f"，请到{pickup_point}取货" if pickup_point else "，请尽快取货"
    return f"{label}{title}{where}：{names}{more}。取完回复“已取”。"


@router.command("到货", Role.LEADER, "到货：通知大家来取货")
async def arrived(ctx: Context, cmd: Command, cache: RoundCache, role: Role) -> None:
    """`到货` (leader): mark the latest closed round arrived and post who should come."""
    assert ctx.msg.room is not None
    state = await latest_closed_round(ctx.conn, cache, ctx.msg.room)
    if state is None:
        ctx.reply("arrived", "还没有已截单的团。", private=True)
        return
    if not await pickups.mark_arrived(ctx.conn, state.id, ctx.now):
        ctx.reply("arrived", f"「{state.title}」已经标记过到货。", private=True)
        return
    waiting = _numbered_waiting(state.active_entries(), await pickups.waiting(ctx.conn, state.id))
    group = ctx.groups.get(ctx.msg.room)
    ctx.reply(
        f"once:arrived:{state.id}",
        reminder_text(state.title, group.pickup_point if group else "", waiting),
    )


def _numbered_waiting(
    active: list[EntryView], status: dict[int, tuple[str, bool]]
) -> list[tuple[int, str]]:
    """(final-list number, name) of entries not yet picked up."""
    return [(n, e.name) for n, e in enumerate(active, 1) if not status.get(e.id, ("", True))[1]]


@router.command("已取", Role.RESIDENT, "已取：取完货告诉团长（团长：已取 3 5 7）", args="numbers")
async def picked(ctx: Context, cmd: Command, cache: RoundCache, role: Role) -> None:
    """`已取 3 5 7` (leader, by final-list number) or `已取` (a resident, their own lines)."""
    assert ctx.msg.room is not None
    state = await latest_closed_round(ctx.conn, cache, ctx.msg.room)
    if state is None:
        return
    by_leader = role >= Role.LEADER
    active = state.active_entries()
    numbers = [n for n in (parse_seq(a) for a in cmd.args) if n is not None]
    if by_leader and numbers:
        chosen = [active[n - 1] for n in numbers if 1 <= n <= len(active)]
        unknown = [n for n in numbers if not 1 <= n <= len(active)]
    else:
        # Their own lines, by contact id: a display name proves nothing.
        chosen = [e for e in active if e.poster == ctx.msg.sender]
        unknown = []
    if chosen:
        await pickups.mark_picked(ctx.conn, [e.id for e in chosen], ctx.now)
    if by_leader and numbers:
        text = "已记录取货：" + "、".join(
            f"{active.index(e) + 1}号 {person_name(e.name)}" for e in chosen
        )
        if unknown:
            text += f"（没有第{'、'.join(map(str, unknown))}条）"
        ctx.reply("picked", text, private=True)
    elif chosen:
        # A resident's `已取` is answered once per round: saying it again changes nothing.
        listed = "、".join(f"{active.index(e) + 1}号" for e in chosen)
        ctx.reply(
            f"once:picked:{state.id}:{ctx.msg.sender}",
            f"{ctx.msg.sender_name} 已记下你取走了{listed}，谢谢！",
            mention=True,
        )


@router.command("分拣单", Role.LEADER, "分拣单 按楼号：私聊发分拣单（默认按商品）", args="text")
async def sorting_list(ctx: Context, cmd: Command, cache: RoundCache, role: Role) -> None:
    """`分拣单 [按商品|按楼号]`: the last closed round (or the open one) as a sorting list,
    privately: each product's residents by building and room, or each building's goods,
    then what each resident owes and the held lines that must not be packed."""
    assert ctx.msg.room is not None
    how = BY_BUILDING if cmd.args and "楼" in cmd.args[0] else BY_PRODUCT
    state = await latest_closed_round(ctx.conn, cache, ctx.msg.room)
    if state is None:
        state = next(iter(await lock_rounds(ctx.conn, cache, ctx.msg.room)), None)
    if state is None:
        ctx.reply("sorting", "还没有可以分拣的团。", private=True)
        return
    people = residents((await lines_with_goods(ctx.conn, [state.id]))[state.id])
    group = ctx.groups.get(ctx.msg.room)
    pickup = group.pickup_point if group else ""
    ctx.reply(
        "sorting",
        sorting_text(state.title, sort_rows(pickup, people), how, people),
        private=True,
    )
