"""When the WeChat connection was last known alive: one row per name, upserted."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from models.db import Database
from models.store.outbox import insert_ignore
from models.tables import Heartbeat


async def beat(db: Database, name: str, now: datetime) -> None:
    async with db.begin() as conn:
        await conn.execute(
            insert_ignore(conn)(Heartbeat)
            .values(name=name, seen_at=now)
            .on_conflict_do_update(index_elements=["name"], set_={"seen_at": now})
        )


async def last_beat(db: Database, name: str) -> datetime | None:
    async with db.connect() as conn:
        return (
            await conn.execute(select(Heartbeat.seen_at).where(Heartbeat.name == name))
        ).scalar_one_or_none()
