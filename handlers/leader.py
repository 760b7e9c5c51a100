"""What a group's leader can do in the group: close the round now (截单)."""

from __future__ import annotations

from bot.context import Context
from handlers.round_state import RoundCache, lock_rounds
from scheduler.jobs import close_round


async def close_now(ctx: Context, cache: RoundCache) -> None:
    """`#截单`: close every open round of the leader's group at once and post the final lists."""
    assert ctx.msg.room is not None
    states = await lock_rounds(ctx.conn, cache, ctx.msg.room)
    if not states:
        ctx.reply("close", "现在没有进行中的接龙。", private=True)
        return
    for state in states:
        await close_round(ctx.conn, cache, ctx.config, state.id, ctx.now)
