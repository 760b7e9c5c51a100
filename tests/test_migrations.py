"""The schema is Alembic's: migrations build exactly the tables the code declares."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select, update
from sqlalchemy.engine import Connection

from models.db import Database
from models.store import stock
from models.tables import Base, DealStock, LedgerEntry
from tests.chains import Chain
from tests.chat import ADMIN, LEADER
from tests.conftest import make_harness, split_schema


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


async def test_rounds_closed_before_the_ledger_get_their_commission(db_url: str) -> None:
    """The upgrade books what closing would have: the same lines, keys, amounts and dates;
    not for a round whose group has had another leader since it closed."""
    base, schema = split_schema(db_url)
    db = Database(base, pg_schema=schema)
    bot = await make_harness(db_url)
    ledger = select(
        LedgerEntry.leader,
        LedgerEntry.kind,
        LedgerEntry.amount_fen,
        LedgerEntry.note,
        LedgerEntry.dedupe_key,
        LedgerEntry.created_at,
    ).order_by(LedgerEntry.dedupe_key)
    try:
        await bot.post("王姐", Chain().text, sender=LEADER)
        await bot.post("张三", Chain().add("张三 苹果2份", "李四 香蕉3把").text)
        await bot.at("22:00")
        await bot.post("王姐", "退款 2 9.90", sender=LEADER)
        async with db.connect() as conn:
            booked = (await conn.execute(ledger)).all()
        assert [r.amount_fen for r in booked] == [553, -99]  # commission, refund deducted

        await db.downgrade("0012")  # a database from before the ledger
        await db.upgrade()
        async with db.connect() as conn:
            assert (await conn.execute(ledger)).all() == booked

        await bot.at("23:00")
        await bot.post("管理员", "换团长 幸福里3栋团购群 wxid_new_liu", room=None, sender=ADMIN)
        await db.downgrade("0012")
        await db.upgrade()  # the round closed under 王姐, the group is 刘姐's now: left out
        async with db.connect() as conn:
            assert (await conn.execute(ledger)).all() == []
    finally:
        await bot.app.close()
        await db.dispose()
