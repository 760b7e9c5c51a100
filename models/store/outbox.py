"""The durable outbox: every outgoing message is a row with a unique dedupe key.

Handlers' replies are inserted in the transaction that caused them (`enqueue`), so a crash
either keeps both the effect and its message or neither. The sender (bot/outbox.py) claims due
rows with a conditional update, sends them and marks them sent; a row claimed but not confirmed
before a crash is put back at start-up (`recover_claimed`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from models.db import Database
from models.messages import OutgoingMessage
from models.tables import InboundMessage, Outbox, Round


def insert_ignore(conn: AsyncConnection):  # type: ignore[no-untyped-def]
    """The dialect's INSERT, which can say ON CONFLICT DO NOTHING (or DO UPDATE)."""
    return pg_insert if conn.dialect.name == "postgresql" else sqlite_insert


def _row(m: OutgoingMessage, now: datetime) -> dict[str, object]:
    return {
        "dedupe_key": m.dedupe_key[:256],
        "room": m.room,
        "to_contact": m.to,
        "text": m.text,
        "mentions": list(m.mentions),
        "file_path": m.file_path,
        "status": "pending",
        "attempts": 0,
        "created_at": now,
        "not_before": m.meta.get("not_before", now),
        "meta": {k: v for k, v in m.meta.items() if k != "not_before"},
    }


async def enqueue(
    conn: AsyncConnection, messages: Sequence[OutgoingMessage], now: datetime
) -> None:
    """Insert replies; a dedupe key seen before is skipped silently (exactly-once)."""
    if not messages:
        return
    rows = [_row(m, now) for m in messages]
    stmt = insert_ignore(conn)(Outbox).on_conflict_do_nothing(index_elements=["dedupe_key"])
    await conn.execute(stmt, rows)


_INSERT_ONE = insert(Outbox).returning(Outbox.id)
_REFRESH_TEXT = (
    update(Outbox)
    .where(Outbox.id == bindparam("b_id"), Outbox.status == "pending")
    .values(text=bindparam("b_text"))
)


async def insert_one(conn: AsyncConnection, message: OutgoingMessage, now: datetime) -> int:
    """Queue one message and return its row id (to rewrite it while it still waits)."""
    return int((await conn.execute(_INSERT_ONE, _row(message, now))).scalar_one())


async def refresh_text(conn: AsyncConnection, row_id: int, text: str) -> bool:
    """Rewrite a message still waiting to be sent; False once it has gone out."""
    result = await conn.execute(_REFRESH_TEXT, {"b_id": row_id, "b_text": text})
    return bool(result.rowcount)


@dataclass(frozen=True, slots=True)
class Queued:
    """One row waiting to be sent: its id, the budget it counts against, the message."""

    id: int
    target: str  # the room, or `to:<contact>` for a private message
    message: OutgoingMessage


def _target(room: str | None, to: str | None) -> str:
    return room or f"to:{to}"


async def due(db: Database, now: datetime, limit: int) -> list[Queued]:
    """Pending rows due at `now`, oldest first."""
    async with db.connect() as conn:
        rows = (
            await conn.execute(
                select(Outbox)
                .where(Outbox.status == "pending", Outbox.not_before <= now)
                .order_by(Outbox.id)
                .limit(limit)
            )
        ).all()
    return [
        Queued(
            r.id,
            _target(r.room, r.to_contact),
            OutgoingMessage(
                dedupe_key=r.dedupe_key,
                room=r.room,
                to=r.to_contact,
                text=r.text,
                mentions=tuple(r.mentions or ()),
                file_path=r.file_path,
                meta={"outbox_id": r.id},
            ),
        )
        for r in rows
    ]


async def claim(db: Database, row_id: int) -> bool:
    """Take a pending row for sending; False if another sender took it first."""
    async with db.begin() as conn:
        claimed = await conn.execute(
            update(Outbox)
            .where(Outbox.id == row_id, Outbox.status == "pending")
            .values(status="sending", attempts=Outbox.attempts + 1)
        )
        return bool(claimed.rowcount)


async def release(db: Database, row_id: int, error: str) -> None:
    """A send failed: the row waits for a later try, with the reason."""
    async with db.begin() as conn:
        await conn.execute(
            update(Outbox)
            .where(Outbox.id == row_id)
            .values(status="pending", last_error=error[:1000])
        )


async def mark_sent(db: Database, row_id: int, now: datetime) -> None:
    async with db.begin() as conn:
        await conn.execute(
            update(Outbox).where(Outbox.id == row_id).values(status="sent", sent_at=now)
        )


async def recover_claimed(db: Database) -> int:
    """Rows left 'sending' by a crash go back to 'pending' (at-least-once for that window)."""
    async with db.begin() as conn:
        result = await conn.execute(
            update(Outbox).where(Outbox.status == "sending").values(status="pending")
        )
        return result.rowcount or 0


async def sent_since(db: Database, since: datetime) -> list[tuple[str, datetime]]:
    """(target, sent_at) of every message sent since `since`, oldest first."""
    async with db.connect() as conn:
        rows = (
            await conn.execute(
                select(Outbox.room, Outbox.to_contact, Outbox.sent_at)
                .where(Outbox.status == "sent", Outbox.sent_at >= since)
                .order_by(Outbox.sent_at)
            )
        ).all()
    return [(_target(r.room, r.to_contact), r.sent_at) for r in rows]


async def last_pending_send(db: Database) -> datetime | None:
    """When the last queued message may go out."""
    async with db.connect() as conn:
        return (
            await conn.execute(
                select(func.max(Outbox.not_before)).where(Outbox.status == "pending")
            )
        ).scalar_one_or_none()


@dataclass(frozen=True, slots=True)
class Counts:
    """What /metrics reports: messages stored, rounds open, outbox rows by status."""

    messages: int
    open_rounds: int
    outbox: dict[str, int]


async def counts(db: Database) -> Counts:
    async with db.connect() as conn:
        messages = (await conn.execute(select(func.count()).select_from(InboundMessage))).scalar()
        open_rounds = (
            await conn.execute(select(func.count()).where(Round.status == "open"))
        ).scalar()
        by_status = (
            await conn.execute(select(Outbox.status, func.count()).group_by(Outbox.status))
        ).all()
    return Counts(int(messages or 0), int(open_rounds or 0), {s: int(n) for s, n in by_status})
