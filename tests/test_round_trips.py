"""Round trips per chain post are counted, not timed: each aiosqlite crossing costs ~160 µs.

A resident's chain post (store raw, lock the round, add the line and its order lines,
commit) must stay a handful of crossings into the SQLite thread however long the chain is.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiosqlite.core
import pytest

from models.messages import ChatMessage
from tests.chains import Chain
from tests.chat import ROOM, ChatHarness


@pytest.fixture
def crossings(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    seen: Counter[str] = Counter()
    real = aiosqlite.core.Connection._execute

    async def counted(self: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
        seen[getattr(fn, "__name__", "call")] += 1
        return await real(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.core.Connection, "_execute", counted)
    return seen


async def test_a_chain_post_costs_the_same_few_crossings_at_any_length(
    sqlite_bot: ChatHarness, crossings: Counter[str]
) -> None:
    bot = sqlite_bot
    await bot.post("团长", Chain().text)
    chain = Chain()
    per_post: list[int] = []
    for n in range(60):
        chain = chain.add(f"邻居{n} 苹果1份")
        before = sum(crossings.values())
        await bot.app.feed(bot_message(bot, f"邻居{n}", chain.text))
        per_post.append(sum(crossings.values()) - before)
    assert len(await bot.names()) == 60
    # raw row, round lock, entry, order lines, commit: one crossing each
    assert max(per_post) <= 5, per_post
    assert per_post[-1] == per_post[0]  # no growth with the chain's length


def bot_message(bot: ChatHarness, who: str, text: str) -> ChatMessage:
    bot.clock.set(bot.clock.now() + timedelta(seconds=1))
    return ChatMessage(f"rt-{who}", ROOM, f"wxid_{who}", who, text, bot.clock.now())


async def test_shared_deal_stock_costs_one_crossing_more(
    tmp_path: Path, crossings: Counter[str]
) -> None:
    """A post into a round of a deal with shared stock takes from the counter in one UPDATE."""
    from tests.test_stock import head, start

    bot = await start(f"sqlite+aiosqlite:///{tmp_path}/bot.db", tmp_path, stock_=500)
    try:
        await bot.at("08:00")
        chain = head(bot, "east1")
        per_post: list[int] = []
        for n in range(1, 31):
            chain += f"\n{n}. 邻居{n} 车厘子1盒"
            before = sum(crossings.values())
            bot.clock.set(bot.clock.now() + timedelta(seconds=1))
            msg = ChatMessage(f"st-{n}", "east1", f"wxid_{n}", f"邻居{n}", chain, bot.clock.now())
            await bot.app.feed(msg)
            per_post.append(sum(crossings.values()) - before)
        assert len(await bot.names(0)) == 30
    finally:
        await bot.app.close()
    print("[round trips] deal post crossings", per_post)
    # raw row, round lock, the stock counter, entry, order lines, commit
    assert max(per_post) <= 6, per_post
    assert per_post[-1] == per_post[0]


async def test_stock_given_back_at_close_costs_one_crossing_per_deal(
    tmp_path: Path, crossings: Counter[str]
) -> None:
    """未成团 in both groups of a deal: what their lines took of the shared stock goes back in
    one UPDATE for the deal, whatever the number of its rounds."""
    from tests.test_stock import head, start

    async def close(folder: Path, item: str) -> int:
        folder.mkdir()
        bot = await start(f"sqlite+aiosqlite:///{folder}/bot.db", folder, extra="min_total = 3")
        try:
            await bot.at("08:00")
            for room in ("east1", "west1"):
                await bot.post("张三", head(bot, room) + f"\n1. 张三 {item}", room=room)
            before = sum(crossings.values())
            await bot.at("22:00")
            return sum(crossings.values()) - before
        finally:
            await bot.app.close()

    nothing_back = await close(tmp_path / "a", "草莓1盒")  # no shared stock taken
    given_back = await close(tmp_path / "b", "车厘子1盒")
    print("[round trips] close of two unshipped deal rounds", nothing_back, given_back)
    assert given_back == nothing_back + 1
