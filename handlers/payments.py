"""Payments: who has paid for their lines, and one reminder for those who have not.

The bot cannot see money move between other people's WeChat accounts, so it never pretends
to: a resident's `已付` is recorded as their claim (自报已付) and only the leader's `收款 3 5 7`
counts a line as collected. Payments are about the round the goods are for: the latest closed
round, or the open one when none has closed yet; numbers are those of the final list.

- `已付` (resident): their own lines are claimed paid; acknowledged once, quietly;
- `收款 3 5 7` (leader): those lines are collected, with what they owed then;
- `催款` (leader): one message in the group naming only the unpaid, at most every few hours;
- the leader's `统计` and the admin's `月结` show collected, claimed and outstanding.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from handlers.commands import Command, Role, parse_seq
from handlers.router import Router
from models.context import Context
from models.db import Conn
from models.money import fen_str
from models.rounds import RoundCache, RoundState
from models.store import payments
from models.store.payments import LineMoney, PaymentSums
from models.store.rounds import lock_latest_closed, lock_rounds

router = Router()

REMINDER_GAP = timedelta(hours=3)  # 催款 twice within this is one reminder
MAX_NAMED = 30  # names in one reminder; WeChat truncates very long messages


async def payment_round(ctx: Context, cache: RoundCache) -> RoundState | None:
    """The round payments are about: the latest closed one, else the open one; locked, so
    what a line owes cannot change between reading it and recording its payment."""
    assert ctx.msg.room is not None
    closed = await lock_latest_closed(ctx.conn, cache, ctx.msg.room)
    if closed is not None:
        return closed
    open_rounds = await lock_rounds(ctx.conn, cache, ctx.msg.room)
    return open_rounds[0] if open_rounds else None


@router.command(
    "已付", Role.RESIDENT, "已付：告诉团长自己已付款（机器人看不到转账，团长确认后才算已收）"
)
async def paid(ctx: Context, cmd: Command, cache: RoundCache, role: Role) -> None:
    """`已付`: the sender's own lines (by contact id) are claimed paid, acknowledged once."""
    state = await payment_round(ctx, cache)
    if state is None:
        return
    mine = [e.id for e in state.numbered() if e.poster == ctx.msg.sender]
    if not mine or not await payments.claim(ctx.conn, state.id, mine, ctx.now):
        return  # nothing of theirs, or said before: quiet
    ctx.reply(
        f"once:paid:{state.id}:{ctx.msg.sender}",
        f"{ctx.msg.sender_name} 已记下你说已付（自报已付，团长确认收款后算已收）。",
        mention=True,
    )


async def collect(
    conn: Conn, round_id: int, entry_ids: Sequence[int], now: datetime, by: str
) -> dict[int, int]:
    """Confirm payment of these lines with what each owes now (entry id → fen): the leader's
    `收款` and the dashboard's one click both record a payment here."""
    money = await payments.line_money(conn, [round_id])
    owed = {i: money.get(i, LineMoney(round_id)).owed_fen for i in entry_ids}
    await payments.confirm(conn, round_id, owed, now, by)
    return owed


@router.command(
    "收款", Role.LEADER, "收款 3 5 7：确认第3、5、7条已收款（自报已付的也要你确认）", args="numbers"
)
async def collected(ctx: Context, cmd: Command, cache: RoundCache, role: Role) -> None:
    """`收款 3 5 7`: the leader has the money for those lines of the final list."""
    state = await payment_round(ctx, cache)
    numbers = [n for n in (parse_seq(a) for a in cmd.args) if n is not None]
    if state is None or not numbers:
        ctx.reply("collected", "用法：收款 3 5 7（最终名单的序号）", private=True)
        return
    shown = state.numbered()
    chosen = {n: shown[n - 1] for n in numbers if 1 <= n <= len(shown)}
    unknown = [n for n in numbers if n not in chosen]
    owed = await collect(
        ctx.conn, state.id, [e.id for e in chosen.values()], ctx.now, ctx.msg.sender
    )
    text = "已记收款：" + "、".join(
        f"{n}.{e.name} ¥{fen_str(owed[e.id])}" for n, e in sorted(chosen.items())
    )
    if unknown:
        text += f"（没有第{'、'.join(map(str, unknown))}条）"
    ctx.reply("collected", text, private=True)


