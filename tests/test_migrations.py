"""The schema is Alembic's: migrations build exactly the tables the code declares."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, update
from sqlalchemy.engine import Connection

from models.db import Database
from models.store import stock
from models.tables import Base, DealStock
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


async def test_an_upgraded_database_counts_the_lines_already_taken(
    db_url: str, tmp_path: Path
) -> None:
    """Deal rounds opened before the shared stock existed (or before its counter was made)
    count against it after the upgrade: the counter starts from their counted lines."""
    from tests.test_stock import head, start

    base, schema = split_schema(db_url)
    db = Database(base, pg_schema=schema)
    bot = await start(db_url, tmp_path, stock_=5)
    try:
        await bot.at("08:00")
        await bot.post("张三", head(bot, "east1") + "\n1. 张三 车厘子3盒", room="east1")
        await bot.post("李四", head(bot, "west1") + "\n1. 李四 车厘子1盒 草莓2盒", room="west1")
    finally:
        await bot.app.close()
    try:
        await db.downgrade("0011")  # a database from before the shared stock, rounds open
        again = await start(db_url, tmp_path, stock_=5)  # upgrades, then reads the deals
        await again.app.close()
        async with db.connect() as conn:
            assert await stock.left(conn, ["cherries"]) == {"cherries": {"1": (1000, 5000)}}

        await db.downgrade("0013")  # counters made at 0 after the rounds were opened
        async with db.begin() as conn:
            await conn.execute(update(DealStock).values(taken_milli=0))
        await db.upgrade()
        async with db.connect() as conn:
            assert await stock.left(conn, ["cherries"]) == {"cherries": {"1": (1000, 5000)}}
    finally:
        await db.dispose()
