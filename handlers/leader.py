"""What a group's leader (or an admin) can do in the group.

截单 closes now; 截单时间 22:30 moves the cutoff; 重开 reopens the round just closed (before the
goods arrive); 接龙 posts the full, merged chain for everyone to copy; 统计 sends the leader the
round's totals privately. 核对 lists the lines the bot was not sure of (kept out of the totals);
确认 3 5 accepts them as read, so they count.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from handlers import replies, stock
from handlers.chain_plan import draft_entry
from handlers.closing import close_round
from handlers.commands import Command, Role, parse_seq
from handlers.deals import open_deal_round
from handlers.parsing.chain_parser import parse_entry_line
from handlers.parsing.types import FLAG_CANCEL
from handlers.payments import payment_lines, payment_round
from handlers.reports import goods_text, money_text, net_text, status_word
from handlers.router import Router
from handlers.sorting import held_reason
from models.context import Context
from models.db import Conn
from models.identity import content_key, strip_seq
from models.rounds import PostPlan, RoundCache, RoundState
from models.store import deals as deal_store
from models.store import rounds
from models.store.rounds import (
    accept,
    latest_closed_round,
    lock_rounds,
    set_status,
    write_plan,
)
from models.store.tally import tally

router = Router()


@router.command("截单", Role.LEADER, "截单：马上截单并发最终名单")
async def close_now(ctx: Context, cmd: Command, cache: RoundCache, role: Role) -> None:
    """`截单`: close every open round of the group at once and post the final lists."""
    assert ctx.msg.room is not None
    states = await lock_rounds(ctx.conn, cache, ctx.msg.room)
    if not states:
        ctx.reply("close", "现在没有进行中的接龙。", private=True)
        return
    for state in states:
        await close_round(ctx.conn, cache, state.id, ctx.now)


def _at(ctx: Context, arg: str) -> datetime:
    """`22:30` / `22点` / `9点30` → the next such moment in the configured zone."""
    text = arg.replace("：", ":").replace("点", ":").replace("分", "")
    hh, _, mm = text.partition(":")
    now = ctx.now.astimezone(ctx.clock.tz)
    when = datetime.combine(now.date(), time(int(hh) % 24, int(mm or 0)), tzinfo=ctx.clock.tz)
    return when if when > now else when + timedelta(days=1)


@router.command("截单时间", Role.LEADER, "截单时间 22:30：改截单时间", args="time")
async def move_cutoff(ctx: Context, cmd: Command, cache: RoundCache, role: Role) -> None:
    """`截单时间 22:30`: the open rounds close then instead."""
    assert ctx.msg.room is not None
    states = await lock_rounds(ctx.conn, cache, ctx.msg.room)
    if not states or not cmd.args:
        ctx.reply("cutoff", "用法：截单时间 22:30（需有进行中的接龙）", private=True)
        return
    when = _at(ctx, cmd.args[0])
    await rounds.set_cutoff(ctx.conn, [s.id for s in states], when)
    for s in states:
        s.cutoff_at = when
    ctx.reply("cutoff", f"截单时间改为 {when:%m月%d日 %H:%M}。")


@router.command("重开", Role.LEADER, "重开 23:00：重新打开刚截单的团", args="time")
async def reopen(ctx: Context, cmd: Command, cache: RoundCache, role: Role) -> None:
    """`重开 [23:00]`: reopen the round just closed, unless its goods have arrived."""
    assert ctx.msg.room is not None
    state = await latest_closed_round(ctx.conn, cache, ctx.msg.room)
    if state is None:
        ctx.reply("reopen", "没有可以重开的团。", private=True)
        return
    until = _at(ctx, cmd.args[0]) if cmd.args else None
    if not await rounds.reopen(ctx.conn, state.id, until):
        ctx.reply("reopen", "这一团已经到货，不能重开。", private=True)
        return
    cache.drop(state.id)
    ctx.reply(
        "reopen",
        f"「{state.title}」重新开放接龙"
        + (f"，{until:%m月%d日 %H:%M}截单。" if until else "，团长说“截单”时截单。"),
    )


@router.command("接龙", Role.LEADER, "接龙：发一份完整的最新接龙")
async def show_chain(ctx: Context, cmd: Command, cache: RoundCache, role: Role) -> None:
    """`接龙`: the full chain as recorded, for everyone to copy from."""
    assert ctx.msg.room is not None
    states = await lock_rounds(ctx.conn, cache, ctx.msg.room)
    if not states:
        ctx.reply("chain", "现在没有进行中的接龙。", private=True)
        return
    for state in states:
        await stock.refresh(ctx.conn, state)
        ctx.reply(f"chain:{state.id}", replies.chain_text(state))


@router.command("统计", Role.LEADER, "统计：私聊发本群这一团的汇总")
async def show_tally(ctx: Context, cmd: Command, cache: RoundCache, role: Role) -> None:
    """`统计`: the group's rounds of today, privately to whoever asked."""
    report = await tally(ctx.conn, ctx.clock.tz, ctx.now.astimezone(ctx.clock.tz).date())
    mine = [r for r in report.rounds if r.room == ctx.msg.room]
    # Money comes in after the day the round closed: its payments are shown whatever the day.
    owing = await payment_round(ctx, cache)
    earlier = owing if owing is not None and owing.id not in {r.id for r in mine} else None
    if not mine and earlier is None:
        ctx.reply("tally", "今天这个群还没有团。", private=True)
        return
    lines = []
    paid = await payment_lines(ctx.conn, [r.id for r in mine] + ([earlier.id] if earlier else []))
    for r in mine:
        money = money_text(r, paid[r.id].refund_fen)
        lines.append(
            f"{r.title}［{status_word(r.status)}］{goods_text(r.totals) or '暂无'}；{money}"
        )
        lines.append(f"收款：{paid[r.id].text}")
    if earlier is not None:
        p = paid[earlier.id]
        lines.append(f"{earlier.title}：{net_text(p.amount_fen, p.refund_fen)}；收款：{p.text}")
    ctx.reply("tally", "\n".join(lines), private=True)