@router.command("催款", Role.LEADER, "催款：在群里提醒还没付款的人（只点未付的）")
async def remind_unpaid(ctx: Context, cmd: Command, cache: RoundCache, role: Role) -> None:
    """`催款`: one message naming only the unpaid lines; not again within REMINDER_GAP."""
    state = await payment_round(ctx, cache)
    if state is None:
        ctx.reply("dun", "还没有团。", private=True)
        return
    money = await payments.line_money(ctx.conn, [state.id])
    unpaid = [
        (n, e.name, m.outstanding_fen)
        for n, e in enumerate(state.numbered(), 1)
        if (m := money.get(e.id)) is not None and m.outstanding_fen and not m.claimed
    ]
    if not unpaid:
        ctx.reply("dun", f"「{state.title}」没有未付款的（自报已付的不催）。", private=True)
        return
    last = await payments.last_reminder(ctx.conn, state.id)
    if last is not None and ctx.now - last < REMINDER_GAP:
        again = (last + REMINDER_GAP).astimezone(ctx.clock.tz)
        ctx.reply(
            "dun",
            f"{last.astimezone(ctx.clock.tz):%H:%M} 刚催过，{again:%H:%M} 后才能再催。",
            private=True,
        )
        return
    names = "、".join(f"{n}.{name} ¥{fen_str(fen)}" for n, name, fen in unpaid[:MAX_NAMED])
    more = f" 等{len(unpaid)}位" if len(unpaid) > MAX_NAMED else ""
    ctx.reply(
        f"dun:{state.id}:{ctx.msg.id}",
        f"【催款】{state.title}：{names}{more}。付了请回复“已付”。",
    )


@dataclass(frozen=True, slots=True)
class RoundPayments:
    """One round's payments as the leader reads them, with the sums they come from."""

    text: str  # `已收 2单 ¥35.50；…；待收 ¥22.70`
    amount_fen: int  # the counted lines' amount
    refund_fen: int  # going back on them


def payment_text(entries: Sequence[int], money: dict[int, LineMoney]) -> str:
    """`已收 2单 ¥35.50；自报已付 1单 ¥9.90；未付 1单；待收 ¥22.70` for one round (its refunds
    are shown with its 合计: reports.net_text)."""
    s = PaymentSums.of(money[i] for i in entries if i in money)
    parts = [
        f"已收 {s.collected_lines}单 ¥{fen_str(s.collected_fen)}",
        f"自报已付 {s.claimed_lines}单 ¥{fen_str(s.claimed_fen)}（待你“收款”确认）"
        if s.claimed_lines
        else "",
        f"未付 {s.unpaid_lines}单",
        f"待收 ¥{fen_str(s.outstanding_fen)}",
        f"其中已收款要退回 ¥{fen_str(s.to_return_fen)}" if s.to_return_fen else "",
    ]
    return "；".join(p for p in parts if p)


async def month_money(ctx: Context, year: int, month: int) -> dict[str, str]:
    """Leader → `，已收 ¥…，待收 ¥…，退款 ¥…` for 月结 (rooms by their leader now)."""
    rooms = await payments.rounds_of_month(ctx.conn, ctx.clock.tz, year, month)
    money = await payments.line_money(ctx.conn, list(rooms))
    lines: dict[str, list[LineMoney]] = {}
    for m in money.values():
        group = ctx.groups.get(rooms[m.round_id])
        lines.setdefault(group.leader if group else "?", []).append(m)
    sums = {leader: PaymentSums.of(mine) for leader, mine in lines.items()}
    return {
        leader: f"，已收 ¥{fen_str(s.collected_fen)}，待收 ¥{fen_str(s.outstanding_fen)}"
        + (f"，退款 ¥{fen_str(s.refund_fen)}" if s.refund_fen else "")
        for leader, s in sums.items()
    }


async def payment_lines(conn: Conn, round_ids: Sequence[int]) -> dict[int, RoundPayments]:
    """Round id → its payments, for the leader's 统计."""
    money = await payments.line_money(conn, round_ids)
    by_round: dict[int, list[int]] = {}
    for entry_id, m in money.items():
        by_round.setdefault(m.round_id, []).append(entry_id)
    return {
        i: RoundPayments(
            payment_text(by_round.get(i, []), money),
            sum(money[e].amount_fen for e in by_round.get(i, [])),
            sum(money[e].refund_fen for e in by_round.get(i, [])),
        )
        for i in round_ids
    }
