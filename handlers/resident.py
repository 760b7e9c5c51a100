"""What a resident can say besides chaining: withdraw their own order with 取消.

`取消` withdraws the sender's only order in the open round (or asks which one when there are
several); `取消 3` withdraws line 3 if the sender posted it. Nobody can cancel someone else's.
"""

from __future__ import annotations

from handlers import replies, stock
from handlers.chain_plan import draft_entry
from handlers.commands import Command, Role, parse_seq
from handlers.parsing.chain_parser import parse_entry_line
from handlers.router import Router
from handlers.sorting import line_text, owed, owed_block, priced, residents
from models.context import Context
from models.identity import content_key, name_key, strip_seq
from models.rounds import PostPlan, RoundCache
from models.store.rounds import latest_closed_round, lock_rounds, set_status, write_plan
from models.store.sorting import final_lines

router = Router()


@router.command("取消", Role.RESIDENT, "取消 3：取消自己接的第3条", args="numbers")
async def cancel(ctx: Context, cmd: Command, cache: RoundCache, role: Role) -> None:
    msg = ctx.msg
    assert msg.room is not None
    states = await lock_rounds(ctx.conn, cache, msg.room)
    if not states:
        return  # nothing open: a stray 取消 is chat, and the bot stays quiet
    seq = parse_seq(cmd.args[0]) if cmd.args else None
    # `取消 3`: line 3 as the bot numbers the chain (the merged chain, 我的订单), one numbering
    # for every command.
    numbered = [(s, n, e) for s in states for n, e in enumerate(s.numbered(), 1)]
    candidates = [
        (s, e) for s, n, e in numbered if e.poster == msg.sender and (seq is None or n == seq)
    ]
    if seq is not None and not candidates:
        owned_elsewhere = any(n == seq and e.poster != msg.sender for _, n, e in numbered)
        ctx.reply(
            "cancel",
            f"{msg.sender_name} 第{seq}条不是你接的，只能取消自己接的，或请团长处理。"
            if owned_elsewhere
            else f"{msg.sender_name} 没找到你接的第{seq}条。",
            mention=True,
        )
        return
    if not candidates:
        return
    if len(candidates) > 1 and seq is None:
        shown = {e.id: n for _, n, e in numbered}
        listed = "；".join(f"{shown[e.id]}. {strip_seq(e.raw)[:20]}" for _, e in candidates[:5])
        ctx.reply(
            "cancel",
            f"{msg.sender_name} 你有{len(candidates)}条接龙：{listed}。"
            "回复“取消 序号”取消其中一条。",
            mention=True,
        )
        return
    entries = [e for _, e in candidates]
    before = [(s, stock.counted(s)) for s in {id(s): s for s, _ in candidates}.values()]
    await set_status(
        ctx.conn, [(e, "cancel_command") for e in entries], "cancelled", ctx.now, ctx.msg.id
    )
    for s, counted in before:
        await stock.settle(ctx.conn, s, counted)
    ctx.reply("cancel", replies.cancelled_reply(msg.sender_name, entries), mention=True)


@router.command("我的订单", Role.RESIDENT, "我的订单：看自己这一团接了什么、应付多少")
async def my_orders(ctx: Context, cmd: Command, cache: RoundCache, role: Role) -> None:
    """`我的订单`: the sender's lines in the open rounds (or the last closed one), each with
    its amount, what each resident among them owes (代接 for a neighbour) and the total.
    Held lines are listed, not counted, as in the final list."""
    msg = ctx.msg
    assert msg.room is not None
    states = await lock_rounds(ctx.conn, cache, msg.room) or [
        s for s in [await latest_closed_round(ctx.conn, cache, msg.room)] if s is not None
    ]
    me = name_key(msg.sender_name)
    by_round = await final_lines(ctx.conn, [s.id for s in states])
    mine = [
        ln
        for s in states
        for ln in by_round[s.id]
        if ln.poster == msg.sender or (me and name_key(ln.name) == me)
    ]
    if not mine:
        ctx.reply("mine", f"{msg.sender_name} 这一团还没有你的接龙。", mention=True)
        return
    people = residents(mine)
    money = priced(mine)
    text = [f"{msg.sender_name} 你的接龙："]
    text += [f"{ln.number}. {line_text(ln, money)}" for ln in mine]
    if money and len([r for r in people if r.counted]) > 1:
        text.append(owed_block(people))
    counted = [ln for ln in mine if not ln.held]
    if money and counted:
        fen = sum(ln.amount_fen for ln in counted)
        text.append(f"合计应付 {owed(fen, any(ln.unpriced for ln in counted))}")
    ctx.reply("mine", "\n".join(text), mention=True)


@router.command("改", Role.RESIDENT, "改 3 苹果3份：把自己接的第3条改成…", args="words")
async def edit(ctx: Context, cmd: Command, cache: RoundCache, role: Role) -> None:
    """`改 3 苹果3份`: replace one's own line 3 (or, for the leader, anyone's) in the open round."""
    msg = ctx.msg
    assert msg.room is not None
    seq = parse_seq(cmd.args[0]) if cmd.args else None
    if seq is None or len(cmd.args) < 2:
        ctx.reply("edit", f"{msg.sender_name} 用法：改 3 苹果3份", mention=True)
        return
    states = await lock_rounds(ctx.conn, cache, msg.room)
    target = next(((s, e) for s in states if (e := s.by_number(seq)) is not None), None)
    if target is None:
        ctx.reply("edit", f"{msg.sender_name} 没找到第{seq}条。", mention=True)
        return
    state, old = target
    if old.poster != msg.sender and role < Role.LEADER:
        ctx.reply("edit", f"{msg.sender_name} 第{seq}条不是你接的，只能改自己的。", mention=True)
        return
    body = " ".join(cmd.args[1:])
    if name_key(cmd.args[1]) != old.name_key:
        body = f"{old.name} {body}"  # `改 3 苹果3份` keeps the name already on line 3
    parsed = parse_entry_line(
        f"{seq}. {body}",
        [p.name for p in state.products],
        [p.code for p in state.products if p.code],
    )
    ident = content_key(parsed.raw)
    if ident in state.entries:
        return  # the same text: nothing changes
    draft, problems = draft_entry(state, ident, parsed, old.poster_name, [])
    if problems:
        ctx.reply(
            "edit",
            replies.problems_reply(msg.sender_name, [(parsed.raw, problems[0])]),
            mention=True,
        )
        return
    plan = PostPlan(edits=[(old, draft)], seen_mask=old.seen_mask)
    before = stock.counted(state)
    await write_plan(
        ctx.conn,
        state,
        plan,
        sender=old.poster,
        sender_name=old.poster_name,
        message_id=msg.id,
        now=ctx.now,
    )
    await stock.settle(ctx.conn, state, before)
    ctx.reply("edit", f"{msg.sender_name} 第{seq}条已改为：{strip_seq(parsed.raw)}", mention=True)
