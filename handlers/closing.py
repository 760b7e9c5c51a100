"""Closing rounds (the 截单 command and the cutoff job call the same `close_rounds`), 成团, and
pickup reminders: effects that must happen exactly once even if a trigger fires twice or late.

Each one is a conditional update in the database (`… WHERE status = 'open'`): whichever process
or trigger gets there first does the work, the others change nothing. Start-up runs the same
functions to catch up on what was missed while the bot was down.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from handlers import replies, stock
from handlers.chain_plan import units_milli
from handlers.ledger import commission_line
from handlers.pickup import reminder_text
from models.config import Config
from models.db import Conn, Database
from models.messages import OutgoingMessage
from models.money import commission_fen, fen_str, fmt_qty, sale_word
from models.rounds import RoundCache, RoundState
from models.store import groups as group_store
from models.store import ledger as ledger_store
from models.store import pickups, rounds
from models.store import stock as stock_store
from models.store.outbox import enqueue
from models.store.sorting import LineGoods, final_lines
from models.store.stock import Ask
from models.store.tally import rounds_totals_and_amounts

log = logging.getLogger(__name__)

CLOSE_BATCH = 200  # rounds closed in one transaction at cutoff


async def close_round(conn: Conn, cache: RoundCache, round_id: int, now: datetime) -> bool:
    """Close one open round; False if it was already closed (another process, trigger or the
    leader got there first)."""
    return bool(await close_rounds(conn, cache, [round_id], now))


async def close_rounds(conn: Conn, cache: RoundCache, ids: list[int], now: datetime) -> list[int]:
    """Close open rounds together: final lists to the groups, summaries to the leaders.

    One conditional UPDATE … RETURNING decides which are still open (exactly once across
    processes) and names them; the final lists come from one query of the active lines'
    text, totals and amounts from one grouped query, and the messages go out in one bulk
    insert; each line's price, summed in SQL, comes with its text, for what each line and
    each resident owes. Whole round states (products, matchers, every line) are loaded only
    for rounds with a 成团 minimum to decide. So 22:00 costs a handful of round trips per
    batch, and per order line only reading its text and price.
    """
    returned = await rounds.close_open(conn, ids, now)
    if not returned:
        return []
    closed_rows = sorted(returned, key=lambda r: int(r[0]))
    closed = [int(r[0]) for r in closed_rows]
    for i in closed:
        cache.drop(i)  # a cached state still says open; the next reader reloads it
    verdicts: list[OutgoingMessage] = []
    with_minimum = await rounds.with_minimum(conn, closed)
    if with_minimum:
        unshipped: dict[str, dict[str, int]] = {}  # deal → product → thousandths given back
        for state in await rounds.load_rounds_by_id(conn, with_minimum):
            cache.put(state)
            verdict = await _cheng_tuan(conn, state, unshipped)  # before the totals
            if verdict is not None:
                verdicts.append(verdict)
        for deal_key, back in unshipped.items():  # one statement per deal, not per round
            await stock_store.take(conn, deal_key, {k: Ask(-u) for k, u in back.items()})
    lines_by = await final_lines(conn, closed)
    totals_by, amounts = await rounds_totals_and_amounts(conn, closed)
    live = await group_store.load(conn)  # as the table says now, in this transaction
    messages: list[OutgoingMessage] = []
    earned: list[ledger_store.Line] = []  # each leader's commission, into their ledger
    for round_id, room, title, version in closed_rows:
        # Keyed by the close (the version it set): after 重开, a second close is a new final
        # list and a new summary; a trigger firing twice is still one.
        again = f":{version}"
        totals = [(t.name, t.qty_milli, t.unit) for t in totals_by[round_id]]
        active = lines_by[round_id]
        if not active:
            continue  # nobody ordered: no 共0单 in the group, no ¥0 summary to the leader
        messages.append(
            OutgoingMessage(
                dedupe_key=f"closed:{round_id}{again}",
                room=room,
                text=replies.closed_list(active, title, totals),
            )
        )
        group = live.get(room)
        if group is not None:
            amount = amounts[round_id]
            commission = commission_fen(amount, group.commission_rate)
            earned.append(commission_line(group, round_id, title, amount))
            goods = "，".join(f"{n}{fmt_qty(q)}{u or ''}" for n, q, u in totals) or "无"
            messages.append(
                OutgoingMessage(
                    dedupe_key=f"summary:{round_id}{again}",
                    room=None,
                    to=group.leader,
                    text=f"【截单汇总】{title}：共{len(active)}单；{goods}；"
                    f"金额 ¥{fen_str(amount)}，佣金 ¥{fen_str(commission)}"
                    f"（{(group.commission_rate * 100).normalize():f}%）。" + _held_note(active),
                )
            )
    await ledger_store.credit(conn, earned, now)
    await enqueue(conn, messages + verdicts, now)  # the final list first, then what won't ship
    return closed


def _held_note(active: list[LineGoods]) -> str:
    """The leader's summary says how many lines wait for a decision (they are not in it)."""
    held = sum(1 for ln in active if ln.held)
    return f"另有{held}单待你确认（发“核对”查看，“确认 序号”计入）。" if held else ""


async def _cheng_tuan(
    conn: Conn, state: RoundState, unshipped: dict[str, dict[str, int]]
) -> OutgoingMessage | None:
    """成团: products below their minimum at cutoff do not ship; the group is told which.
    What their counted lines took of a shared deal stock is added to `unshipped`, to go back
    to the other groups."""
    ordered: dict[str, int] = {}
    for e in state.active_entries():
        if e.held:
            continue  # not counted until the leader accepts it
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
    marked = await rounds.mark_unshipped(conn, state.id, [p.key for p, _, _ in short])
    if state.deal_key is not None:
        back = unshipped.setdefault(state.deal_key, {})
        for k, u in stock.counted(state).items():
            if k in marked:
                back[k] = back.get(k, 0) + u
    state.unshipped |= marked
    state.stock_left = state.shared_stock(state.stock_left)
    if not ordered:
        return None  # nobody ordered anything: nothing to tell the group
    listed = "；".join(
        f"{p.name} 共接{fmt_qty(got)}{sale_word(p.sale_unit)}，"
        f"不足{fmt_qty(need)}{sale_word(p.sale_unit)}"
        for p, got, need in short
    )
    return OutgoingMessage(
        dedupe_key=f"unshipped:{state.id}",
        room=state.room,
        text=f"【未成团】{listed}，本次不发货，已接的不收款。",
    )


async def close_due_rounds(db: Database, cache: RoundCache, now: datetime) -> list[int]:
    """Close every open round whose cutoff has passed, CLOSE_BATCH rounds a transaction."""
    async with db.connect() as conn:
        due = await rounds.due_for_cutoff(conn, now)
    closed: list[int] = []
    for start in range(0, len(due), CLOSE_BATCH):
        async with db.begin() as conn:
            closed += await close_rounds(conn, cache, list(due[start : start + CLOSE_BATCH]), now)
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
        rounds = await pickups.arrived_since(conn, now - timedelta(days=REMIND_DAYS + 1))
        due = [
            r
            for r in rounds
            if 0
            < (local.date() - r.arrived_at.astimezone(config.timezone).date()).days
            <= REMIND_DAYS
        ]
        if not due:
            return 0
        entries = await pickups.active_entries(conn, [r.id for r in due])
        live = await group_store.load(conn)
    messages: list[OutgoingMessage] = []
    for r in due:
        mine = [e for e in entries if e.round_id == r.id]
        waiting = [(n, e.name) for n, e in enumerate(mine, 1) if e.picked_at is None]
        group = live.get(r.room)
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
