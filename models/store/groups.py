"""The groups the bot serves: seeded from config.toml, then owned by the database.

Admins bind new groups, replace a leader or pause a group in chat; that writes the groups
table, in the message's transaction. `Groups` is the App's live copy of the table, the one
map every part reads (the router per message, handlers through their context); other bot
processes pick a change up at their next tick (`sync`), so no group state lives only in
memory. Reports and jobs that run in their own transaction read the table itself (`load`).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from models.config import GroupConfig
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
        leader_name=row.leader_name,
    )


async def load(conn: AsyncConnection) -> dict[str, GroupConfig]:
    """Every group in the table, by room."""
    rows = (await conn.execute(select(Group).order_by(Group.id))).all()
    return {r.room: _row_to_group(r) for r in rows}  # type: ignore[arg-type]


class Groups:
    """The live map of groups by room; the database is its source, `sync` its refresh."""

    def __init__(self, seed: tuple[GroupConfig, ...] = ()) -> None:
        self._seed = seed  # the config file's [[groups]], written to the table once
        self._by_room: dict[str, GroupConfig] = {g.room: g for g in seed}

    def get(self, room: str | None) -> GroupConfig | None:
        return self._by_room.get(room) if room is not None else None

    def all(self) -> tuple[GroupConfig, ...]:
        return tuple(self._by_room.values())

    def __contains__(self, room: object) -> bool:
        return room in self._by_room

    def remember(self, group: GroupConfig) -> None:
        """Take a group as it now is in the table (after `save`, or in a test's setup)."""
        self._by_room[group.room] = group

    async def sync(self, db: Database, now: datetime, *, seed: bool = False) -> None:
        """Seed the table from the config's groups (first start), then reload the live map."""
        async with db.begin() as conn:
            if seed and self._seed:
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
                            "leader_name": g.leader_name,
                        }
                        for g in self._seed
                    ],
                )
            live = await load(conn)
        self._by_room = live

    async def save(self, conn: AsyncConnection, group: GroupConfig, now: datetime) -> None:
        """Create or change one group, in the caller's transaction, and update the live map."""
        values = {
            "topic": group.topic,
            "leader": group.leader,
            "route": group.route,
            "pickup_point": group.pickup_point,
            "status": "paused" if group.paused else "active",
            "commission_bp": _bp(group.commission_rate),
            "leader_name": group.leader_name,
        }
        changed = await conn.execute(update(Group).where(Group.room == group.room).values(**values))
        if not changed.rowcount:
            await conn.execute(
                insert_ignore(conn)(Group).on_conflict_do_nothing(index_elements=["room"]),
                {"room": group.room, "created_at": now, **values},
            )
        self.remember(group)
