"""A platform deal's stock, shared by every group carrying the deal: one counter per product.

Taking stock is one conditional UPDATE, so two bot processes on one PostgreSQL database (or
two connections to one SQLite file) can never take more than there is: on PostgreSQL the row
lock makes the second UPDATE wait and then re-check its condition against the committed
count; SQLite runs one writer at a time. The UPDATE grants the largest prefix of the post's
lines that fits (earlier lines first: a chain is first come, first served) and records the
grant in `last_grant_milli`, which RETURNING reads back (the old value is not readable after
an UPDATE on both databases). One statement, one round trip, whatever the post holds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import BigInteger, ColumnElement, case, false, literal, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from models.money import units_of_sale
from models.store.outbox import insert_ignore
from models.tables import LINE_PRODUCT, DealStock, Entry, OrderLine, Round, RoundProduct

# (deal, product, quantity in thousandths, unit written, the product's unit of sale)
LineTaking = tuple[str, str, int, str | None, str | None]


@dataclass(frozen=True, slots=True)
class Ask:
    """What one post asks of one product: `offset` always applies (lines the post gives back
    are negative), then as many `prefixes` (running totals of its lines, in order) as fit."""

    offset: int
    prefixes: Sequence[int] = ()


@dataclass(frozen=True, slots=True)
class Granted:
    granted: int  # offset plus the prefix that fitted
    left: int  # stock left after this post
    stock: int


def _n(value: int) -> ColumnElement[int]:
    return literal(value, BigInteger())


async def take(conn: AsyncConnection, deal_key: str, asks: Mapping[str, Ask]) -> dict[str, Granted]:
    """Take what fits of each product's ask; products with no stock row are not limited."""
    if not asks:
        return {}
    whens: list[tuple[ColumnElement[bool], ColumnElement[int]]] = []
    for key, ask in asks.items():
        for p in reversed(ask.prefixes):
            whens.append(
                (
                    (DealStock.product_key == key)
                    & (DealStock.taken_milli + _n(ask.offset + p) <= DealStock.stock_milli),
                    _n(ask.offset + p),
                )
            )
        whens.append((DealStock.product_key == key, _n(ask.offset)))
    grant = case(*whens, else_=_n(0))
    rows = await conn.execute(
        update(DealStock)
        .where(DealStock.deal_key == deal_key, DealStock.product_key.in_(list(asks)))
        .values(taken_milli=DealStock.taken_milli + grant, last_grant_milli=grant)
        .returning(
            DealStock.product_key,
            DealStock.stock_milli,
            DealStock.taken_milli,
            DealStock.last_grant_milli,
        )
    )
    return {
        r.product_key: Granted(
            int(r.last_grant_milli), int(r.stock_milli - r.taken_milli), int(r.stock_milli)
        )
        for r in rows.all()
    }


async def left(
    conn: AsyncConnection, deal_keys: Iterable[str]
) -> dict[str, dict[str, tuple[int, int]]]:
    """Deal → product → (left, stock), for the deals given."""
    keys = list(set(deal_keys))
    if not keys:
        return {}
    out: dict[str, dict[str, tuple[int, int]]] = {}
    for r in (
        await conn.execute(
            select(
                DealStock.deal_key,
                DealStock.product_key,
                DealStock.stock_milli,
                DealStock.taken_milli,
            ).where(DealStock.deal_key.in_(keys))
        )
    ).all():
        out.setdefault(r.deal_key, {})[r.product_key] = (
            int(r.stock_milli - r.taken_milli),
            int(r.stock_milli),
        )
    return out


def taken_by_lines(lines: Iterable[LineTaking]) -> dict[tuple[str, str], int]:
    """(deal, product) → thousandths of units of sale the lines hold: what a counter would
    have taken for them (lines whose unit does not convert take nothing, as when posted)."""
    out: dict[tuple[str, str], int] = {}
    for deal, product, qty_milli, unit, sale_unit in lines:
        units = units_of_sale(Decimal(qty_milli) / 1000, unit, sale_unit)
        if units is not None:
            out[(deal, product)] = out.get((deal, product), 0) + int(units * 1000)
    return out


async def counted_lines(
    conn: AsyncConnection, deal_keys: Iterable[str]
) -> dict[tuple[str, str], int]:
    """What the counted lines (active, not held, of products that ship) of every round of
    these deals hold: a counter that starts after rounds were opened starts from this."""
    rows = await conn.execute(
        select(
            Round.deal_key,
            OrderLine.product_key,
            OrderLine.qty_milli,
            OrderLine.unit,
            RoundProduct.sale_unit,
        )
        .join(Entry, Entry.id == OrderLine.entry_id)
        .join(Round, Round.id == OrderLine.round_id)
        .join(RoundProduct, LINE_PRODUCT)
        .where(
            Round.deal_key.in_(list(set(deal_keys))),
            Entry.status == "active",
            Entry.held == false(),
            RoundProduct.shipped.is_not(False),
        )
    )
    return taken_by_lines(
        (str(r.deal_key), str(r.product_key), int(r.qty_milli), r.unit, r.sale_unit)
        for r in rows.all()
    )


async def set_stock(conn: AsyncConnection, rows: Sequence[tuple[str, str, int]]) -> None:
    """(deal, product, stock) from the deals file or the API: the stock is the newest word,
    what has been taken stays. A new counter starts from the lines already counted in the
    deal's rounds (a stock added to a deal already posted, or the first start after an
    upgrade), so they are not sold a second time."""
    if not rows:
        return
    taken = await counted_lines(conn, {d for d, _, _ in rows})
    stmt = insert_ignore(conn)(DealStock)
    stmt = stmt.on_conflict_do_update(
        index_elements=["deal_key", "product_key"],
        set_={"stock_milli": stmt.excluded.stock_milli},
    )
    await conn.execute(
        stmt,
        [
            {
                "deal_key": d,
                "product_key": p,
                "stock_milli": s,
                "taken_milli": taken.get((d, p), 0),
            }
            for d, p, s in rows
        ],
    )
