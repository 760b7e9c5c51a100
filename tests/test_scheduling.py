"""Cutoff is exactly-once: a restart after 22:00 closes the round on start-up, once, and two bot
processes on one database never both close (or both announce) a round."""

from __future__ import annotations

import asyncio
from datetime import datetime

from bot.app import build_app
from handlers.closing import close_due_rounds
from models.clock import ManualClock
from tests.chains import Chain
from tests.chat import ChatHarness
from tests.conftest import TZ, make_config, split_schema


async def test_restart_after_cutoff_closes_once_on_start_up(bot: ChatHarness, db_url: str) -> None:
    await bot.post("团长", Chain().text)
    await bot.post("张三", Chain().add("张三 苹果2份").text)
    await bot.app.close()  # the bot goes down at 21:00 …

    base, schema = split_schema(db_url)
    finals = []
    for _ in range(2):  # … and comes back at 23:30, twice (a crash loop)
        clock = ManualClock(datetime(2026, 11, 23, 23, 30, tzinfo=TZ), TZ)
        again = ChatHarness(build_app(make_config(base), clock, pg_schema=schema), clock)
        await again.app.start()
        await again.at("23:30")
        assert (await again.rounds())[0]["status"] == "closed"
        finals.append([t for t in again.group_texts() if t.startswith("【已截单】")])
        await again.app.close()
    assert [len(f) for f in finals] == [1, 0]


async def test_two_processes_close_a_round_once(bot: ChatHarness, db_url: str) -> None:
    await bot.post("团长", Chain().text)
    await bot.post("张三", Chain().add("张三 苹果2份").text)
    base, schema = split_schema(db_url)
    other = build_app(make_config(base), bot.clock, pg_schema=schema)
    await other.db.upgrade()
    cutoff = datetime(2026, 11, 23, 22, 0, 5, tzinfo=TZ)
    results = await asyncio.gather(
        close_due_rounds(bot.app.db, bot.app.cache, cutoff),
        close_due_rounds(other.db, other.cache, cutoff),
    )
    await other.close()
    assert sorted(len(r) for r in results) == [0, 1]
    bot.clock.set(cutoff)
    await bot.app.tick(bot.send)
    assert sum(t.startswith("【已截单】") for t in bot.group_texts()) == 1
