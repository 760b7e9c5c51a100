"""Every active chain line of some rounds with what it costs, for the final list and
`我的订单` (`final_lines`: sums per line from SQL, cheap enough for a million lines at 22:00),
and with its goods for the sorting lists (`lines_with_goods`). One query each, lines in
final-list order."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from models.store.tally import portion_unit
from models.tables import LINE_PRODUCT, Entry, OrderLine, RoundProduct


@dataclass(frozen=True, slots=True)
class Goods:
    """One product of a line as it will be packed: name, exact quantity, unit, price."""

    name: str
    qty_milli: int
    unit: str | None
    amount_fen: int | None  # None: no price, or the written unit does not convert
    shipped: bool  # False: below its 成团 minimum, not delivered


@dataclass(slots=True)
class LineGoods:
    """One active chain line: who (as written, and who posted it), its note, and its goods."""

    round_id: int
    entry_id: int
    number: int  # its number in the final list
    name: str
    poster: str
    poster_name: str
    raw: str
    note: str | None
    held: bool
    flags: list[str]
    picked: bool
    goods: list[Goods]  # empty from `final_lines`, which sums them in SQL
    # Of its goods that ship (成团): what they cost, how many, how many have no price.
    amount_fen: int = 0
    shipping: int = 0
    unpriced_count: int = 0

    @property
    def unpriced(self) -> bool:
        return self.unpriced_count > 0

    @property
    def priced(self) -> bool:
        return self.shipping > self.unpriced_count

    def add(self, g: Goods) -> None:
        self.goods.append(g)
        if g.shipped:
            self.shipping += 1
            self.amount_fen += g.amount_fen or 0
            self.unpriced_count += g.amount_fen is None


_unit = lru_cache(maxsize=256)(portion_unit)  # a handful of sale units, a million lines
# What both queries read of a line, in LineGoods' order.
_LINE = (
    Entry.round_id,
    Entry.id,
    Entry.name,
    Entry.poster,
    Entry.poster_name,
    Entry.raw,
    Entry.note,
    Entry.held,
)


def _append(lines: list[LineGoods], row: Sequence[Any], flags: Sequence[str], picked: bool) -> None:
    """The next line of a round's list from the `_LINE` part of a row."""
    round_id, entry_id, name, poster, poster_name, raw, note, held = row[: len(_LINE)]
    lines.append(
        LineGoods(
            round_id,
            entry_id,
            len(lines) + 1,
            name,
            poster,
            poster_name,
            raw,
            note,
            bool(held),
            list(flags or ()),
            picked,
            [],
        )
    )


async def lines_with_goods(conn: AsyncConnection, ids: list[int]) -> dict[int, list[LineGoods]]:
    """Round id → its active lines in list order, each with its goods in the order written."""
    rows = (
        await conn.execute(
            select(
                *_LINE,
                Entry.flags,
                Entry.picked_at,
                OrderLine.product_key,
                OrderLine.item_text,
                OrderLine.qty_milli,
                OrderLine.unit,
                OrderLine.amount_fen,
                RoundProduct.name.label("product"),
                RoundProduct.sale_unit,
                RoundProduct.shipped,
            )
            .outerjoin(OrderLine, OrderLine.entry_id == Entry.id)
            .outerjoin(RoundProduct, LINE_PRODUCT)
            .where(Entry.round_id.in_(ids), Entry.status == "active")
            .order_by(Entry.round_id, Entry.pos, OrderLine.id)
        )
    ).all()
    out: dict[int, list[LineGoods]] = {i: [] for i in ids}
    for r in rows:
        lines = out[r.round_id]
        if not lines or lines[-1].entry_id != r.id:
            _append(lines, tuple(r), r.flags, r.picked_at is not None)
        if r.qty_milli is None:
            continue  # a line with no goods read (held for the leader)
        matched = r.product is not None
        in_sale_units = matched and r.unit in (None, "份", r.sale_unit)
        lines[-1].add(
            Goods(
                r.product or r.item_text or "（未写商品）",
                int(r.qty_milli),
                _unit(r.sale_unit) if in_sale_units else r.unit,
                None if r.amount_fen is None else int(r.amount_fen),
                r.shipped is not False,
            )
        )
    return out


async def final_lines(conn: AsyncConnection, ids: list[int]) -> dict[int, list[LineGoods]]:
    """Round id → its active lines in list order with what each costs, summed in SQL per
    line (goods, flags and pickups not read): the final list of every round closing at
    22:00, and `我的订单`."""
    shipping = select(
        OrderLine.entry_id.label("entry_id"),
        func.count().label("n"),
        func.coalesce(func.sum(OrderLine.amount_fen), 0).label("fen"),
        func.sum(case((OrderLine.amount_fen.is_(None), 1), else_=0)).label("unpriced"),
    ).outerjoin(RoundProduct, LINE_PRODUCT)
    per_line = (
        shipping.where(OrderLine.round_id.in_(ids), RoundProduct.shipped.is_not(False))
        .group_by(OrderLine.entry_id)
        .subquery("per_line")
    )
    rows = await conn.execute(
        select(
            *_LINE,
            per_line.c.n,
            per_line.c.fen,
            per_line.c.unpriced,
        )
        .outerjoin(per_line, per_line.c.entry_id == Entry.id)
        .where(Entry.round_id.in_(ids), Entry.status == "active")
        .order_by(Entry.round_id, Entry.pos)
    )
    out: dict[int, list[LineGoods]] = {i: [] for i in ids}
    for row in rows:
        lines = out[row[0]]
        _append(lines, tuple(row), (), False)
        n, fen, unpriced = row[len(_LINE) :]
        lines[-1].shipping = int(n or 0)
        lines[-1].amount_fen = int(fen or 0)
        lines[-1].unpriced_count = int(unpriced or 0)
    return out
