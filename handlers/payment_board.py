"""The dashboard's payments panel: the day's rounds with what was collected, what residents say
they paid, what is still owed, and the refunds, per round and per line; and the operator's
one-click 收款, recorded as the leader's is.

The figures are those of the leader's 统计 (models.store.payments.PaymentSums), read for the
same rounds as the dashboard's board (cutoff on the day). Held lines owe nothing yet: they are
listed as held, kept out of every sum, like the board keeps them out of its totals.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from handlers.board import audit_decision
from handlers.payments import collect
from handlers.people import named_tally
from models.config import Config
from models.db import Conn
from models.money import fen_str, qty_number
from models.store import payments
from models.store.board import active_line, active_lines
from models.store.payments import LineMoney, PaymentSums, line_state
from models.store.refunds import REQUESTED, RefundRow


def _sums_json(s: PaymentSums, requested: int) -> dict[str, Any]:
    return {
        "collected": fen_str(s.collected_fen),
        "collected_lines": s.collected_lines,
        "claimed": fen_str(s.claimed_fen),
        "claimed_lines": s.claimed_lines,
        "unpaid_lines": s.unpaid_lines,
        "outstanding": fen_str(s.outstanding_fen),
        "refunds": fen_str(s.refund_fen),
        "refunds_requested": requested,
        "to_return": fen_str(s.to_return_fen),
        "unpriced_lines": s.unpriced_lines,
    }


def _refund_json(f: RefundRow, seq: dict[int, int]) -> dict[str, Any]:
    """A shortage or after-sales refund; a claim the leader has not settled has no amount."""
    return {
        "id": f.id,
        "entry": f.entry_id,
        "seq": seq.get(f.entry_id),
        "name": f.name,
        "kind": f.kind,
        "status": f.status,
        "product": f.product,
        "qty": qty_number(f.qty_milli) if f.qty_milli is not None else None,
        "amount": None if f.status == REQUESTED else fen_str(f.amount_fen),
        "reason": f.reason,
    }


async def day_payments(conn: Conn, config: Config, day: date) -> dict[str, Any]:
    """The day's payments and refunds per round and per line, in exact money strings."""
    report = await named_tally(conn, config, day)
    ids = [r.id for r in report.rounds]
    money = await payments.line_money(conn, ids)
    listed = await active_lines(conn, ids)
    topics = {g.room: g.topic for g in config.groups}
    seq: dict[int, int] = {}
    lines: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    for line in listed:
        shown = lines[line.round_id]
        seq[line.id] = len(shown) + 1
        m = money.get(line.id, LineMoney(line.round_id))
        shown.append(
            {
                "id": line.id,
                "seq": seq[line.id],
                "name": line.name or line.poster_name,
                "poster": line.poster,
                "poster_name": line.poster_name,
                "owed": None if line.held else fen_str(m.owed_fen),
                "paid": None if m.paid_fen is None else fen_str(m.paid_fen),
                "refund": fen_str(m.refund_fen),
                "unpriced": m.unpriced,
                "state": "held" if line.held else line_state(m),
            }
        )
    money_of: dict[int, list[LineMoney]] = {i: [] for i in ids}
    for m in money.values():
        money_of[m.round_id].append(m)
    refunds_of: dict[int, list[RefundRow]] = {i: [] for i in ids}
    for f in report.refunds:
        refunds_of[f.round_id].append(f)
    rounds = []
    for r in report.rounds:
        refunds = refunds_of[r.id]
        requested = sum(f.status == REQUESTED for f in refunds)
        sums = PaymentSums.of(money_of[r.id])
        rounds.append(
            {
                "id": r.id,
                "room": r.room,
                "topic": topics.get(r.room, r.room),
                "title": r.title,
                "status": r.status,
                "leader": r.leader,
                "leader_name": r.leader_name,
                **_sums_json(sums, requested),
                "lines": lines[r.id],
                "refund_list": [_refund_json(f, seq) for f in refunds],
            }
        )
    requested = sum(f.status == REQUESTED for f in report.refunds)
    return {
        "date": day.isoformat(),
        "totals": _sums_json(PaymentSums.of(money.values()), requested),
        "rounds": rounds,
    }


class CollectRefused(Exception):
    """The line cannot be marked collected; says why, in Chinese, for the page."""


async def collect_line(conn: Conn, entry_id: int, by: str, now: datetime) -> dict[str, Any]:
    """The operator's one click on an unpaid or claimed line: the leader's `收款` for it (what
    it owes now is recorded), written to the audit log as an operator's decision."""
    found = await active_line(conn, entry_id)
    if found is None:
        raise CollectRefused("没有这一条，或者它已取消。")
    line, room = found
    if line.held:
        raise CollectRefused("这一条还在待确认，先确认再收款。")
    m = (await payments.line_money(conn, [line.round_id])).get(line.id, LineMoney(line.round_id))
    state = line_state(m)
    if state == "collected":
        raise CollectRefused("这一条已经收过款了。")
    if state == "unpriced":
        raise CollectRefused("这一条未定价，不知道该收多少。")
    if state == "nothing":
        raise CollectRefused("这一条不用付款。")
    owed = await collect(conn, line.round_id, [line.id], now, by)
    await audit_decision(conn, room, "收款", [str(entry_id)], by, now)
    return {
        "entry": entry_id,
        "name": line.name or line.poster_name,
        "paid": fen_str(owed[entry_id]),
    }
