"""Who gets what, and what each resident owes: the final list's money, `我的订单` and the
sorting lists (分拣单) a leader or a delivery driver packs by.

A resident is a name as written in the chain (代接: a line for a neighbour is the
neighbour's), with the building and room read from the name or the note (`3栋502 李姐`).
Lines held for the leader are listed apart and counted in no total (the bot is not sure of
them); goods below their 成团 minimum are not delivered and cost nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from handlers.chain_plan import doubt
from handlers.parsing.address import Address, person_of, read_address
from models.identity import name_key, strip_seq
from models.money import fen_str, fmt_qty
from models.rounds import FLAG_OVER_LIMIT, FLAG_SOLD_OUT, FLAG_UNIT, FLAG_UNMATCHED
from models.store.sorting import Goods, LineGoods

BY_PRODUCT = "按商品"  # 商品-楼号-房号: pick each product, then walk the buildings
BY_BUILDING = "按楼号"  # 楼号-商品-房号: load each building's goods together
HELD_MARK = "（待团长确认，未计入合计）"


def held_reason(flags: Sequence[str]) -> str:
    """Why a line waits for the leader, in the words the leader is told (核对, the xlsx)."""
    if FLAG_OVER_LIMIT in flags:
        return "超过每人限购"
    if FLAG_SOLD_OUT in flags:
        return "超过限量"
    if FLAG_UNIT in flags:
        return "单位和菜单对不上"
    if FLAG_UNMATCHED in flags:
        return "菜单上没有这个商品"
    return doubt(flags)


@dataclass(slots=True)
class Resident:
    """One resident of one round: their lines and, from the counted ones, what they owe."""

    name: str
    address: Address
    lines: list[LineGoods] = field(default_factory=list)
    counted: list[LineGoods] = field(default_factory=list)  # not held
    owed_fen: int = 0
    unpriced: bool = False

    def add(self, ln: LineGoods) -> None:
        self.lines.append(ln)
        if not ln.held:
            self.counted.append(ln)
            self.owed_fen += ln.amount_fen
            self.unpriced = self.unpriced or ln.unpriced

    def sort_key(self) -> tuple[tuple[int, int, int], str]:
        return self.address.sort_key(), self.name


@lru_cache(maxsize=65536)
def _who(written: str, note: str | None) -> tuple[str, str, Address]:
    """(grouping key, name to show, address) of a name as written; the same names recur in
    every round, and 22:00 reads a million lines."""
    address = read_address(written, note)
    return name_key(written), person_of(written, address), address


def residents(lines: Iterable[LineGoods]) -> list[Resident]:
    """The lines grouped by resident, in the order each first appears in the list."""
    by_key: dict[str, Resident] = {}
    for ln in lines:
        key, person, address = _who(ln.name.strip() or ln.poster_name, ln.note)
        r = by_key.get(key or ln.poster)
        if r is None:
            r = by_key[key or ln.poster] = Resident(person, address)
        r.add(ln)
    return list(by_key.values())


def person_name(name: str) -> str:
    """A line's name without its building and room, for lists read aloud: `3栋502 李姐` →
    `李姐` (a name that is only an address stays as written)."""
    return person_of(name, read_address(name))


def owed(fen: int, unpriced: bool) -> str:
    """`¥25.60`, with a word when part of it has no price yet (never a silent ¥0.00)."""
    if unpriced and not fen:
        return "未定价"
    return f"¥{fen_str(fen)}" + ("（另有未定价）" if unpriced else "")


def priced(lines: Iterable[LineGoods]) -> bool:
    """Whether the round sells at prices at all: a chain without prices (a sign-up, a head
    with no 元) gets no money column rather than 未定价 on every line."""
    return any(ln.priced for ln in lines)


def line_text(ln: LineGoods, with_money: bool = True) -> str:
    """A final-list line with what it costs (or why it is not counted)."""
    body = strip_seq(ln.raw)
    if ln.held:
        return f"{body}{HELD_MARK}"
    if not ln.shipping or not with_money:
        return body
    return f"{body} {owed(ln.amount_fen, ln.unpriced)}"


def owed_block(people: Sequence[Resident]) -> str:
    """`每人应付：张三 ¥25.60；李姐 ¥32.60`: the per-resident totals under the final list."""
    paying = [r for r in people if r.counted]
    if not paying:
        return ""
    return "每人应付：" + "；".join(f"{r.name} {owed(r.owed_fen, r.unpriced)}" for r in paying)


def goods_text(goods: Sequence[Goods]) -> str:
    return "，".join(f"{g.name}{fmt_qty(g.qty_milli)}{g.unit or ''}" for g in goods if g.shipped)


@dataclass(frozen=True, slots=True)
class SortRow:
    """One resident's quantity of one product, at one pickup point."""

    pickup: str
    product: str
    position: int  # the product's first appearance, so products keep the menu's order
    address: Address
    name: str
    qty_milli: int
    unit: str | None
    amount_fen: int | None
    numbers: tuple[int, ...]  # final-list numbers of the lines it comes from


