"""Payments after counting: residents say 已付 (a claim), the leader says 收款 (confirmed),
统计 shows collected, claimed and outstanding, 催款 names only the unpaid, once in a while."""

from __future__ import annotations

from tests.chains import Chain
from tests.chat import ADMIN, LEADER, ChatHarness


async def three_orders(bot: ChatHarness) -> None:
    await bot.post("团长", Chain().text)
    chain = Chain().add("张三 苹果2份")
    await bot.post("张三", chain.text)
    chain = chain.add("李四 香蕉1把")
    await bot.post("李四", chain.text)
    chain = chain.add("王五 苹果1份")
    await bot.post("王五", chain.text)
    await bot.at("22:00")  # 1. 张三 ¥25.60  2. 李四 ¥9.90  3. 王五 ¥12.80


async def test_claims_confirmations_tally_and_one_reminder(sqlite_bot: ChatHarness) -> None:
    bot = sqlite_bot
    await three_orders(bot)
    await bot.post("李四", "已付")
    assert bot.group_texts()[-1] == "李四 已记下你说已付（自报已付，团长确认收款后算已收）。"
    said = len(bot.said)
    await bot.post("李四", "已付")  # acknowledged once
    assert len(bot.said) == said

    await bot.post("团长", "收款 1 9")
    assert bot.private_texts(LEADER)[-1] == "已记收款：1.张三 ¥25.60（没有第9条）"
    await bot.post("团长", "统计")
    assert bot.private_texts(LEADER)[-1].endswith(
        "收款：已收 1单 ¥25.60；自报已付 1单 ¥9.90（待你“收款”确认）；未付 1单；待收 ¥22.70"
    )

    await bot.post("团长", "催款")
    reminder = bot.group_texts()[-1]  # names only the one who neither paid nor said so
    assert reminder.startswith("【催款】11月23日 水果团")
    assert reminder.endswith("：3.王五 ¥12.80。付了请回复“已付”。")
    said = len(bot.group_texts())
    await bot.at("23:00")
    await bot.post("团长", "催款")  # an hour later: not again
    assert len(bot.group_texts()) == said
    assert bot.private_texts(LEADER)[-1] == "22:00 刚催过，01:00 后才能再催。"

    await bot.post("团长", "收款 2 3")
    await bot.post("团长", "催款")
    assert "没有未付款的" in bot.private_texts(LEADER)[-1]
    await bot.post("团长", "统计", room=None)
    assert bot.private_texts(LEADER)[-1].endswith("收款：已收 3单 ¥48.30；未付 0单；待收 ¥0.00")


async def test_a_resident_cannot_confirm_and_help_says_what_a_claim_is(
    sqlite_bot: ChatHarness,
) -> None:
    bot = sqlite_bot
    await three_orders(bot)
    await bot.post("张三", "收款 1")
    assert "只有团长可以“收款”" in bot.group_texts()[-1]
    await bot.post("张三", "帮助")
    assert (
        "已付：告诉团长自己已付款（机器人看不到转账，团长确认后才算已收）" in bot.group_texts()[-1]
    )
    await bot.post("管理员", "月结 2026-11", room=None, sender=ADMIN)
    assert bot.private_texts(ADMIN)[-1].endswith("已收 ¥0.00，待收 ¥48.30，佣金余额 ¥4.83")


async def test_the_next_day_statistics_still_show_the_money(sqlite_bot: ChatHarness) -> None:
    bot = sqlite_bot
    await three_orders(bot)
    await bot.at("10:00", day=24)  # the goods came; money comes in the day after cutoff
    await bot.post("团长", "收款 3")
    await bot.post("团长", "统计")
    assert bot.private_texts(LEADER)[-1].endswith("收款：已收 1单 ¥12.80；未付 2单；待收 ¥35.50")
    await bot.post("团长", "统计", room=None)  # asked privately the day after: the same round
    assert bot.private_texts(LEADER)[-1].startswith("11月23日 水果团：合计 ¥48.30")
    assert bot.private_texts(LEADER)[-1].endswith("收款：已收 1单 ¥12.80；未付 2单；待收 ¥35.50")
    await bot.at("10:00", day=26)  # two days on, nothing of theirs is that recent
    await bot.post("团长", "统计", room=None)
    assert bot.private_texts(LEADER)[-1] == "今天和昨天你的群都没有团。"
