"""A chain post the engine cannot place is answered, never silently dropped."""

from __future__ import annotations

from tests.chains import Chain
from tests.chat import ChatHarness


async def test_an_order_post_with_no_round_is_answered_once(bot: ChatHarness) -> None:
    post = "#接龙 周末海鲜团\n1. 张三 大虾2斤"
    await bot.post("张三", post)  # the leader never opened it
    await bot.post("张三", post + "\n2. 张三 扇贝1斤")

    said = [s for s in bot.said if "wxid_张三" in s.mentions]
    assert len(said) == 1 and "没有对应的团" in said[0].text
    assert await bot.rounds() == []


async def test_a_copy_of_an_unknown_chain_after_cutoff_is_answered(bot: ChatHarness) -> None:
    await bot.post("团长", Chain().text)
    await bot.post("张三", Chain().add("张三 苹果2份").text)
    await bot.at("22:00")
    await bot.post("李四", "#接龙 周末海鲜团\n1. 李四 大虾2斤")

    assert any("没有对应的团" in s.text for s in bot.said if "wxid_李四" in s.mentions)