def sort_rows(pickup: str, people: Sequence[Resident]) -> list[SortRow]:
    """Each resident's counted, shipping goods summed per product and unit."""
    order: dict[str, int] = {}
    rows: list[SortRow] = []
    for r in people:
        summed: dict[tuple[str, str | None], list[int | None]] = {}
        numbers: dict[tuple[str, str | None], list[int]] = {}
        for ln in r.counted:
            for g in ln.goods:
                if not g.shipped:
                    continue
                key = (g.name, g.unit)
                order.setdefault(g.name, len(order))
                qty, fen = summed.setdefault(key, [0, 0])
                summed[key] = [
                    (qty or 0) + g.qty_milli,
                    None if fen is None or g.amount_fen is None else fen + g.amount_fen,
                ]
                numbers.setdefault(key, []).append(ln.number)
        for (product, unit), (qty, fen) in summed.items():
            rows.append(
                SortRow(
                    pickup,
                    product,
                    order[product],
                    r.address,
                    r.name,
                    qty or 0,
                    unit,
                    fen,
                    tuple(dict.fromkeys(numbers[(product, unit)])),
                )
            )
    return rows


def sorted_rows(rows: Iterable[SortRow], how: str) -> list[SortRow]:
    """商品-楼号-房号 (BY_PRODUCT) or 楼号-商品-房号 (BY_BUILDING), per pickup point."""
    if how == BY_BUILDING:
        return sorted(
            rows,
            key=lambda s: (
                s.pickup,
                s.address.sort_key()[:2],
                s.position,
                s.address.sort_key()[2],
                s.name,
            ),
        )
    return sorted(rows, key=lambda s: (s.pickup, s.position, s.address.sort_key(), s.name))


def _qty(row: SortRow) -> str:
    return f"{fmt_qty(row.qty_milli)}{row.unit or ''}"


def sorting_text(title: str, rows: Sequence[SortRow], how: str, people: Sequence[Resident]) -> str:
    """The 分拣单 for a chat: grouped under products or buildings, each resident's quantity,
    then what each resident owes and the lines left out."""
    lines = [f"【分拣单·{how}】{title}"]
    head = ""
    for row in sorted_rows(rows, how):
        group = row.product if how == BY_PRODUCT else row.address.building_label
        if group != head:
            head = group
            lines.append(f"■ {group}")
        if how == BY_PRODUCT:
            parts = [row.address.building_label + row.address.room_label, row.name, _qty(row)]
        else:
            parts = [row.address.room_label, row.name, row.product + _qty(row)]
        lines.append("  " + " ".join(p for p in parts if p))
    totals = [r for r in sorted(people, key=Resident.sort_key) if r.counted]
    if totals:
        lines.append("■ 每户应付")
        lines.extend(
            f"  {r.address.building_label}{r.address.room_label} {r.name} "
            f"{owed(r.owed_fen, r.unpriced)}"
            for r in totals
        )
    held = [ln for r in people for ln in r.lines if ln.held]
    if held:
        lines.append(f"■ 未计入（待团长确认，不要配货）{len(held)}条")
        lines.extend(f"  {ln.number}. {strip_seq(ln.raw)[:40]}" for ln in held)
    return "\n".join(lines)


@dataclass(slots=True)
class DaySorting:
    """A day's rounds ready for the sorting sheets: goods per resident at each pickup point,
    what each resident owes, and the held lines kept apart from everything packed."""

    rows: list[SortRow] = field(default_factory=list)
    people: list[tuple[str, Resident]] = field(default_factory=list)
    held: list[tuple[str, str, LineGoods]] = field(default_factory=list)  # pickup, title, line

    def add(self, pickup: str, title: str, lines: Sequence[LineGoods]) -> None:
        people = residents(lines)
        self.rows += sort_rows(pickup, people)
        self.people += [(pickup, r) for r in people if r.counted]
        self.held += [(pickup, title, ln) for ln in lines if ln.held]
