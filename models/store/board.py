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


@dataclass(frozen=True, slots=True)
class ListedLine:
    """An active line of a round as the final list numbers it (held ones too)."""

    id: int
    round_id: int
    name: str
    poster: str
    poster_name: str
    held: bool


_LISTED = (Entry.id, Entry.round_id, Entry.name, Entry.poster, Entry.poster_name, Entry.held)


async def active_lines(conn: AsyncConnection, ids: list[int]) -> list[ListedLine]:
    """Every active line of these rounds in chain order: line n of a round is its n-th."""
    if not ids:
        return []
    rows = (
        await conn.execute(
            select(*_LISTED)
            .where(Entry.round_id.in_(ids), Entry.status == "active")
            .order_by(Entry.round_id, Entry.pos)
        )
    ).all()
    return [
        ListedLine(r.id, r.round_id, r.name, r.poster, r.poster_name, bool(r.held)) for r in rows
    ]


async def active_line(conn: AsyncConnection, entry_id: int) -> tuple[ListedLine, str] | None:
    """One active line and its group's room (None: no such line, or cancelled)."""
    r = (
        await conn.execute(
            select(*_LISTED, Round.room)
            .join(Round, Round.id == Entry.round_id)
            .where(Entry.id == entry_id, Entry.status == "active")
        )
    ).one_or_none()
    if r is None:
        return None
    return ListedLine(r.id, r.round_id, r.name, r.poster, r.poster_name, bool(r.held)), r.room
