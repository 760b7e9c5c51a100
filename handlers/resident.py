"""What a resident can say besides chaining: withdraw their own order with 取消.

`取消` withdraws the sender's only order in the open round (or asks which one when there are
several); `取消 3` withdraws line 3 if the sender posted it. Nobody can cancel someone else's.
"""

from __future__ import annotations

from bot.context import Context
from handlers import replies
from handlers.chain_store import set_status
from handlers.commands import Command, parse_seq
from handlers.identity import strip_seq
from handlers.round_state import RoundCache, lock_rounds


async def cancel(ctx: Context, cmd: Command, cache: RoundCache) -> None:
    msg = ctx.msg
    assert msg.room is not None
    states = await lock_rounds(ctx.conn, cache, msg.room)
    if not states:
        return  # nothing open: a stray 取消 is chat, and the bot stays quiet
    seq = parse_seq(cmd.args[0]) if cmd.args else None
    candidates = [
        (s, e)
        for s in states
        for e in s.active_entries()
        if e.poster == msg.sender and (seq is None or e.seq == seq)
    ]
    if seq is not None and not candidates:
        owned_elsewhere = any(
            e.seq == seq for s in states for e in s.active_entries() if e.poster != msg.sender
        )
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
        listed = "；".join(f"{e.seq or '-'}. {strip_seq(e.raw)[:20]}" for _, e in candidates[:5])
        ctx.reply(
            "cancel",
            f"{msg.sender_name} 你有{len(candidates)}条接龙：{listed}。"
            "回复“取消 序号”取消其中一条。",
            mention=True,
        )
        return
    entries = [e for _, e in candidates]
    await set_status(ctx.conn, [(e, "cancel_command") for e in entries], "cancelled", ctx.now)
    ctx.reply("cancel", replies.cancelled_reply(msg.sender_name, entries), mention=True)
