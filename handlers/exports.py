"""The three delivery lists operators print each night, as xlsx (one sheet each) and CSV.

- 配送清单 (delivery): route → leader's group → each product with quantity and amount;
- 排序列表 (sorting): product → quantity per route, for loading the trucks;
- 总清单 (total): product → total quantity and amount, for ordering from the supplier;
- 退款 (refunds): shortages and after-sales refunds of those rounds (handlers/refund_list.py).
All figures come from the SQL tally, so the files always equal `groupbuy tally`.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from handlers.refund_list import REFUNDS, refund_rows
from models.money import qty_number, yuan
from models.store.tally import Tally

DELIVERY = "配送清单"
SORTING = "排序列表"
TOTAL = "总清单"


def delivery_rows(report: Tally) -> list[list[Any]]:
    rows: list[list[Any]] = [["线路", "团长", "群", "自提点", "商品", "数量", "单位", "金额"]]
    for r in sorted(report.rounds, key=lambda r: (r.route, r.room, r.id)):
        for name, t in r.totals.items():
            rows.append(
                [
                    r.route,
                    r.leader,
                    r.title,
                    r.pickup_point,
                    name,
                    qty_number(t.qty_milli),
                    t.unit or "",
                    yuan(t.amount_fen),
                ]
            )
    return rows


def sorting_rows(report: Tally) -> list[list[Any]]:
    routes = sorted(report.routes)
    rows: list[list[Any]] = [["商品", "单位", *routes, "合计"]]
    for name, t in report.products.items():
        per_route = [
            qty_number(report.routes[rt].products[name].qty_milli)
            if name in report.routes[rt].products
            else 0
            for rt in routes
        ]
        rows.append([name, t.unit or "", *per_route, qty_number(t.qty_milli)])
    return rows


def total_rows(report: Tally) -> list[list[Any]]:
    rows: list[list[Any]] = [["商品", "数量", "单位", "金额"]]
    for name, t in report.products.items():
        rows.append([name, qty_number(t.qty_milli), t.unit or "", yuan(t.amount_fen)])
    return rows


def _sheet(wb: Workbook, title: str, rows: Sequence[list[Any]]) -> None:
    """Stream one list into a write-only sheet: a bold header, amounts formatted to two
    places. Write-only mode keeps no cell objects around, so tens of thousands of rows cost
    little time and memory."""
    ws = wb.create_sheet(title)
    header = rows[0]
    bold = Font(bold=True)
    ws.append([_styled(ws, v, font=bold) for v in header])
    money = {i for i, v in enumerate(header) if v == "金额"}
    for row in rows[1:]:
        # xlsx has no decimal type: amounts go in as numbers formatted to two places.
        values = [float(v) if isinstance(v, Decimal) else v for v in row]
        for i in money:
            if i < len(values) and isinstance(values[i], float):
                values[i] = _styled(ws, values[i], number_format="0.00")
        ws.append(values)


def _styled(ws: Any, value: Any, **style: Any) -> WriteOnlyCell:
    cell = WriteOnlyCell(ws, value=value)
    for name, v in style.items():
        setattr(cell, name, v)
    return cell


def write_exports(report: Tally, out_dir: Path, stem: str) -> list[Path]:
    """Write `<stem>.xlsx` with the three sheets and one CSV per list; returns the paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    lists = [
        (DELIVERY, delivery_rows(report)),
        (SORTING, sorting_rows(report)),
        (TOTAL, total_rows(report)),
        (REFUNDS, refund_rows(report)),
    ]
    wb = Workbook(write_only=True)
    for title, rows in lists:
        _sheet(wb, title, rows)
    xlsx = out_dir / f"{stem}.xlsx"
    wb.save(xlsx)
    paths = [xlsx]
    for title, rows in lists:
        path = out_dir / f"{stem}-{title}.csv"
        # UTF-8 with BOM: Excel on Windows (what most operators use) then shows Chinese right.
        with path.open("w", encoding="utf-8-sig", newline="") as fh:
            csv.writer(fh).writerows([[str(v) for v in row] for row in rows])
        paths.append(path)
    return paths
