"""Reports at the edge: the typed tally (models/store/tally.py) as JSON and as chat text.

The figures stay integers (fen, thousandths) until here; this is the one place they become
"25.60" and "1.5", for the `groupbuy tally --json` contract, the HTTP API and the chat.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from handlers.people import named_tally
from models.config import Config
from models.db import Conn
from models.money import fen_str, fmt_qty, qty_number
from models.store.refunds import OWED
from models.store.tally import Amount, RoundTally, Tally


def amount_json(s: Amount) -> dict[str, object]:
    return {"qty": qty_number(s.qty_milli), "unit": s.unit, "amount": fen_str(s.amount_fen)}


def round_json(r: RoundTally) -> dict[str, object]:
    return {
        "id": r.id,
        "room": r.room,
        "title": r.title,
        "leader": r.leader,
        "leader_name": r.leader_name,
        "route": r.route,
        "pickup_point": r.pickup_point,
        "status": r.status,
        "totals": {k: amount_json(s) for k, s in r.totals.items()},
        "amount": fen_str(r.amount_fen),
        "commission": fen_str(r.commission_fen),
        "picked": r.picked,
        "waiting": r.waiting,
        "held": r.held,  # lines waiting for the leader's decision, in no total
    }


def refunds_by_round(t: Tally) -> dict[int, int]:
    """Round id → fen going back on it (shortages and settled after-sales claims)."""
    refunds: dict[int, int] = {}
    for f in t.refunds:
        if f.status == OWED:
            refunds[f.round_id] = refunds.get(f.round_id, 0) + f.amount_fen
    return refunds


def tally_json(t: Tally) -> dict[str, Any]:
    """The `groupbuy tally --json` contract: per round, per product, per route."""
    refunds = refunds_by_round(t)
    return {
        # refunds: shortages and after-sales money going back on the round (not in `amount`)
        "rounds": [{**round_json(r), "refunds": fen_str(refunds.get(r.id, 0))} for r in t.rounds],
        "products": {k: amount_json(s) for k, s in t.products.items()},
        "routes": {
            name: {
                "rounds": route.rounds,
                "amount": fen_str(route.amount_fen),
                "products": {k: amount_json(s) for k, s in route.products.items()},
            }
            for name, route in t.routes.items()
        },
    }


async def tally_report(conn: Conn, config: Config, day: date | None = None) -> dict[str, Any]:
    """The tally of `day` (or of every round) as the JSON contract."""
    return tally_json(await named_tally(conn, config, day))


def goods_text(totals: dict[str, Amount]) -> str:
    """`烟台苹果2份（¥25.60），…` for one round's totals."""
    return "，".join(f"{name}{fmt(s)}（¥{fen_str(s.amount_fen)}）" for name, s in totals.items())


def net_text(amount_fen: int, refund_fen: int) -> str:
    """`合计 ¥73.90，退款 ¥27.70，应收 ¥46.20`: what is owed after refunds, so the leader
    reads the net without doing the sum; `合计 ¥73.90` alone when nothing goes back."""
    if not refund_fen:
        return f"合计 ¥{fen_str(amount_fen)}"
    return (
        f"合计 ¥{fen_str(amount_fen)}，退款 ¥{fen_str(refund_fen)}，"
        f"应收 ¥{fen_str(max(0, amount_fen - refund_fen))}"
    )


def money_text(r: RoundTally, refund_fen: int = 0) -> str:
    """`合计 ¥25.60，佣金 ¥2.56，已取 1，待取 2` for one round (and what waits for the leader);
    with refunds, `合计 ¥73.90，退款 ¥27.70，应收 ¥46.20，佣金 …`."""
    held = f"，待确认 {r.held}（未计入，发“核对”查看）" if r.held else ""
    return (
        f"{net_text(r.amount_fen, refund_fen)}，佣金 ¥{fen_str(r.commission_fen)}，"
        f"已取 {r.picked}，待取 {r.waiting}{held}"
    )


def status_word(status: str) -> str:
    """A round's status as the leader says it."""
    return {"open": "进行中", "closed": "已截单"}.get(status, "已截单")


def fmt(s: Amount) -> str:
    """`2份`, `1.5斤`: a total as people write it."""
    return f"{fmt_qty(s.qty_milli)}{s.unit or ''}"
