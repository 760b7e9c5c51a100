"""The schema is Alembic's: migrations build exactly the tables the code declares."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from models.db import Database
from models.tables import Base
from tests.conftest import split_schema


def _diff(conn: Connection) -> list[object]:
    ctx = MigrationContext.configure(conn, opts={"compare_type": True})
    return list(compare_metadata(ctx, Base.metadata))


async def test_upgrade_matches_models_and_is_repeatable(db_url: str) -> None:
    base, schema = split_schema(db_url)
    db = Database(base, pg_schema=schema)
    try:
        await db.upgrade()
        await db.upgrade()  # a second start-up changes nothing
        async with db.connect() as conn:
            assert await conn.run_sync(_diff) == []
            tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
        assert {"rounds", "entries", "order_lines", "messages", "outbox"} <= tables
        await db.downgrade("base")
        async with db.connect() as conn:
            tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
        assert tables <= {"alembic_version"}
    finally:
        await db.dispose()
