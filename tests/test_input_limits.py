"""Slow and silent limits: parsing is linear, and what is cut or refused is said."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

import handlers.router
from models.tables import InboundMessage
from tests.chains import Chain
from tests.chat import ChatHarness


def answers(bot: ChatHarness, who: str) -> list[str]:
    return [s.text for s in bot.said if f"wxid_{who}" in s.mentions]


async def test_16_kb_of_digits_is_read_at_once_and_the_poster_told(bot: ChatHarness) -> None:
    await bot.post("团长", Chain().text)
    started = time.perf_counter()
    await bot.post("张三", Chain().add("张三 苹果2份 " + "1" * 16_000).text)
    took = time.perf_counter() - started
    print(f"[reliability] a chain line with 16,000 digits handled in {took:.2f} s")
    assert took < 2.0  # was seconds in the parser alone (quadratic); now milliseconds
    assert any("超过 32 位的数字" in t for t in answers(bot, "张三"))


async def test_a_chain_past_the_read_limit_is_cut_and_said_and_kept_whole(
    bot: ChatHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(handlers.router, "MAX_TEXT", 2_000)
    await bot.post("团长", Chain().text)
    lines = [f"住户{n} 苹果1份" for n in range(1, 301)]
    body = Chain().add(*lines).text
    await bot.post("张三", body, msg_id="long")

    assert any("没有读" in t for t in answers(bot, "张三"))
    assert 0 < len(await bot.orders()) < 300
    async with bot.app.db.connect() as conn:
        raw = (
            await conn.execute(
                select(InboundMessage.text).where(InboundMessage.platform_id == "long")
            )
        ).scalar_one()
    assert raw == body  # the raw message is kept whole


@pytest.mark.parametrize("line", ["张三 苹果-3斤", "张三 苹果0.0001份"])
async def test_a_negative_or_too_fine_quantity_is_refused_not_changed(
    bot: ChatHarness, line: str
) -> None:
    await bot.post("团长", Chain().text)
    await bot.post("张三", Chain().add(line).text)

    assert [o[2] for o in await bot.orders()] in ([], [[]])  # never 3斤, never 0
    assert any("数量看不懂" in t for t in answers(bot, "张三"))
