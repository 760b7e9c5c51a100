"""What the operator dashboard reads beside the tally: cutoffs and the lines held for review."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from models.tables import Entry, Round


async def cutoffs(conn: AsyncConnection, ids: list[int]) -> dict[int, datetime | None]:
    """Round id → its cutoff (截单) time."""
    if not ids:
        return {}
    rows = (await conn.execute(select(Round.id, Round.cutoff_at).where(Round.id.in_(ids)))).all()
    return {r.id: r.cutoff_at for r in rows}


@dataclass(frozen=True, slots=True)
class HeldLine:
    """A line kept out of totals until the leader (or an operator) decides."""

    id: int
    round_id: int
    name: str
    poster_name: str
    raw: str
    flags: tuple[str, ...]


async def held_lines(conn: AsyncConnection, ids: list[int]) -> list[HeldLine]:
    """Every active line of these rounds held for a decision, in chain order."""
    if not ids:
        return []
    rows = (
        await conn.execute(
            select(Entry.id, Entry.round_id, Entry.name, Entry.poster_name, Entry.raw, Entry.flags)
            .where(Entry.round_id.in_(ids), Entry.status == "active", Entry.held.is_(True))
            .order_by(Entry.round_id, Entry.pos)
        )
    ).all()
    return [
        HeldLine(r.id, r.round_id, r.name, r.poster_name, r.raw, tuple(r.flags or ())) for r in rows
    ]


async def room_of_entry(conn: AsyncConnection, entry_id: int) -> str | None:
    """The group an entry was posted in (None: no such entry)."""
    return (
        await conn.execute(
            select(Round.room).join(Entry, Entry.round_id == Round.id).where(Entry.id == entry_id)
        )
    ).scalar_one_or_none()
