"""The leaders' commission ledger: signed fen per line, the balance is their sum.

Commission is credited when a round closes (keyed by the round, so a round reopened and closed
again updates its line rather than adding one); a refund gives back the commission on it; an
admin's settlement (结算) pays the balance out. Nothing here is ever rounded: integers only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from models.store.outbox import insert_ignore
from models.tables import LedgerEntry

COMMISSION = "commission"
REFUND = "refund"
SETTLEMENT = "settlement"


@dataclass(frozen=True, slots=True)
class Line:
    leader: str
    kind: str
    amount_fen: int
    note: str
    dedupe_key: str
    round_id: int | None = None


@dataclass(frozen=True, slots=True)
class Booked:
    kind: str
    amount_fen: int
    note: str
    created_at: datetime


def _row(line: Line, now: datetime) -> dict[str, object]:
    return {
        "leader": line.leader,
        "kind": line.kind,
        "round_id": line.round_id,
        "amount_fen": line.amount_fen,
        "note": line.note[:256],
        "created_at": now,
        "dedupe_key": line.dedupe_key[:256],
    }


async def credit(conn: AsyncConnection, lines: Sequence[Line], now: datetime) -> None:
    """Write commission lines; a line already there under its key takes the new amount (a
    round closed again after 重开 earns what its second close says)."""
    if not lines:
        return
    stmt = insert_ignore(conn)(LedgerEntry)
    stmt = stmt.on_conflict_do_update(
        index_elements=["dedupe_key"],
        set_={"amount_fen": stmt.excluded.amount_fen, "note": stmt.excluded.note},
    )
    await conn.execute(stmt, [_row(line, now) for line in lines])


async def book(conn: AsyncConnection, lines: Sequence[Line], now: datetime) -> None:
    """Write deductions and settlements once each (their key names their cause)."""
    if not lines:
        return
    await conn.execute(
        insert_ignore(conn)(LedgerEntry).on_conflict_do_nothing(index_elements=["dedupe_key"]),
        [_row(line, now) for line in lines],
    )


async def balance(conn: AsyncConnection, leader: str) -> int:
    return int(
        (
            await conn.execute(
                select(func.coalesce(func.sum(LedgerEntry.amount_fen), 0)).where(
                    LedgerEntry.leader == leader
                )
            )
        ).scalar_one()
    )


async def balances(conn: AsyncConnection, leaders: Iterable[str]) -> dict[str, int]:
    """Each leader's balance (one grouped query); leaders with no lines are left out."""
    rows = await conn.execute(
        select(LedgerEntry.leader, func.sum(LedgerEntry.amount_fen))
        .where(LedgerEntry.leader.in_(list(leaders)))
        .group_by(LedgerEntry.leader)
    )
    return {str(leader): int(fen or 0) for leader, fen in rows.all()}


async def history(conn: AsyncConnection, leader: str, limit: int = 12) -> list[Booked]:
    """The leader's latest lines, newest first."""
    rows = await conn.execute(
        select(LedgerEntry.kind, LedgerEntry.amount_fen, LedgerEntry.note, LedgerEntry.created_at)
        .where(LedgerEntry.leader == leader)
        .order_by(LedgerEntry.id.desc())
        .limit(limit)
    )
    return [Booked(r.kind, int(r.amount_fen), r.note, r.created_at) for r in rows.all()]
