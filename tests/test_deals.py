"""Platform deals on a schedule: posted once per group at post time (also after a restart),
per-person limits and stock caps at ordering time, the 成团 minimum at cutoff."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.app import build_app
from handlers.reports import tally_report
from models.clock import ManualClock
from tests.chat import ChatHarness
from tests.conftest import TZ, make_config, split_schema

DEALS = Path(__file__).resolve().parent / "transcripts" / "deals.toml"
GROUPS = [
    {"room": "east1", "topic": "幸福里", "leader": "wxid_lead_east1", "route": "东线"},
    {
        "room": "west1",
        "topic": "西湖小区",
        "leader": "wxid_lead_west1",
        "route": "西线",
        "pickup_point": "西湖小区南门",
    },
]


async def start(db_url: str, at: datetime) -> ChatHarness:
    base, schema = split_schema(db_url)
    config = replace(make_config(base, groups=GROUPS), deals_file=DEALS)
    clock = ManualClock(at, TZ)
    bot = ChatHarness(build_app(config, clock, pg_schema=schema), clock)
    await bot.app.start()
    return bot


@pytest.fixture
async def morning(db_url: str) -> AsyncIterator[ChatHarness]:
    bot = await start(db_url, datetime(2026, 11, 23, 7, 0, tzinfo=TZ))
    try:
        yield bot
    finally:
        await bot.app.close()


def head_in(bot: ChatHarness, room: str, title: str) -> str:
    return next(s.text for s in bot.said if s.room == room and title in s.text)


async def test_deals_are_posted_at_post_time_once_per_group(morning: ChatHarness) -> None:
    bot = morning
    assert bot.group_texts() == []
    await bot.at("08:00")
    heads = [(s.room, s.text.splitlines()[1]) for s in bot.said]
    assert heads == [
        ("east1", "11月23日 水果团 截单：11月23日 22:00 自提：明天下午3点后"),
        ("west1", "11月23日 水果团 截单：11月23日 22:00 自提：明天下午3点后 西湖小区南门"),
    ]
    assert "1号 烟台苹果 12.80元/3斤（每人限3）" in bot.said[0].text
    await bot.at("09:00")
    await bot.at("09:01")
    assert [s.room for s in bot.said if "五常大米" in s.text] == ["west1"]
    assert len(bot.said) == 3


async def test_missed_post_is_caught_up_after_a_restart_but_not_after_cutoff(db_url: str) -> None:
    late = await start(db_url, datetime(2026, 11, 23, 21, 30, tzinfo=TZ))
    await late.at("21:30")
    titles = [s.text.splitlines()[1].split(" ")[1] for s in late.said]
    assert titles == ["水果团", "水果团"]  # the rice deal's cutoff (21:00) has passed
    await late.app.close()
    again = await start(db_url, datetime(2026, 11, 23, 21, 31, tzinfo=TZ))
    await again.at("21:31")
    assert again.said == []  # posted once, whatever the restarts
    await again.app.close()


async def test_limits_stock_and_cheng_tuan(morning: ChatHarness) -> None:
    bot = morning
    await bot.at("08:00")
    head = head_in(bot, "east1", "水果团")
    chain = head + "\n1. 张三 苹果2份 香蕉1把"
    await bot.post("张三", chain, room="east1")
    chain += "\n2. 张三 苹果2份"  # 张三 already has 2 of 3
    await bot.post("张三", chain, room="east1")
    assert "2. 张三 苹果2份（超过每人限购3份，这一行没有计入）" in bot.group_texts()[-1]
    chain += "\n3. 李四 苹果3份"  # stock 5: 2 taken, 3 left
    await bot.post("李四", chain, room="east1")
    chain += "\n4. 王五 苹果1份"  # sold out
    await bot.post("王五", chain, room="east1")
    assert "烟台苹果只剩0份，这一行没有计入" in bot.group_texts()[-1]
    orders = await bot.orders(0)
    assert [o[0] for o in orders] == ["张三", "张三", "李四", "王五"]
    held = [o["held"] for o in (await bot.rounds())[0]["orders"]]
    assert held == [False, True, False, True]  # kept, told, out of every total
    await bot.at("22:00")
    final = next(t for t in bot.group_texts() if t.startswith("【已截单】"))
    assert "2. 张三 苹果2份（待团长确认，未计入合计）" in final
    assert any(t.startswith("【未成团】海南香蕉 共接1把，不足4把") for t in bot.group_texts())
    async with bot.app.db.connect() as conn:
        report = await tally_report(conn, bot.app.config)
    east = next(r for r in report["rounds"] if r["room"] == "east1")  # type: ignore[union-attr, index]
    assert east["totals"] == {"烟台苹果": {"qty": 5, "unit": "份", "amount": "64.00"}}


async def test_two_processes_post_a_deal_once(db_url: str) -> None:
    """Two bot processes on one database reach 08:00 together: one round and one head per room."""
    import asyncio

    at = datetime(2026, 11, 23, 7, 0, tzinfo=TZ)
    one, two = await start(db_url, at), await start(db_url, at)
    try:
        for bot in (one, two):
            bot.clock.set(at + timedelta(hours=1))
        await asyncio.gather(one.app.tick(one.send), two.app.tick(two.send))
        async with one.app.db.connect() as conn:
            report = await tally_report(conn, one.app.config)
    finally:
        await one.app.close()
        await two.app.close()
    rooms = sorted(r["room"] for r in report["rounds"])  # type: ignore[union-attr, index]
    assert rooms == ["east1", "west1"]
    assert len(one.said) + len(two.said) == 2


async def test_admin_pushes_a_deal_before_its_time(db_url: str) -> None:
    bot = await start(db_url, datetime(2026, 11, 23, 7, 0, tzinfo=TZ))
    try:
        await bot.post("管理员", "推送 没有这个", room=None, sender="wxid_admin")
        assert "2026-11-23-fruit" in bot.private_texts("wxid_admin")[-1]
        await bot.post("管理员", "推送 2026-11-23-fruit", room=None, sender="wxid_admin")
        heads = [s.room for s in bot.said if s.room and "水果团" in s.text]
        assert heads == ["east1", "west1"]  # posted at 07:00, not 08:00
        await bot.at("08:00")
        assert [s.room for s in bot.said if s.room and "水果团" in s.text] == heads  # once
    finally:
        await bot.app.close()


async def test_leader_opens_a_deal_in_their_group_early(morning: ChatHarness) -> None:
    bot = morning  # 07:00: the fruit deal posts at 08:00
    await bot.post("东一团长", "开团 2026-11-23-fruit", room="east1", sender="wxid_lead_east1")
    assert [s.room for s in bot.said if "水果团" in s.text] == ["east1"]
    await bot.post("东一团长", "开团 2026-11-23-fruit", room="east1", sender="wxid_lead_east1")
    assert "本群已经开过了" in bot.private_texts("wxid_lead_east1")[-1]
    await bot.post("张三", "开团 2026-11-23-fruit", room="east1")
    assert "只有团长可以" in bot.group_texts()[-1]
    await bot.at("08:00")  # the schedule then posts the other group only
    assert [s.room for s in bot.said if s.room and "水果团" in s.text] == ["east1", "west1"]