@router.command("删", Role.LEADER, "删 3：删掉第3条（任何人的）", args="numbers", aliases=("删除",))
async def remove_entry(ctx: Context, cmd: Command, cache: RoundCache, role: Role) -> None:
    """`删 3`: the leader removes line 3 of the open round (whoever posted it)."""
    assert ctx.msg.room is not None
    seq = parse_seq(cmd.args[0]) if cmd.args else None
    states = await lock_rounds(ctx.conn, cache, ctx.msg.room)
    # The number the bot last showed (merged chain, 接龙, 我的订单, 核对), not one typed in a
    # copy: after a fork two lines may carry the same typed number.
    found = [e for s in states if (e := s.by_number(seq)) is not None]
    if len(found) != 1:
        ctx.reply("remove", f"没找到第{seq}条（用法：删 3）。", private=True)
        return
    owner = next(s for s in states if s.by_number(seq) is found[0])
    before = stock.counted(owner)
    await set_status(ctx.conn, [(found[0], "leader_removed")], "cancelled", ctx.now, ctx.msg.id)
    await stock.settle(ctx.conn, owner, before)
    later = (
        "（后面的序号前移一位）" if seq is not None and seq < len(states[0].numbered()) + 1 else ""
    )
    ctx.reply("remove", f"已删除第{seq}条：{strip_seq(found[0].raw)}{later}", private=True)


DECIDING = ("open", "closed")  # a held line may be decided until the goods are ordered


@router.command("核对", Role.LEADER, "核对：私聊列出待确认、未计入合计的接龙")
async def review_list(ctx: Context, cmd: Command, cache: RoundCache, role: Role) -> None:
    """`核对`: every line of this group's rounds that waits for the leader, with why."""
    assert ctx.msg.room is not None
    states = await lock_rounds(ctx.conn, cache, ctx.msg.room, statuses=DECIDING)
    held = [(n, e) for s in states for n, e in enumerate(s.numbered(), 1) if e.held]
    if not held:
        ctx.reply("review", "没有待确认的接龙，全部已计入。", private=True)
        return
    shown = "\n".join(f"{n}. {strip_seq(e.raw)[:40]}（{held_reason(e.flags)}）" for n, e in held)
    ctx.reply(
        "review",
        f"这{len(held)}条还没有计入合计：\n{shown}\n"
        "没问题就回复“确认 序号”；要改就“删 序号”后“代接 名字 商品数量”。",
        private=True,
    )


FEWER_HOW = "“删 序号”删掉原来那条和这条，再“代接 名字 商品数量”接上改后的数量。"


