"""At cutoff, a merged chain still waiting to go out is dropped (nobody should copy it after
截单), for every round the batch closes and for no other round, in one statement per batch."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import insert, select

from models.db import Database
from models.messages import OutgoingMessage
from models.store.outbox import enqueue
from models.store.rounds import close_open
from models.tables import Outbox, Round
from tests.conftest import split_schema

NOW = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)


async def test_closing_drops_the_merged_chains_of_the_closed_rounds_only(db_url: str) -> None:
    base, schema = split_schema(db_url)
    db = Database(base, pg_schema=schema)
    try:
        await db.upgrade()
        async with db.begin() as conn:
            await conn.execute(
                insert(Round),
                [
                    {"id": i, "room": f"r{i}", "title": "水果团", "header": "", "status": "open"}
                    | {"opened_by": "wxid_l", "opened_at": NOW, "version": 1}
                    for i in (1, 2, 12)
                ],
            )
            await enqueue(
                conn,
                [
                    OutgoingMessage(f"merged:{i}:{n}", f"r{i}", "合并后的接龙")
                    for i in (1, 2, 12)
                    for n in ("a", "b")
                ],
                NOW,
            )
            closed = await close_open(conn, [1, 2], NOW)
        assert sorted(r[0] for r in closed) == [1, 2]
        async with db.connect() as conn:
            rows = dict((await conn.execute(select(Outbox.dedupe_key, Outbox.status))).all())
        assert rows == {
            "merged:1:a": "dropped",
            "merged:1:b": "dropped",
            "merged:2:a": "dropped",
            "merged:2:b": "dropped",
            "merged:12:a": "pending",  # round 12 is still open: its chain still goes out
            "merged:12:b": "pending",
        }
    finally:
        await db.dispose()
