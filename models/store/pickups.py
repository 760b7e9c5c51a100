"""After 截单: goods arrive (到货), residents pick up (已取), reminders name who still waits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Row, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from models.tables import Entry, Round


async def waiting(conn: AsyncConnection, round_id: int) -> dict[int, tuple[str, bool]]:
    """Entry id → (name, picked) for the round's active entries."""
    rows = (
        await conn.execute(
            select(Entry.id, Entry.name, Entry.picked_at)
            .where(Entry.round_id == round_id, Entry.status == "active")
            .order_by(Entry.pos)
        )
    ).all()
    return {r.id: (r.name, r.picked_at is not None) for r in rows}


async def mark_arrived(conn: AsyncConnection, round_id: int, now: datetime) -> bool:
    """Mark the round's goods arrived; False when they already were (exactly once)."""
    marked = await conn.execute(
        update(Round)
        .where(Round.id == round_id, Round.arrived_at.is_(None))
        .values(arrived_at=now)
        .returning(Round.id)
    )
    return marked.scalar_one_or_none() is not None


async def mark_picked(conn: AsyncConnection, entry_ids: list[int], now: datetime) -> None:
    await conn.execute(
        update(Entry)
        .where(Entry.id.in_(entry_ids), Entry.picked_at.is_(None))
        .values(picked_at=now)
    )


async def arrived_since(
    conn: AsyncConnection, since: datetime
) -> Sequence[Row[int, str, str, datetime | None]]:
    """Closed rounds whose goods arrived since `since`: id, room, title, arrived_at."""
    return (
        await conn.execute(
            select(Round.id, Round.room, Round.title, Round.arrived_at).where(
                Round.status == "closed", Round.arrived_at >= since
            )
        )
    ).all()


async def active_entries(
    conn: AsyncConnection, round_ids: list[int]
) -> Sequence[Row[int, str, datetime | None]]:
    """The rounds' active entries in list order: round_id, name, picked_at."""
    return (
        await conn.execute(
            select(Entry.round_id, Entry.name, Entry.picked_at)
            .where(Entry.round_id.in_(round_ids), Entry.status == "active")
            .order_by(Entry.round_id, Entry.pos)
        )
    ).all()
