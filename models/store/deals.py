"""Platform deals, kept in the database: a deal scheduled for later survives a restart, and
every bot process posts from the same list. Written from the deals file at start and from the
HTTP API; read by the schedule, and by leaders (开团) and admins (推送) in chat."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from handlers.parsing.matching import Product
from models.deals import Deal, DealProduct
from models.rounds import Limits
from models.store import stock
from models.store.outbox import insert_ignore
from models.tables import PlatformDeal


def _product_json(dp: DealProduct) -> dict[str, Any]:
    p, lim = dp.product, dp.limits
    return {
        "key": p.key,
        "name": p.name,
        "code": p.code,
        "aliases": list(p.aliases),
        "price": str(p.price) if p.price is not None else None,
        "sale_unit": p.sale_unit,
        "limit_milli": lim.limit_milli,
        "group_stock_milli": lim.stock_milli,
        "min_milli": lim.min_milli,
        "stock_milli": dp.stock_milli,  # shared by every group (models/store/stock.py)
    }


def _product(d: dict[str, Any]) -> DealProduct:
    return DealProduct(
        Product(
            key=d["key"],
            name=d["name"],
            code=d.get("code"),
            aliases=tuple(d.get("aliases") or ()),
            price=Decimal(d["price"]) if d.get("price") is not None else None,
            sale_unit=d.get("sale_unit"),
        ),
        Limits(d.get("limit_milli"), d.get("group_stock_milli"), d.get("min_milli")),
        d.get("stock_milli"),
    )


def _deal(row: Any) -> Deal:
    """A deals row (columns by name) as the Deal it stores."""
    return Deal(
        key=row.key,
        title=row.title,
        post_at=row.post_at,
        cutoff_at=row.cutoff_at,
        pickup=row.pickup,
        groups=tuple(row.groups),
        products=tuple(_product(p) for p in row.products),
    )


async def save(conn: AsyncConnection, deals: Sequence[Deal], now: datetime) -> None:
    """Insert the deals, or update those already known by key (the newest word wins)."""
    if not deals:
        return
    rows = [
        {
            "key": d.key,
            "title": d.title,
            "post_at": d.post_at,
            "cutoff_at": d.cutoff_at,
            "pickup": d.pickup,
            "groups": list(d.groups),
            "products": [_product_json(p) for p in d.products],
            "updated_at": now,
        }
        for d in deals
    ]
    stmt = insert_ignore(conn)(PlatformDeal)
    stmt = stmt.on_conflict_do_update(
        index_elements=["key"],
        set_={c: stmt.excluded[c] for c in rows[0] if c != "key"},
    )
    await conn.execute(stmt, rows)
    await stock.set_stock(
        conn,
        [
            (d.key, p.product.key, p.stock_milli)
            for d in deals
            for p in d.products
            if p.stock_milli is not None
        ],
    )


async def pending(conn: AsyncConnection, now: datetime) -> list[Deal]:
    """Deals still open for orders at `now` (cutoff not passed), oldest first."""
    rows = await conn.execute(
        select(PlatformDeal).where(PlatformDeal.cutoff_at > now).order_by(PlatformDeal.id)
    )
    return [_deal(r) for r in rows.all()]


async def find(conn: AsyncConnection, key: str) -> Deal | None:
    row = (await conn.execute(select(PlatformDeal).where(PlatformDeal.key == key))).one_or_none()
    return _deal(row) if row is not None else None
