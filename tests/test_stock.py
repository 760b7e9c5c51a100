"""A platform deal's stock is one counter shared by every group carrying it: no oversell, also
with two bot processes on one database; a line beyond it is kept, flagged, out of totals and
its poster told once; the chain the bot posts says 剩余N份 when it runs low; per-group caps."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest

from bot.app import build_app
from models.clock import ManualClock
from models.db import Database
from models.store import stock
from models.store.stock import Ask
from tests.chat import ChatHarness
from tests.conftest import TZ, make_config, split_schema

GROUPS = [
    {"room": "east1", "topic": "幸福里", "leader": "wxid_lead_east1", "route": "东线"},
    {"room": "west1", "topic": "西湖小区", "leader": "wxid_lead_west1", "route": "西线"},
]
DEAL = """
[[deals]]
key = "cherries"
title = "车厘子团"
post_at = "2026-11-23 08:00"
cutoff_at = "2026-11-23 22:00"
groups = ["all"]

[[deals.products]]
code = "1"
name = "智利车厘子"
aliases = ["车厘子"]
price = "59.90"
unit = "盒"
stock = {stock}
{extra}

[[deals.products]]
code = "2"
name = "丹东草莓"
aliases = ["草莓"]
price = "29.90"
unit = "盒"
"""


async def start(db_url: str, tmp_path: Path, stock_: int = 5, extra: str = "") -> ChatHarness:
    deals = tmp_path / "deals.toml"
    deals.write_text(DEAL.format(stock=stock_, extra=extra), encoding="utf-8")
    base, schema = split_schema(db_url)
    config = replace(make_config(base, groups=GROUPS), deals_file=deals)
    clock = ManualClock(datetime(2026, 11, 23, 7, 59, tzinfo=TZ), TZ)
    bot = ChatHarness(build_app(config, clock, pg_schema=schema), clock)
    await bot.app.start()
    return bot


@pytest.fixture
async def two_groups(tmp_path: Path) -> AsyncIterator[ChatHarness]:
    bot = await start(f"sqlite+aiosqlite:///{tmp_path}/bot.db", tmp_path)
    await bot.at("08:00")
    try:
        yield bot
    finally:
        await bot.app.close()


def head(bot: ChatHarness, room: str) -> str:
    return next(s.text for s in bot.said if s.room == room and "车厘子团" in s.text)


async def counted(bot: ChatHarness) -> dict[str, list[tuple[str, bool]]]:
    """Room → (line, held) of its round."""
    return {
        r["room"]: [(str(o["raw"]), bool(o["held"])) for o in r["orders"]]
        for r in await bot.rounds()
    }


async def test_two_groups_share_one_stock(two_groups: ChatHarness) -> None:
    bot = two_groups
    east = head(bot, "east1") + "\n1. 张三 车厘子2盒"
    await bot.post("张三", east, room="east1")
    west = head(bot, "west1") + "\n1. 李四 车厘子2盒 草莓1盒"
    await bot.post("李四", west, room="west1")  # 4 of 5 gone: low
    west += "\n2. 王五 车厘子2盒"
    await bot.post("王五", west, room="west1")
    assert bot.group_texts()[-1] == (
        "王五 这几行还没有计入合计，原文已记下（改好重发，或等团长确认）：\n"
        "· 2. 王五 车厘子2盒（智利车厘子只剩1盒，这一行没有计入）"
    )
    said = len(bot.said)
    await bot.post("王五", west + "\n", room="west1")  # the same copy again: told once
    assert len(bot.said) == said
    assert await counted(bot) == {
        "east1": [("1. 张三 车厘子2盒", False)],
        "west1": [("1. 李四 车厘子2盒 草莓1盒", False), ("2. 王五 车厘子2盒", True)],
    }
    await bot.post("西团长", "接龙", room="west1", sender="wxid_lead_west1")
    posted = bot.group_texts()[-1]
    assert "\n【库存】智利车厘子剩余1盒\n" in posted

    await bot.post("张三", "取消", room="east1")  # gives its 2 back to every group
    await bot.post("赵六", posted + "\n3. 赵六 车厘子3盒", room="west1")  # a copy of it
    assert (await counted(bot))["west1"] == [
        ("1. 李四 车厘子2盒 草莓1盒", False),
        ("2. 王五 车厘子2盒", True),
        ("3. 赵六 车厘子3盒", False),
    ]
    await bot.post("西团长", "接龙", room="west1", sender="wxid_lead_west1")
    assert "【库存】智利车厘子已售完" in bot.group_texts()[-1]
    await bot.post("西团长", "确认 2", room="west1", sender="wxid_lead_west1")  # the leader's call
    async with bot.app.db.connect() as conn:
        left = await stock.left(conn, ["cherries"])
    assert left == {"cherries": {"1": (-2000, 5000)}}  # 7 counted of 5: the leader said so


async def test_a_per_group_cap_stays_possible(tmp_path: Path) -> None:
    bot = await start(
        f"sqlite+aiosqlite:///{tmp_path}/bot.db", tmp_path, stock_=10, extra="group_stock = 3"
    )
    try:
        await bot.at("08:00")
        east = head(bot, "east1") + "\n1. 张三 车厘子3盒"
        await bot.post("张三", east, room="east1")
        await bot.post("李四", east + "\n2. 李四 车厘子1盒", room="east1")
        assert "智利车厘子只剩0盒，这一行没有计入" in bot.group_texts()[-1]
        await bot.post("王五", head(bot, "west1") + "\n1. 王五 车厘子3盒", room="west1")
        rooms = await counted(bot)
        assert rooms["west1"] == [("1. 王五 车厘子3盒", False)]
        async with bot.app.db.connect() as conn:
            assert await stock.left(conn, ["cherries"]) == {"cherries": {"1": (4000, 10000)}}
    finally:
        await bot.app.close()


async def test_two_processes_never_oversell(db_url: str, tmp_path: Path) -> None:
    """Two bots (two engines) on one database, residents of two groups ordering at once."""
    one = await start(db_url, tmp_path, stock_=7)
    two = await start(db_url, tmp_path, stock_=7)
    try:
        await one.at("08:00")
        await two.at("08:00")

        heads = {s.room: s.text for s in one.said + two.said if s.room}  # posted by either

        async def orders(bot: ChatHarness, room: str, prefix: str) -> None:
            chain = heads[room]
            for n in range(1, 7):
                chain += f"\n{n}. {prefix}{n} 车厘子1盒"
                await bot.post(f"{prefix}{n}", chain, room=room, msg_id=f"{prefix}{n}")

        await asyncio.gather(orders(one, "east1", "东"), orders(two, "west1", "西"))
        rooms = await counted(one)
    finally:
        await one.app.close()
        await two.app.close()
    kept = [line for lines in rooms.values() for line, held in lines if not held]
    flagged = [line for lines in rooms.values() for line, held in lines if held]
    assert (len(kept), len(flagged)) == (7, 5)  # every line kept; exactly the stock counted


async def test_the_counter_under_concurrent_transactions(db_url: str) -> None:
    """Forty one-unit takes from two engines at once on a stock of 25: exactly 25 granted."""
    base, schema = split_schema(db_url)
    dbs = [Database(base, pg_schema=schema), Database(base, pg_schema=schema)]
    await dbs[0].upgrade()
    async with dbs[0].begin() as conn:
        await stock.set_stock(conn, [("d", "p", 25_000)])

    async def one_take(db: Database) -> int:
        async with db.begin() as conn:
            got = await stock.take(conn, "d", {"p": Ask(0, [1000])})
            await asyncio.sleep(0)
            return got["p"].granted

    try:
        grants = await asyncio.gather(*(one_take(dbs[i % 2]) for i in range(40)))
        async with dbs[0].connect() as conn:
            left = await stock.left(conn, ["d"])
    finally:
        for db in dbs:
            await db.dispose()
    assert sum(grants) == 25_000 and sorted(set(grants)) == [0, 1000]
    assert left == {"d": {"p": (0, 25_000)}}


async def test_a_recalled_post_gives_its_stock_back(two_groups: ChatHarness) -> None:
    bot = two_groups
    east = head(bot, "east1") + "\n1. 张三 车厘子4盒"
    await bot.post("张三", east, room="east1", msg_id="order-1")
    await bot.post("张三", "order-1", room="east1", kind="recall")  # 撤回
    await bot.post("李四", head(bot, "west1") + "\n1. 李四 车厘子5盒", room="west1")
    assert (await counted(bot))["west1"] == [("1. 李四 车厘子5盒", False)]
    async with bot.app.db.connect() as conn:
        assert await stock.left(conn, ["cherries"]) == {"cherries": {"1": (0, 5000)}}


async def test_the_leaders_fixes_follow_the_counter(two_groups: ChatHarness) -> None:
    bot = two_groups
    lead = {"room": "east1", "sender": "wxid_lead_east1"}
    await bot.post("东团长", "代接 王奶奶 车厘子4盒", **lead)
    await bot.post("东团长", "代接 李爷爷 车厘子2盒", **lead)
    assert bot.private_texts("wxid_lead_east1")[-1] == (
        "已代接：李爷爷 车厘子2盒（智利车厘子只剩1盒，这一行没有计入）"
    )
    await bot.post("东团长", "改 1 车厘子1盒", **lead)  # gives 3 back
    await bot.post("东团长", "删 1", **lead)  # and the last one
    async with bot.app.db.connect() as conn:
        assert await stock.left(conn, ["cherries"]) == {"cherries": {"1": (5000, 5000)}}


async def test_a_product_that_does_not_ship_gives_its_stock_back(tmp_path: Path) -> None:
    """未成团 in one group at its cutoff: what it took goes back to the groups still open."""
    bot = await start(
        f"sqlite+aiosqlite:///{tmp_path}/bot.db", tmp_path, stock_=5, extra="min_total = 3"
    )
    try:
        await bot.at("08:00")
        await bot.post("张三", head(bot, "east1") + "\n1. 张三 车厘子2盒", room="east1")
        west = head(bot, "west1") + "\n1. 李四 车厘子2盒"
        await bot.post("李四", west, room="west1")
        await bot.post("西团长", "截单时间 23:00", room="west1", sender="wxid_lead_west1")
        await bot.at("22:00")  # 幸福里 closes with 2 of its minimum 3: does not ship
        assert "【未成团】智利车厘子 共接2盒，不足3盒" in bot.group_texts()[-1]
        async with bot.app.db.connect() as conn:
            assert await stock.left(conn, ["cherries"]) == {"cherries": {"1": (3000, 5000)}}
        await bot.post("王五", west + "\n2. 王五 车厘子3盒", room="west1")
        assert (await counted(bot))["west1"] == [
            ("1. 李四 车厘子2盒", False),
            ("2. 王五 车厘子3盒", False),  # the 2 given back made room for it
        ]
        await bot.at("23:00")  # west ships: nothing more comes back
        await bot.post("东团长", "重开 23:30", room="east1", sender="wxid_lead_east1")
        await bot.post("张三", "取消", room="east1")  # its 2 went back at the first close
        await bot.at("23:30")  # closed again: given back once, not twice
        async with bot.app.db.connect() as conn:
            assert await stock.left(conn, ["cherries"]) == {"cherries": {"1": (0, 5000)}}
    finally:
        await bot.app.close()
