"""The groups the bot serves: seeded from config.toml, then owned by the database.

Admins bind new groups, replace a leader or pause a group in chat; that writes the groups
table and updates the live map (`Config.groups_by_room`) in place. Other bot processes pick
the change up at their next tick (`sync_groups`), so no group state lives only in memory.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from models.config import Config, GroupConfig
from models.db import Database
from models.store.outbox import insert_ignore
from models.tables import Group


def _bp(rate: Decimal) -> int:
    return int(rate * 10_000)


def _row_to_group(row: Group) -> GroupConfig:
    return GroupConfig(
        room=row.room,
        topic=row.topic,
        leader=row.leader,
        route=row.route,
        pickup_point=row.pickup_point,
        commission_rate=Decimal(row.commission_bp) / 10_000,
        paused=row.status == "paused",
    )


async def sync_groups(db: Database, config: Config, now: datetime, *, seed: bool) -> None:
    """Seed the table from the config's groups (first start), then load the live map from it."""
    async with db.begin() as conn:
        if seed and config.groups:
            await conn.execute(
                insert_ignore(conn)(Group).on_conflict_do_nothing(index_elements=["room"]),
                [
                    {
                        "room": g.room,
                        "topic": g.topic,
                        "leader": g.leader,
                        "route": g.route,
                        "pickup_point": g.pickup_point,
                        "status": "active",
                        "created_at": now,
                        "commission_bp": _bp(g.commission_rate),
                    }
                    for g in config.groups
                ],
            )
        rows = (await conn.execute(select(Group).order_by(Group.id))).all()
    live = {r.room: _row_to_group(r) for r in rows}  # type: ignore[arg-type]
    config.groups_by_room.clear()
    config.groups_by_room.update(live)


async def save_group(
    conn: AsyncConnection, config: Config, group: GroupConfig, now: datetime
) -> None:
    """Create or change one group, in the caller's transaction, and update the live map."""
    values = {
        "topic": group.topic,
        "leader": group.leader,
        "route": group.route,
        "pickup_point": group.pickup_point,
        "status": "paused" if group.paused else "active",
        "commission_bp": _bp(group.commission_rate),
    }
    changed = await conn.execute(update(Group).where(Group.room == group.room).values(**values))
    if not changed.rowcount:
        await conn.execute(
            insert_ignore(conn)(Group).on_conflict_do_nothing(index_elements=["room"]),
            {"room": group.room, "created_at": now, **values},
        )
    config.groups_by_room[group.room] = group
