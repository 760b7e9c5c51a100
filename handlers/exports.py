"""The lists operators and drivers print each night, as xlsx (one sheet each) and CSV.

- 配送清单 (delivery): route → leader's group → each product with quantity and amount;
- 排序列表 (loading): product → quantity per route, for loading the trucks;
- 总清单 (total): product → total quantity and amount, for ordering from the supplier;
- 退款 (refunds): shortages and after-sales refunds of those rounds (handlers/refund_list.py);
- with the day's lines (handlers/day_export.py), the sorting lists (分拣单) per pickup point:
  商品-楼号-房号 and 楼号-商品-房号, what each resident owes (每户应付), and the lines held for
  the leader on a sheet of their own (待确认), so they never reach a list goods are packed or
  ordered by.
The tally's figures come from SQL, so the first three always equal `groupbuy tally`. Every
sheet prints: A4, fitted to the page width, the header row on every page, gridlines; money
is a number in a ¥ format, totals are bold rows.
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
from openpyxl.utils import get_column_letter

from handlers.refund_list import REFUNDS, refund_rows
from handlers.sorting import BY_BUILDING, BY_PRODUCT, DaySorting, held_reason, sorted_rows
from models.identity import strip_seq
from models.money import qty_number, yuan
from models.store.tally import Tally

DELIVERY = "配送清单"
SORTING = "排序列表"
TOTAL = "总清单"
SORT_BY_PRODUCT = "分拣单-按商品"
SORT_BY_BUILDING = "分拣单-按楼号"
OWED = "每户应付"
HELD = "待确认-不配货"
# Every list of a day's export (handlers/day_export.py), in the workbook's order: one CSV each.
DAY_LISTS = (DELIVERY, SORTING, TOTAL, SORT_BY_PRODUCT, SORT_BY_BUILDING, OWED, HELD, REFUNDS)
MONEY_FORMAT = '"¥"#,##0.00'
MONEY_COLUMNS = frozenset({"金额", "应付"})
TOTAL_WORDS = frozenset({"合计", "小计"})  # a row with one of these is a total: bold
WIDE = {"原文": 44, "群": 24, "自提点": 20, "商品": 16, "姓名": 14, "团长": 12, "原因": 18}


def delivery_rows(report: Tally) -> list[list[Any]]:
    rows: list[list[Any]] = [["线路", "团长", "群", "自提点", "商品", "数量", "单位", "金额"]]
    for r in sorted(report.rounds, key=lambda r: (r.route, r.room, r.id)):
        for name, t in r.totals.items():
            rows.append(
                [
                    r.route,
                    r.leader_name or "团长",
                    r.title,
                    r.pickup_point,
                    name,
                    qty_number(t.qty_milli),
                    t.unit or "",
                    yuan(t.amount_fen),
                ]
            )
    rows.append(["合计", "", "", "", "", "", "", yuan(sum(r.amount_fen for r in report.rounds))])
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
    rows.append(["合计", "", "", yuan(sum(t.amount_fen for t in report.products.values()))])
    return rows


def _numbers(numbers: Sequence[int]) -> str:
    return "、".join(str(n) for n in numbers)


def sort_sheet_rows(sorting: DaySorting, how: str) -> list[list[Any]]:
    """分拣单: one row per resident and product, a 小计 row under each product (按商品) or
    building (按楼号) of each pickup point; 序号 are the final list's numbers."""
    group_col = "商品" if how == BY_PRODUCT else "楼号"
    inner_col = "楼号" if how == BY_PRODUCT else "商品"
    header = ["自提点", group_col, inner_col, "房号", "姓名", "数量", "单位", "金额", "序号"]
    rows: list[list[Any]] = [header]
    current: tuple[str, str] | None = None
    qty: dict[str | None, int] = {}
    fen = 0

    def subtotal() -> None:
        if current is not None:
            amounts = "，".join(f"{qty_number(q)}{u or ''}" for u, q in qty.items())
            label = amounts if how == BY_PRODUCT else ""
            rows.append([current[0], current[1], "小计", "", "", label, "", yuan(fen), ""])

    for s in sorted_rows(sorting.rows, how):
        group = s.product if how == BY_PRODUCT else s.address.building_label
        if (s.pickup, group) != current:
            subtotal()
            current, qty, fen = (s.pickup, group), {}, 0
        qty[s.unit] = qty.get(s.unit, 0) + s.qty_milli
        fen += s.amount_fen or 0
        inner = s.address.building_label if how == BY_PRODUCT else s.product
        rows.append(
            [
                s.pickup,
                group,
                inner,
                s.address.room_label,
                s.name,
                qty_number(s.qty_milli),
                s.unit or "",
                yuan(s.amount_fen) if s.amount_fen is not None else "未定价",
                _numbers(s.numbers),
            ]
        )
    subtotal()
    return rows


