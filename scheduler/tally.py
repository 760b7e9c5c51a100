"""Tallies by SQL aggregation: the database sums exact integers (fen, thousandths)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from models.tables import Entry, OrderLine, Round, RoundProduct


@dataclass(frozen=True, slots=True)
class ProductTotal:
    key: str | None  # matched product key, None for items that matched nothing
    name: str  # product name, or the item as written when unmatched
    qty_milli: int
    unit: str | None


def portion_unit(sale_unit: str | None) -> str:
    """How one unit of sale is called: `把` for 9.9元/把, `份` for 12.8元/3斤."""
    if sale_unit and not any(ch.isdigit() for ch in sale_unit):
        return sale_unit
    return "份"


async def round_totals(conn: AsyncConnection, round_id: int) -> list[ProductTotal]:
    """Quantities per product for a round's active entries, in menu order.

    `苹果2份`, `1号×2` and `香蕉1把` (when it sells by the 把) all count units of sale, so they
    add up under one unit; any other measure (`苹果6斤`) is summed on its own line.
    """
    unit = case(
        (
            RoundProduct.key.is_not(None)
            & (
                OrderLine.unit.is_(None)
                | (OrderLine.unit == "份")
                | (OrderLine.unit == RoundProduct.sale_unit)
            ),
            None,
        ),
        else_=OrderLine.unit,
    )
    name = func.coalesce(RoundProduct.name, OrderLine.item_text)
    rows = (
        await conn.execute(
            select(
                OrderLine.product_key,
                name.label("name"),
                func.sum(OrderLine.qty_milli).label("qty"),
                unit.label("unit"),
                func.min(func.coalesce(RoundProduct.position, 10_000)).label("position"),
                func.max(RoundProduct.sale_unit).label("sale_unit"),
                func.count(RoundProduct.key).label("matched"),
            )
            .join(Entry, Entry.id == OrderLine.entry_id)
            .outerjoin(
                RoundProduct,
                (RoundProduct.round_id == OrderLine.round_id)
                & (RoundProduct.key == OrderLine.product_key),
            )
            .where(OrderLine.round_id == round_id, Entry.status == "active")
            .group_by(OrderLine.product_key, name, unit)
        )
    ).all()
    ordered = sorted(rows, key=lambda r: (r.position, r.name or "", r.unit or ""))
    return [
        ProductTotal(
            r.product_key,
            r.name or "（未写商品）",
            int(r.qty),
            portion_unit(r.sale_unit) if r.matched and r.unit is None else r.unit,
        )
        for r in ordered
    ]


async def orders_report(conn: AsyncConnection) -> list[dict[str, object]]:
    """Every round with its active orders (the `groupbuy orders --json` contract)."""
    rounds = (await conn.execute(select(Round).order_by(Round.id))).all()
    products = {
        (r.round_id, r.key): r.name for r in (await conn.execute(select(RoundProduct))).all()
    }
    entries = (
        await conn.execute(
            select(Entry.id, Entry.round_id, Entry.name, Entry.poster, Entry.raw, Entry.flags)
            .where(Entry.status == "active")
            .order_by(Entry.round_id, Entry.pos)
        )
    ).all()
    lines: dict[int, list[dict[str, object]]] = {}
    for ln in (
        await conn.execute(
            select(
                OrderLine.entry_id,
                OrderLine.round_id,
                OrderLine.product_key,
                OrderLine.item_text,
                OrderLine.qty_milli,
                OrderLine.unit,
            ).order_by(OrderLine.id)
        )
    ).all():
        product = products.get((ln.round_id, ln.product_key)) if ln.product_key else None
        lines.setdefault(ln.entry_id, []).append(
            {"product": product or ln.item_text, "qty": qty_number(ln.qty_milli), "unit": ln.unit}
        )
    by_round: dict[int, list[dict[str, object]]] = {}
    for e in entries:
        by_round.setdefault(e.round_id, []).append(
            {
                "name": e.name,
                "poster": e.poster,
                "items": lines.get(e.id, []),
                "raw": e.raw,
                "flags": list(e.flags or ()),
            }
        )
    return [
        {
            "id": r.id,
            "room": r.room,
            "title": r.title,
            "status": r.status,
            "orders": by_round.get(r.id, []),
        }
        for r in rounds
    ]


def qty_number(qty_milli: int) -> int | float:
    """Thousandths back to the JSON number people wrote (2, 0.5, 1.5)."""
    return qty_milli // 1000 if qty_milli % 1000 == 0 else qty_milli / 1000
