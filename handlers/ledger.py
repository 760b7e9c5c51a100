"""The leader's commission ledger: earned per round at 截单, given back on refunds, paid out by
an admin. Exact fen throughout.

- `钱包` (a leader, privately): the balance and the latest lines;
- `结算 <团长名字> <金额>` (an admin, privately): records a payment to the leader, found by
  the name people see (handlers/people.py) or by contact id;
- closing a round credits its commission; approving a refund deducts the commission on it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from handlers.commands import Command, Role
from handlers.people import find_leader, leader_names
from handlers.router import Router
from models.config import GroupConfig
from models.context import Context
from models.db import Conn
from models.money import commission_fen, fen_str, to_fen
from models.rounds import RoundCache
from models.store import ledger

router = Router()

MONEY = re.compile(r"^¥?(\d{1,9})(?:\.(\d{1,2}))?元?$")  # yuan with at most two places: exact
KIND_WORDS = {ledger.COMMISSION: "佣金", ledger.REFUND: "退款扣佣", ledger.SETTLEMENT: "结算"}


def parse_money(text: str) -> int | None:
    """`5`, `5.00`, `¥12.8`, `3元` → fen; anything finer than a fen or not a number → None."""
    m = MONEY.match(text.strip())
    return to_fen(Decimal(text.strip().lstrip("¥").rstrip("元"))) if m else None


def commission_line(group: GroupConfig, round_id: int, title: str, amount_fen: int) -> ledger.Line:
    """The commission a closed round earns its group's leader (keyed by the round)."""
    return ledger.Line(
        leader=group.leader,
        kind=ledger.COMMISSION,
        amount_fen=commission_fen(amount_fen, group.commission_rate),
        note=f"{title[:60]} 销售¥{fen_str(amount_fen)}",
        dedupe_key=f"commission:{round_id}",
        round_id=round_id,
    )


async def deduct_refunds(
    conn: Conn,
    group: GroupConfig | None,
    round_id: int,
    refunds: Sequence[tuple[int, int]],
    now: datetime,
) -> None:
    """(refund id, fen) approved on the group's round: the commission on each goes back."""
    if group is None:
        return
    await ledger.book(
        conn,
        [
            ledger.Line(
                leader=group.leader,
                kind=ledger.REFUND,
                amount_fen=-commission_fen(fen, group.commission_rate),
                note=f"退款¥{fen_str(fen)}",
                dedupe_key=f"refund:{refund_id}",
                round_id=round_id,
            )
            for refund_id, fen in refunds
            if commission_fen(fen, group.commission_rate)
        ],
        now,
    )


async def balance_texts(conn: Conn, leaders: Sequence[str]) -> dict[str, str]:
    """Leader → `，佣金余额 ¥…` (earned less refunds and settlements so far), for 月结."""
    return {
        leader: f"，佣金余额 ¥{fen_str(fen)}"
        for leader, fen in (await ledger.balances(conn, leaders)).items()
    }


@router.command("钱包", Role.LEADER, "钱包：佣金余额和明细", chat="private")
async def wallet(ctx: Context, cmd: Command, cache: RoundCache, role: Role) -> None:
    """`钱包`: the leader's balance and latest ledger lines, privately."""
    me = ctx.msg.sender
    total = await ledger.balance(ctx.conn, me)
    mine = [g for g in ctx.groups.all() if g.leader == me]
    name = (await leader_names(ctx.conn, ctx.config, mine)).get(me, "")
    lines = [f"【钱包】{f'{name} ' if name else ''}佣金余额 ¥{fen_str(total)}"]
    for b in await ledger.history(ctx.conn, me):
        sign = "+" if b.amount_fen >= 0 else "-"
        lines.append(
            f"{b.created_at.astimezone(ctx.clock.tz):%m-%d} {KIND_WORDS.get(b.kind, b.kind)} "
            f"{sign}¥{fen_str(abs(b.amount_fen))} {b.note}".rstrip()
        )
    if len(lines) == 1:
        lines.append("还没有记录。")
    ctx.reply("wallet", "\n".join(lines), private=True)


@router.command(
    "结算", Role.ADMIN, "结算 团长名字 金额：记下付给团长的佣金", args="words", chat="private"
)
async def settle(ctx: Context, cmd: Command, cache: RoundCache, role: Role) -> None:
    """`结算 王姐 120.00`: an admin paid a leader (named as 汇总 shows them: the config's
    name, else their display name; or by contact id); the leader's balance goes down by it."""
    who, amount = " ".join(cmd.args[:-1]), parse_money(cmd.args[-1])
    names = await leader_names(ctx.conn, ctx.config, ctx.groups.all())
    leader = find_leader(names, who)
    if amount is None or amount <= 0 or leader is None:
        known = "、".join(sorted(set(names.values()))) or "（没有）"
        why = "金额要写成 120 或 120.50" if amount is None or amount <= 0 else f"找不到团长“{who}”"
        if leader is None and list(names.values()).count(who) > 1:
            why = f"“{who}”对应不止一位团长（写微信号）"
        ctx.reply("settle", f"没有记下：{why}。团长：{known}", private=True)
        return
    await ledger.book(
        ctx.conn,
        [
            ledger.Line(
                leader=leader,
                kind=ledger.SETTLEMENT,
                amount_fen=-amount,
                note=f"管理员{ctx.msg.sender_name}",
                dedupe_key=f"settle:{ctx.msg.id}",
            )
        ],
        ctx.now,
    )
    left = await ledger.balance(ctx.conn, leader)
    ctx.reply(
        "settle",
        f"已记结算：{names[leader]} ¥{fen_str(amount)}，余额 ¥{fen_str(left)}。",
        private=True,
    )
