"""Shortages at arrival and after-sales claims: the affected are told once, by name, with a
stated rule (latest orders lose first); refunds are exact and show in 统计, 月结 and exports."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from handlers.reports import tally_report
from models.tables import Refund
from tests.chains import Chain
from tests.chat import ADMIN, LEADER, ChatHarness
from tests.conftest import make_harness


async def apples(bot: ChatHarness) -> None:
    await bot.post("团长", Chain().text)
    chain = Chain()
    for who, what in [("张三", "苹果2份"), ("李四", "苹果1份 香蕉1把"), ("王五", "苹果2份")]:
        chain = chain.add(f"{who} {what}")
        await bot.post(who, chain.text)
    await bot.at("22:00")
    await bot.post("团长", "到货")


async def test_a_shortage_takes_from_the_latest_orders_first(sqlite_bot: ChatHarness) -> None:
    bot = sqlite_bot
    await apples(bot)
    await bot.post("团长", "缺货 苹果 3份")
    notice = bot.said[-1]
    assert notice.room is not None and notice.text.startswith("【缺货】11月23日 水果团")
    assert notice.text.endswith(
        "：烟台苹果少了3份，按接龙从后往前扣（后接的先扣）："
        "3.王五 少2份 退¥25.60；2.李四 少1份 退¥12.80。已付款的退回，没付的少付。"
    )
    assert notice.mentions == ("wxid_王五", "wxid_李四")
    await bot.post("团长", "收款 1")  # 张三 paid in full and keeps all of it
    await bot.post("团长", "统计")
    assert bot.private_texts(LEADER)[-1].endswith(  # what is owed after refunds, no sums
        "；合计 ¥73.90，退款 ¥38.40，应收 ¥35.50，佣金 ¥7.39，已取 0，待取 3\n"
        "收款：已收 1单 ¥25.60；未付 1单；待收 ¥9.90"
    )
    await bot.post("团长", "缺货 苹果 5份")  # more than is left: takes what there is, says so
    assert "（接龙里只剩2份可扣）" in bot.group_texts()[-1]
    assert "1.张三 少2份 退¥25.60" in bot.group_texts()[-1]
    await bot.post("团长", "统计")
    assert "其中已收款要退回 ¥25.60" in bot.private_texts(LEADER)[-1]


async def test_a_whole_line_short_and_an_after_sales_refund(
    sqlite_bot: ChatHarness, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    bot = sqlite_bot
    monkeypatch.setattr("handlers.private.EXPORTS_DIR", tmp_path)
    await apples(bot)
    await bot.post("团长", "缺货 2")
    assert bot.group_texts()[-1].endswith(
        "：第2条 李四 整条没到：烟台苹果1份 退¥12.80；海南香蕉1把 退¥9.90。"
        "已付款的退回，没付的少付。"
    )
    await bot.post("李四", "售后 1 坏了")  # not theirs
    assert bot.group_texts()[-1] == "李四 第1条不是你接的，请让接的人说。"
    await bot.post("张三", "售后 1 坏了2个")
    assert bot.group_texts()[-1] == "张三 售后已转告团长。"
    assert bot.private_texts(LEADER)[-1].endswith(
        "第1条 张三（¥25.60）：坏了2个。同意退款就在群里回复“退款 1 金额”，如 退款 1 5.00。"
    )
    await bot.post("团长", "退款 1 5.001")  # finer than a fen: not money
    assert bot.private_texts(LEADER)[-1].startswith("用法：退款 3 5.00")
    await bot.post("团长", "退款 1 30")
    assert bot.private_texts(LEADER)[-1] == "第1条 张三 最多可退 ¥25.60，没有记下。"
    await bot.post("团长", "退款 1 5.00")
    assert bot.private_texts(LEADER)[-1] == "已记退款：第1条 张三 ¥5.00。"
    assert bot.group_texts()[-1] == "张三 第1条退款 ¥5.00，团长已同意。"
    await bot.at("09:00", day=24)  # the next day: the round is yesterday's, its money is not
    await bot.post("团长", "统计")
    assert bot.private_texts(LEADER)[-1] == (
        "11月23日 水果团：合计 ¥73.90，退款 ¥27.70，应收 ¥46.20；"
        "收款：已收 0单 ¥0.00；未付 2单；待收 ¥46.20"
    )

    await bot.post("管理员", "月结 2026-11", room=None, sender=ADMIN)
    assert bot.private_texts(ADMIN)[-1].endswith(
        "已收 ¥0.00，待收 ¥46.20，退款 ¥27.70，佣金余额 ¥4.62"
    )
    async with bot.app.db.connect() as conn:
        report = await tally_report(conn, bot.app.config)
    [round_] = report["rounds"]
    assert (round_["amount"], round_["refunds"]) == ("73.90", "27.70")  # groupbuy tally --json
    await bot.post("管理员", "导出 2026-11-23", room=None, sender=ADMIN)
    [sent] = [s for s in bot.said if s.to == ADMIN and s.file_path]
    assert sent.file_path is not None
    sheet = load_workbook(sent.file_path)["退款"]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0] == ["团", "名字", "类型", "商品", "数量", "原因", "金额"]
    assert rows[-1][0] == "合计" and rows[-1][6] == 27.7  # 12.80 + 9.90 + 5.00
    assert [r[1:5] + r[6:] for r in rows[1:-1]] == [
        ["李四", "缺货", "烟台苹果", 1, 12.8],
        ["李四", "缺货", "海南香蕉", 1, 9.9],
        ["张三", "售后", None, None, 5],
    ]


async def test_two_processes_never_count_a_shortage_or_a_refund_twice(db_url: str) -> None:
    """Two bot processes on one database take the leader's commands at the same moment (two
    accounts in the group, or a redelivery): each 缺货 takes the next line, never one taken."""
    one, two = await make_harness(db_url), await make_harness(db_url)
    try:
        await one.post("团长", Chain().text)
        chain = Chain()
        for n in range(1, 9):
            chain = chain.add(f"邻居{n} 苹果1份")
            await one.post(f"邻居{n}", chain.text)
        for bot in (one, two):
            await bot.at("22:00")

        async def leader(bot: ChatHarness, first: int) -> None:
            for n, text in enumerate(["缺货 苹果 1份"] * 3 + ["退款 1 10.00"]):
                bot.clock.set(bot.clock.now() + timedelta(seconds=first + n))  # another message
                await bot.post("团长", text, msg_id=f"{first}-{n}")

        await asyncio.gather(leader(one, 1), leader(two, 30))
        async with one.app.db.connect() as conn:
            rows = (
                await conn.execute(select(Refund.entry_id, Refund.kind, Refund.amount_fen))
            ).all()
    finally:
        await one.app.close()
        await two.app.close()
    short = [(e, fen) for e, kind, fen in rows if kind == "shortage"]
    assert len(short) == 6 and len({e for e, _ in short}) == 6  # six lines, each once
    assert sorted(fen for e, kind, fen in rows if kind == "aftersale") == [1000]  # ¥12.80 a line
