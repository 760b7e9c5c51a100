"""Refunds on chain lines: shortages the leader reports at arrival (缺货) and after-sales claims
(售后) a resident raises and the leader settles with an exact amount (退款). Integer fen."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from models.tables import Entry, Refund, Round, RoundProduct

SHORTAGE = "shortage"
AFTERSALE = "aftersale"
REQUESTED = "requested"  # 售后 said, no amount yet
OWED = "owed"  # money going back (or no longer asked for)


@dataclass(frozen=True, slots=True)
class NewRefund:
    entry_id: int
    kind: str
    status: str
    amount_fen: int = 0
    product_key: str | None = None
    qty_milli: int | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class RefundRow:
    """A refund as the lists show it: which round and line, what, why, how much."""

    id: int
    round_id: int
    room: str
    title: str
    entry_id: int
    name: str
    kind: str
    status: str
    product: str
    qty_milli: int | None
    amount_fen: int
    reason: str
    created_at: datetime


async def record(
    conn: AsyncConnection, round_id: int, refunds: Sequence[NewRefund], now: datetime, msg_id: str
) -> list[int]:
    """Insert refunds (one statement); returns their ids in order."""
    if not refunds:
        return []
    result = await conn.execute(
        insert(Refund).returning(Refund.id, sort_by_parameter_order=True),
        [
            {
                "round_id": round_id,
                "entry_id": r.entry_id,
                "kind": r.kind,
                "status": r.status,
                "product_key": r.product_key,
                "qty_milli": r.qty_milli,
                "amount_fen": r.amount_fen,
                "reason": r.reason[:500],
                "created_at": now,
                "message_id": msg_id,
            }
            for r in refunds
        ],
    )
    return [int(r[0]) for r in result.all()]


async def approve(conn: AsyncConnection, entry_id: int, amount_fen: int) -> int | None:
    """The leader settles the line's oldest open after-sales claim with an exact amount;
    returns its id (None: there was no open claim)."""
    oldest = (
        await conn.execute(
            select(Refund.id)
            .where(Refund.entry_id == entry_id, Refund.status == REQUESTED)
            .order_by(Refund.id)
            .limit(1)
        )
    ).scalar_one_or_none()
    if oldest is None:
        return None
    await conn.execute(
        update(Refund).where(Refund.id == oldest).values(status=OWED, amount_fen=amount_fen)
    )
    return int(oldest)


async def shortages(conn: AsyncConnection, round_id: int) -> dict[tuple[int, str | None], int]:
    """(entry id, product key) → thousandths already reported short on it."""
    rows = await conn.execute(
        select(Refund.entry_id, Refund.product_key, Refund.qty_milli).where(
            Refund.round_id == round_id, Refund.kind == SHORTAGE
        )
    )
    out: dict[tuple[int, str | None], int] = {}
    for entry_id, key, qty in rows.all():
        out[(entry_id, key)] = out.get((entry_id, key), 0) + int(qty or 0)
    return out


async def rows_of(conn: AsyncConnection, round_ids: Sequence[int]) -> list[RefundRow]:
    """Every refund of the rounds, oldest first, with the line's name and the product's."""
    if not round_ids:
        return []
    rows = await conn.execute(
        select(
            Refund.id,
            Refund.round_id,
            Round.room,
            Round.title,
            Refund.entry_id,
            Entry.name,
            Refund.kind,
            Refund.status,
            RoundProduct.name.label("product"),
            Refund.qty_milli,
            Refund.amount_fen,
            Refund.reason,
            Refund.created_at,
        )
        .join(Entry, Entry.id == Refund.entry_id)
        .join(Round, Round.id == Refund.round_id)
        .outerjoin(
            RoundProduct,
            (RoundProduct.round_id == Refund.round_id) & (RoundProduct.key == Refund.product_key),
        )
        .where(Refund.round_id.in_(list(round_ids)))
        .order_by(Refund.id)
    )
    return [
        RefundRow(
            id=r.id,
            round_id=r.round_id,
            room=r.room,
            title=r.title,
            entry_id=r.entry_id,
            name=r.name,
            kind=r.kind,
            status=r.status,
            product=r.product or "",
            qty_milli=r.qty_milli,
            amount_fen=int(r.amount_fen),
            reason=r.reason,
            created_at=r.created_at,
        )
        for r in rows.all()
    ]
