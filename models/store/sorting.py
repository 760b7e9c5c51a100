"""Every active chain line of some rounds with its goods, for the sorting lists (分拣单) and
the money each resident owes: one query, lines in final-list order."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from models.store.tally import portion_unit
from models.tables import Entry, OrderLine, RoundProduct


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
    goods: list[Goods]

    @property
    def amount_fen(self) -> int:
        """What the line costs: its shipping goods with a price (held lines cost nothing yet)."""
        return sum(g.amount_fen or 0 for g in self.goods if g.shipped)

    @property
    def unpriced(self) -> bool:
        return any(g.amount_fen is None for g in self.goods if g.shipped)


async def lines_with_goods(conn: AsyncConnection, ids: list[int]) -> dict[int, list[LineGoods]]:
    """Round id → its active lines in list order, each with its goods in the order written."""
    rows = (
        await conn.execute(
            select(
                Entry.round_id,
                Entry.id,
                Entry.name,
                Entry.poster,
                Entry.poster_name,
                Entry.raw,
                Entry.note,
                Entry.held,
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
            .outerjoin(
                RoundProduct,
                (RoundProduct.round_id == OrderLine.round_id)
                & (RoundProduct.key == OrderLine.product_key),
            )
            .where(Entry.round_id.in_(ids), Entry.status == "active")
            .order_by(Entry.round_id, Entry.pos, OrderLine.id)
        )
    ).all()
    out: dict[int, list[LineGoods]] = {i: [] for i in ids}
    for r in rows:
        lines = out[r.round_id]
        if not lines or lines[-1].entry_id != r.id:
            lines.append(
                LineGoods(
                    r.round_id,
                    r.id,
                    len(lines) + 1,
                    r.name,
                    r.poster,
                    r.poster_name,
                    r.raw,
                    r.note,
                    bool(r.held),
                    list(r.flags or ()),
                    r.picked_at is not None,
                    [],
                )
            )
        if r.qty_milli is None:
            continue  # a line with no goods read (held for the leader)
        matched = r.product is not None
        in_sale_units = matched and r.unit in (None, "份", r.sale_unit)
        lines[-1].goods.append(
            Goods(
                r.product or r.item_text or "（未写商品）",
                int(r.qty_milli),
                portion_unit(r.sale_unit) if in_sale_units else r.unit,
                None if r.amount_fen is None else int(r.amount_fen),
                r.shipped is not False,
            )
        )
    return out