@router.command("确认", Role.LEADER, "确认 3 5：把待确认的第3、5条按原样计入", args="numbers")
async def accept_entries(ctx: Context, cmd: Command, cache: RoundCache, role: Role) -> None:
    """`确认 3 5`: the leader accepts held lines as the bot read them; they count from now."""
    assert ctx.msg.room is not None
    seqs = {parse_seq(a) for a in cmd.args} - {None}
    states = await lock_rounds(ctx.conn, cache, ctx.msg.room, statuses=DECIDING)
    found = [e for s in states for n, e in enumerate(s.numbered(), 1) if e.held and n in seqs]
    fewer = [e for e in found if FLAG_CANCEL in e.flags]  # `取消1份`: as read it would add one
    if fewer:
        listed = "；".join(strip_seq(e.raw)[:30] for e in fewer)
        ctx.reply(
            "accept-fewer", f"{listed} 是要减少数量，不能按原样计入：{FEWER_HOW}", private=True
        )
        found = [e for e in found if e not in fewer]
        if not found:
            return
    if not seqs or not found:
        ctx.reply("accept", "没有这几条待确认的接龙（发“核对”查看）。", private=True)
        return
    before = [(s, stock.counted(s)) for s in states]
    await accept(ctx.conn, found)
    for s, counted in before:
        await stock.settle(ctx.conn, s, counted)
    listed = "；".join(strip_seq(e.raw)[:30] for e in found)
    ctx.reply("accept", f"已确认并计入：{listed}", private=True)


@router.command("代接", Role.LEADER, "代接 王奶奶 苹果2份：替人接一条", args="words")
async def order_for(ctx: Context, cmd: Command, cache: RoundCache, role: Role) -> None:
    """`代接 王奶奶 苹果2份`: the leader adds an order for someone without WeChat at hand."""
    assert ctx.msg.room is not None
    states = await lock_rounds(ctx.conn, cache, ctx.msg.room)
    if not states or len(cmd.args) < 2:
        ctx.reply("order_for", "用法：代接 王奶奶 苹果2份（需有进行中的接龙）", private=True)
        return
    problem, raw = await add_line(
        ctx.conn,
        states[0],
        " ".join(cmd.args),
        ctx.msg.sender,
        ctx.msg.sender_name,
        ctx.msg.id,
        ctx.now,
    )
    if problem:
        ctx.reply("order_for", problem, private=True)
        return
    ctx.reply("order_for", f"已代接：{raw}", private=True)


async def add_line(
    conn: Conn,
    state: RoundState,
    words: str,
    poster: str,
    poster_name: str,
    message_id: str,
    now: datetime,
) -> tuple[str | None, str]:
    """Add one line (`王奶奶 苹果2份`) to the round as `poster`'s: (why not, or None; the line)."""
    seq = max((e.seq or 0 for e in state.active_entries()), default=0) + 1
    parsed = parse_entry_line(
        f"{seq}. {words}",
        [p.name for p in state.products],
        [p.code for p in state.products if p.code],
    )
    ident = content_key(parsed.raw)
    if ident in state.entries:
        return "这一条已经在接龙里了。", strip_seq(parsed.raw)
    draft, problems = draft_entry(state, ident, parsed, poster_name, [])
    if problems:
        return f"没有记下：{problems[0]}", strip_seq(parsed.raw)
    plan = PostPlan(creates=[draft])
    await stock.reserve(conn, state, plan)
    await write_plan(
        conn,
        state,
        plan,
        sender=poster,
        sender_name=poster_name,
        message_id=message_id,
        now=now,
    )
    held = f"（{plan.problems[0].reason}）" if plan.problems else ""
    return None, f"{strip_seq(parsed.raw)}{held}"


@router.command("开团", Role.LEADER, "开团 团购编号：本群马上开这个团购", args="text")
async def open_deal(ctx: Context, cmd: Command, cache: RoundCache, role: Role) -> None:
    """`开团 <deal key>`: open this group's round of a platform deal now, before its post time."""
    assert ctx.msg.room is not None
    group = ctx.groups.get(ctx.msg.room)
    deal = await deal_store.find(ctx.conn, cmd.args[0])
    if deal is None or group is None:
        keys = "、".join(d.key for d in await deal_store.pending(ctx.conn, ctx.now)) or "（暂无）"
        ctx.reply("open", f"没有这个团购。可开：{keys}", private=True)
        return
    if deal.cutoff_at <= ctx.now:
        ctx.reply("open", f"「{deal.title}」已过截单时间。", private=True)
        return
    if not await open_deal_round(ctx.conn, cache, ctx.config, deal, group, ctx.now, ctx.msg.sender):
        ctx.reply("open", f"「{deal.title}」本群已经开过了。", private=True)
