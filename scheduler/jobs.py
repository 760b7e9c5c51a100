"""Jobs whose effect must happen exactly once even if a trigger fires twice or late.

Each job is a conditional update in the database (`… WHERE status = 'open'`): whichever process
or trigger gets there first does the work, the others change nothing. Start-up runs the same
functions to catch up on what was missed while the bot was down.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.messages import OutgoingMessage
from bot.outbox import enqueue
from handlers import replies
from handlers.chain_plan import fmt_milli, units_milli
from handlers.round_state import RoundCache, RoundState, load_round
from models.db import Database
from models.tables import Round, RoundProduct
from scheduler.tally import round_totals

log = logging.getLogger(__name__)


async def close_round(
    conn: AsyncConnection, cache: RoundCache, round_id: int, now: datetime
) -> bool:
    """Close one open round and post its final list; False if it was already closed."""
    result = await conn.execute(
        update(Round)
        .where(Round.id == round_id, Round.status == "open")
        .values(status="closed", closed_at=now, version=Round.version + 1)
        .returning(Round.id)
    )
    if result.scalar_one_or_none() is None:
        return False
    row = (await conn.execute(select(Round).where(Round.id == round_id))).one()
    state = await load_round(conn, row)
    cache.put(state)
    messages = [await _cheng_tuan(conn, state)] if state.limits else []
    totals = [(t.name, t.qty_milli, t.unit) for t in await round_totals(conn, round_id)]
    messages.insert(
        0,
        OutgoingMessage(
            dedupe_key=f"closed:{round_id}",
            room=state.room,
            text=replies.closed_reply(state, totals),
        ),
    )
    await enqueue(conn, [m for m in messages if m is not None], now)
    return True


async def _cheng_tuan(conn: AsyncConnection, state: RoundState) -> OutgoingMessage | None:
    """成团: products below their minimum at cutoff do not ship; the group is told which."""
    ordered: dict[str, int] = {}
    for e in state.active_entries():
        for ln in e.lines:
            u = units_milli(state, ln)
            if ln.product_key is not None and u is not None:
                ordered[ln.product_key] = ordered.get(ln.product_key, 0) + u
    short = [
        (p, ordered.get(p.key, 0), state.limits[p.key].min_milli or 0)
        for p in state.products
        if p.key in state.limits
        and state.limits[p.key].min_milli is not None
        and ordered.get(p.key, 0) < (state.limits[p.key].min_milli or 0)
    ]
    if not short:
        return None
    await conn.execute(
        update(RoundProduct)
        .where(
            RoundProduct.round_id == state.id,
            RoundProduct.key.in_([p.key for p, _, _ in short]),
        )
        .values(shipped=False)
    )
    listed = "；".join(
        f"{p.name} 共接{fmt_milli(got)}份，不足{fmt_milli(need)}份" for p, got, need in short
    )
    return OutgoingMessage(
        dedupe_key=f"unshipped:{state.id}",
        room=state.room,
        text=f"【未成团】{listed}，本次不发货，已接的不收款。",
    )


async def close_due_rounds(db: Database, cache: RoundCache, now: datetime) -> list[int]:
    """Close every open round whose cutoff has passed; each in its own transaction."""
    async with db.connect() as conn:
        due = (
            (
                await conn.execute(
                    select(Round.id)
                    .where(Round.status == "open", Round.cutoff_at <= now)
                    .order_by(Round.cutoff_at, Round.id)
                )
            )
            .scalars()
            .all()
        )
    closed: list[int] = []
    for round_id in due:
        async with db.begin() as conn:
            if await close_round(conn, cache, round_id, now):
                closed.append(round_id)
    if closed:
        log.info("closed %d round(s) at cutoff: %s", len(closed), closed)
    return closed
