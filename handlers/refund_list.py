"""The refunds list of the nightly export (退款): every shortage and after-sales refund of the
day's rounds, so the money going back is reconciled beside the money coming in."""

from __future__ import annotations

from typing import Any

from models.money import qty_number, yuan
from models.store.refunds import REQUESTED, SHORTAGE
from models.store.tally import Tally

REFUNDS = "退款"


def refund_rows(report: Tally) -> list[list[Any]]:
    """One row per refund; a claim the leader has not settled yet shows with no amount."""
    rows: list[list[Any]] = [["团", "名字", "类型", "商品", "数量", "原因", "金额"]]
    for f in report.refunds:
        kind = "缺货" if f.kind == SHORTAGE else "售后"
        if f.status == REQUESTED:
            kind += "（待团长处理）"
        rows.append(
            [
                f.title,
                f.name,
                kind,
                f.product,
                qty_number(f.qty_milli) if f.qty_milli is not None else None,
                f.reason,
                yuan(f.amount_fen) if f.status != REQUESTED else None,
            ]
        )
    settled = [f.amount_fen or 0 for f in report.refunds if f.status != REQUESTED]
    if settled:
        rows.append(["合计", "", "", "", "", "", yuan(sum(settled))])
    return rows
