"""Jobs whose effect must happen exactly once even if a trigger fires twice or late.

Each job is a conditional update in the database (`… WHERE status = 'open'`): whichever process
or trigger gets there first does the work, the others change nothing. Start-up runs the same
functions to catch up on what was missed while the bot was down.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.config import Config
from bot.messages import OutgoingMessage
from bot.outbox import enqueue
from handlers import replies
from handlers.chain_plan import fmt_milli, units_milli
from handlers.pickup import reminder_text
from handlers.pricing import fen_str, to_fen
from handlers.round_state import RoundCache, RoundState, load_rounds
from models.db import Database
from models.tables import Entry, Round, RoundProduct
from scheduler.tally import rounds_totals_and_amounts

log = logging.getLogger(__name__)

CLOSE_BATCH = 200  # rounds closed in one transaction at cutoff


async def close_round(
    conn: AsyncConnection, cache: RoundCache, config: Config, round_id: int, now: datetime
) -> bool:
    """Close one open round; False if it was already closed (another process, trigger or the
    leader got there first)."""
    return bool(await close_rounds(conn, cache, config, [round_id], now))


async def close_rounds(
    conn: AsyncConnection, cache: RoundCache, config: Config, ids: list[int], now: datetime
) -> list[int]:
    """Close open rounds together: final lists to the groups, summaries to the leaders.

    One conditional UPDATE … RETURNING decides which are still open (exactly once across
    processes) and names them; the final lists come from one query of the active lines'
    text, totals and amounts from one grouped query, and the messages go out in one bulk
    insert. Whole round states (products, matchers, every line) are loaded only for rounds
    with a 成团 minimum to decide. So 22:00 costs a handful of round trips per batch, and
    nothing per order line beyond reading its text.
    """
    returned = (
        await conn.execute(
            update(Round)
            .where(Round.id.in_(ids), Round.status == "open")
            .values(status="closed", closed_at=now, version=Round.version + 1)
            .returning(Round.id, Round.room, Round.title)
        )
    ).all()
    if not returned:
        return []
    closed_rows = sorted(returned, key=lambda r: int(r[0]))
    closed = [int(r[0]) for r in closed_rows]
    for i in closed:
        cache.drop(i)  # a cached state still says open; the next reader reloads it
    verdicts: list[OutgoingMessage] = []
    with_minimum = (
        (
            await conn.execute(
                select(RoundProduct.round_id)
                .where(RoundProduct.round_id.in_(closed), RoundProduct.min_milli.is_not(None))
                .distinct()
            )
        )
        .scalars()
        .all()
    )
    if with_minimum:
        rows = (
            await conn.execute(select(Round).where(Round.id.in_(with_minimum)).order_by(Round.id))
        ).all()
        for state in await load_rounds(conn, rows):
            cache.put(state)
            verdict = await _cheng_tuan(conn, state)  # before the totals: it drops products
            if verdict is not None:
                verdicts.append(verdict)
    raws: dict[int, list[str]] = {i: [] for i in closed}
    for round_id, raw in (
        await conn.execute(
            select(Entry.round_id, Entry.raw)
            .where(Entry.round_id.in_(closed), Entry.status == "active")
            .order_by(Entry.round_id, Entry.pos)
        )
    ).all():
        raws[round_id].append(raw)
    totals_by, amounts = await rounds_totals_and_amounts(conn, closed)
    messages: list[OutgoingMessage] = []
    for round_id, room, title in closed_rows:
        totals = [(t.name, t.qty_milli, t.unit) for t in totals_by[round_id]]
        active = raws[round_id]
        messages.append(
            OutgoingMessage(
                dedupe_key=f"closed:{round_id}",
                room=room,
                text=replies.closed_list(active, title, totals),
            )
        )
        group = config.group(room)
        if group is not None:
            amount = amounts[round_id]
            commission = to_fen(Decimal(amount) / 100 * group.commission_rate)
            goods = "，".join(f"{n}{replies.fmt_qty(q)}{u or ''}" for n, q, u in totals) or "无"
            messages.append(
                OutgoingMessage(
                    dedupe_key=f"summary:{round_id}",
                    room=None,
                    to=group.leader,
                    text=f"【截单汇总】{title}：共{len(active)}单；{goods}；"
                    f"金额 ¥{fen_str(amount)}，佣金 ¥{fen_str(commission)}"
                    f"（{(group.commission_rate * 100).normalize():f}%）。",
                )
            )
    await enqueue(conn, messages + verdicts, now)  # the final list first, then what won't ship
    return closed


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


async def close_due_rounds(
    db: Database, cache: RoundCache, config: Config, now: datetime
) -> list[int]:
    """Close every open round whose cutoff has passed, CLOSE_BATCH rounds a transaction."""
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
    for start in range(0, len(due), CLOSE_BATCH):
        async with db.begin() as conn:
            closed += await close_rounds(
                conn, cache, config, list(due[start : start + CLOSE_BATCH]), now
            )
    if closed:
        log.info("closed %d round(s) at cutoff: %s", len(closed), closed)
    return closed


REMIND_DAYS = 3  # daily pickup reminders after arrival, then the leader follows up in person


async def remind_pickups(db: Database, config: Config, now: datetime) -> int:
    """From the day after 到货, once a day at `[bot] pickup_reminder`, name who still waits.

    The dedupe key holds the date, so a trigger firing twice (or two processes) sends one.
    """
    local = now.astimezone(config.timezone)
    if local.time() < config.pickup_reminder:
        return 0
    async with db.connect() as conn:
        rounds = (
            await conn.execute(
                select(Round.id, Round.room, Round.title, Round.arrived_at).where(
                    Round.status == "closed",
                    Round.arrived_at >= now - timedelta(days=REMIND_DAYS + 1),
                )
            )
        ).all()
        due = [
            r
            for r in rounds
            if 0
            < (local.date() - r.arrived_at.astimezone(config.timezone).date()).days
            <= REMIND_DAYS
        ]
        if not due:
            return 0
        entries = (
            await conn.execute(
                select(Entry.round_id, Entry.name, Entry.picked_at)
                .where(Entry.round_id.in_([r.id for r in due]), Entry.status == "active")
                .order_by(Entry.round_id, Entry.pos)
            )
        ).all()
    messages: list[OutgoingMessage] = []
    for r in due:
        mine = [e for e in entries if e.round_id == r.id]
        waiting = [(n, e.name) for n, e in enumerate(mine, 1) if e.picked_at is None]
        group = config.group(r.room)
        if waiting:
            messages.append(
                OutgoingMessage(
                    dedupe_key=f"remind:{r.id}:{local.date().isoformat()}",
                    room=r.room,
                    text=reminder_text(
                        r.title, group.pickup_point if group else "", waiting, "【取货提醒】"
                    ),
                )
            )
    if messages:
        async with db.begin() as conn:
            await enqueue(conn, messages, now)
    return len(messages)
