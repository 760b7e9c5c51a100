"""The durable outbox: every outgoing message is a row with a unique dedupe key.

Handlers' replies are inserted in the transaction that caused them (`enqueue`), so a crash
either keeps both the effect and its message or neither. `drain` sends due rows in order and
marks them sent; a row claimed but not confirmed before a crash is retried at start-up.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.limits import SendLimiter, ThrottledError
from bot.messages import OutgoingMessage
from models.db import Database
from models.tables import Outbox

log = logging.getLogger(__name__)

SendFn = Callable[[OutgoingMessage], Awaitable[None]]


def insert_ignore(conn: AsyncConnection):  # type: ignore[no-untyped-def]
    """The dialect's INSERT, which can say ON CONFLICT DO NOTHING (or DO UPDATE)."""
    return pg_insert if conn.dialect.name == "postgresql" else sqlite_insert


async def enqueue(
    conn: AsyncConnection, messages: Sequence[OutgoingMessage], now: datetime
) -> None:
    """Insert replies; a dedupe key seen before is skipped silently (exactly-once)."""
    if not messages:
        return
    rows = [
        {
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
        for m in messages
    ]
    stmt = insert_ignore(conn)(Outbox).on_conflict_do_nothing(index_elements=["dedupe_key"])
    await conn.execute(stmt, rows)


def row_to_message(row: Outbox) -> OutgoingMessage:
    return OutgoingMessage(
        dedupe_key=row.dedupe_key,
        room=row.room,
        to=row.to_contact,
        text=row.text,
        mentions=tuple(row.mentions or ()),
        file_path=row.file_path,
        meta={"outbox_id": row.id},
    )


async def recover_claimed(db: Database) -> int:
    """Rows left 'sending' by a crash go back to 'pending' (at-least-once for that window)."""
    async with db.begin() as conn:
        result = await conn.execute(
            update(Outbox).where(Outbox.status == "sending").values(status="pending")
        )
        return result.rowcount or 0


async def drain(
    db: Database,
    send: SendFn,
    now: datetime,
    *,
    limiter: SendLimiter | None = None,
    limit: int = 500,
) -> int:
    """Send due rows in creation order within the limiter's budgets; returns how many went.

    Each row is claimed with a conditional update first, so two drainers never send one row.
    A row whose group must wait is skipped for now (others may go); when the account's budget
    is spent or the platform throttles, draining stops until a later tick.
    """
    if limiter is not None and not limiter.loaded:
        await limiter.load(db, now)
    sent = 0
    async with db.connect() as conn:
        rows = (
            await conn.execute(
                select(Outbox)
                .where(Outbox.status == "pending", Outbox.not_before <= now)
                .order_by(Outbox.id)
                .limit(limit)
            )
        ).all()
    for row in rows:
        target = row.room or f"to:{row.to_contact}"
        if limiter is not None:
            if limiter.account_blocked(now):
                break
            if limiter.earliest(target, now) > now:
                continue
        async with db.begin() as conn:
            claimed = await conn.execute(
                update(Outbox)
                .where(Outbox.id == row.id, Outbox.status == "pending")
                .values(status="sending", attempts=Outbox.attempts + 1)
            )
            if not claimed.rowcount:
                continue
        msg = row_to_message(row)  # type: ignore[arg-type]
        try:
            await send(msg)
        except ThrottledError as exc:
            until = limiter.throttled(now) if limiter is not None else now
            log.warning("platform throttles sending (%s); pausing until %s", exc, until)
            async with db.begin() as conn:
                await conn.execute(
                    update(Outbox)
                    .where(Outbox.id == row.id)
                    .values(status="pending", last_error=f"throttled: {exc}"[:1000])
                )
            break
        except Exception as exc:  # the platform refused: keep the row for a later try
            log.warning("send failed for %s: %s", row.dedupe_key, exc)
            async with db.begin() as conn:
                await conn.execute(
                    update(Outbox)
                    .where(Outbox.id == row.id)
                    .values(status="pending", last_error=str(exc)[:1000])
                )
            continue
        async with db.begin() as conn:
            await conn.execute(
                update(Outbox).where(Outbox.id == row.id).values(status="sent", sent_at=now)
            )
        if limiter is not None:
            limiter.record(target, now)
        sent += 1
    return sent