def owed_rows(sorting: DaySorting) -> list[list[Any]]:
    """每户应付: each resident's goods and what they owe, by pickup point, building and room."""
    rows: list[list[Any]] = [["自提点", "楼号", "房号", "姓名", "商品", "应付", "序号"]]
    people = sorted(sorting.people, key=lambda pr: (pr[0], pr[1].sort_key()))
    for pickup, r in people:
        goods = "；".join(
            f"{g.name}{qty_number(g.qty_milli)}{g.unit or ''}"
            for ln in r.counted
            for g in ln.goods
            if g.shipped
        )
        rows.append(
            [
                pickup,
                r.address.building_label,
                r.address.room_label,
                r.name,
                goods + ("（另有未定价）" if r.unpriced else ""),
                yuan(r.owed_fen),
                _numbers([ln.number for ln in r.counted]),
            ]
        )
    rows.append(["合计", "", "", "", "", yuan(sum(r.owed_fen for _, r in people)), ""])
    return rows


def held_rows(sorting: DaySorting) -> list[list[Any]]:
    """Lines the bot was not sure of, over a limit or past the stock: not packed, not ordered."""
    rows: list[list[Any]] = [["自提点", "群", "序号", "姓名", "原文", "原因"]]
    for pickup, title, ln in sorting.held:
        rows.append([pickup, title, ln.number, ln.name, strip_seq(ln.raw), held_reason(ln.flags)])
    return rows


def _printable(ws: Any, header: Sequence[Any]) -> None:
    """A4, fitted to the page width (as many pages down as needed), the header row repeated
    on every page, gridlines printed, the header frozen on screen."""
    ws.page_setup.paperSize = "9"  # A4
    ws.page_setup.orientation = "landscape" if len(header) > 7 else "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "1:1"
    ws.print_options.gridLines = True
    ws.freeze_panes = "A2"
    for i, name in enumerate(header, 1):
        ws.column_dimensions[get_column_letter(i)].width = WIDE.get(str(name), 11)


def _sheet(wb: Workbook, title: str, rows: Sequence[list[Any]]) -> None:
    """Stream one list into a write-only sheet: a bold header, money in ¥ to two places, total
    rows bold. Write-only mode keeps no cell objects around, so tens of thousands of rows cost
    little time and memory."""
    ws = wb.create_sheet(title)
    header = rows[0]
    _printable(ws, header)
    bold = Font(bold=True)
    ws.append([_styled(ws, v, font=bold) for v in header])
    money = {i for i, v in enumerate(header) if v in MONEY_COLUMNS}
    for row in rows[1:]:
        # xlsx has no decimal type: amounts go in as numbers formatted to two places.
        values: list[Any] = [float(v) if isinstance(v, Decimal) else v for v in row]
        total = any(v in TOTAL_WORDS for v in values if isinstance(v, str))
        for i, v in enumerate(values):
            style: dict[str, Any] = {"font": bold} if total else {}
            if i in money and isinstance(v, float):
                style["number_format"] = MONEY_FORMAT
            if style:
                values[i] = _styled(ws, v, **style)
        ws.append(values)


def _styled(ws: Any, value: Any, **style: Any) -> WriteOnlyCell:
    cell = WriteOnlyCell(ws, value=value)
    for name, v in style.items():
        setattr(cell, name, v)
    return cell


def write_exports(
    report: Tally, out_dir: Path, stem: str, sorting: DaySorting | None = None
) -> list[Path]:
    """Write `<stem>.xlsx` with a sheet per list and one CSV per list; returns the paths.
    Without `sorting` (the day's lines), only the tally's three lists."""
    out_dir.mkdir(parents=True, exist_ok=True)
    lists = [
        (DELIVERY, delivery_rows(report)),
        (SORTING, sorting_rows(report)),
        (TOTAL, total_rows(report)),
    ]
    if sorting is not None:
        lists += [
            (SORT_BY_PRODUCT, sort_sheet_rows(sorting, BY_PRODUCT)),
            (SORT_BY_BUILDING, sort_sheet_rows(sorting, BY_BUILDING)),
            (OWED, owed_rows(sorting)),
            (HELD, held_rows(sorting)),
        ]
    lists.append((REFUNDS, refund_rows(report)))
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
