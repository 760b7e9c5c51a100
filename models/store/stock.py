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

from sqlalchemy import BigInteger, ColumnElement, case, literal, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from models.store.outbox import insert_ignore
from models.tables import DealStock


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


async def set_stock(conn: AsyncConnection, rows: Sequence[tuple[str, str, int]]) -> None:
    """(deal, product, stock) from the deals file or the API: the stock is the newest word,
    what has been taken stays."""
    if not rows:
        return
    stmt = insert_ignore(conn)(DealStock)
    stmt = stmt.on_conflict_do_update(
        index_elements=["deal_key", "product_key"],
        set_={"stock_milli": stmt.excluded.stock_milli},
    )
    await conn.execute(
        stmt,
        [{"deal_key": d, "product_key": p, "stock_milli": s, "taken_milli": 0} for d, p, s in rows],
    )
