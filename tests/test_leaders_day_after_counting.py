"""The leader's work after counting: money per resident, sorting lists, the printable xlsx,
people by name, and the small things a trial found in the conversation.

One group (幸福里3栋, leader 团长 = wxid_leader); 烟台苹果 12.80 per portion, 海南香蕉 9.90 per 把.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from openpyxl import load_workbook

from handlers.commands import Role
from handlers.exports import (
    DELIVERY,
    HELD,
    OWED,
    SORT_BY_BUILDING,
    SORT_BY_PRODUCT,
    SORTING,
    TOTAL,
)
from handlers.refund_list import REFUNDS
from handlers.routes import build_router
from tests.chains import Chain
from tests.chat import ADMIN, LEADER, ChatHarness

THREE_LISTS = (DELIVERY, SORTING, TOTAL)
LINES = (
    "张三 苹果2份",
    "3栋502 李姐 香蕉x2 苹果+1",
    "张三 香蕉1把",
    "12-502 刘哥 香蕉2把",
    "周周 榴莲2个",  # not on the menu: held, in no total, on no packing list
    "孙七 苹果1份（3号楼1单元201）",
    "5#101 赵六 苹果2份 香蕉1把",
    "隔壁王奶奶 苹果1份",  # 张三 orders for his neighbour (代接)
)


async def day_closed(bot: ChatHarness) -> None:
    await bot.post("团长", Chain().text)
    await bot.post("李姐", Chain().add(*LINES[:2]).text)
    await bot.post("张三", Chain().add(*LINES).text)
    await bot.post("团长", "截单")


async def test_the_final_list_says_what_each_resident_owes(bot: ChatHarness) -> None:
    await day_closed(bot)
    final = next(t for t in bot.group_texts() if t.startswith("【已截单】"))
    assert final == (
        "【已截单】11月23日 水果团\n"  # the title, without the cutoff and pickup of its line
        "1. 张三 苹果2份 ¥25.60\n"
        "2. 3栋502 李姐 香蕉x2 苹果+1 ¥32.60\n"
        "3. 张三 香蕉1把 ¥9.90\n"
        "4. 12-502 刘哥 香蕉2把 ¥19.80\n"
        "5. 周周 榴莲2个（待团长确认，未计入合计）\n"
        "6. 孙七 苹果1份（3号楼1单元201） ¥12.80\n"
        "7. 5#101 赵六 苹果2份 香蕉1把 ¥35.50\n"
        "8. 隔壁王奶奶 苹果1份 ¥12.80\n"
        "合计：烟台苹果7份，海南香蕉6把\n"
        "每人应付：张三 ¥35.50；李姐 ¥32.60；刘哥 ¥19.80；孙七 ¥12.80；赵六 ¥35.50；"
        "隔壁王奶奶 ¥12.80\n"
        "共8单（1单待团长确认）。之后的接龙不再计入。"
    )
    # The leader's summary is the same money: 149.00 = the residents' totals added up.
    [summary] = [t for t in bot.private_texts(LEADER) if t.startswith("【截单汇总】")]
    assert "金额 ¥149.00" in summary and "另有1单待你确认" in summary


async def test_my_orders_lists_each_line_and_what_is_owed(bot: ChatHarness) -> None:
    await bot.post("团长", Chain().text)
    chain = Chain().add("张三 苹果2份", "张三 榴莲1个", "隔壁王奶奶 香蕉1把")
    await bot.post("张三", chain.text)
    await bot.post("张三", "我的订单")
    assert bot.group_texts()[-1] == (
        "张三 你的接龙：\n"
        "1. 张三 苹果2份 ¥25.60\n"
        "2. 张三 榴莲1个（待团长确认，未计入合计）\n"
        "3. 隔壁王奶奶 香蕉1把 ¥9.90\n"
        "每人应付：张三 ¥25.60；隔壁王奶奶 ¥9.90\n"
        "合计应付 ¥35.50"
    )


async def test_sorting_list_by_product_and_by_building(bot: ChatHarness) -> None:
    await day_closed(bot)
    await bot.post("团长", "分拣单")
    by_product = bot.private_texts(LEADER)[-1]
    assert by_product == (
        "【分拣单·按商品】11月23日 水果团\n"
        "■ 烟台苹果\n"
        "  3栋502 李姐 1份\n"
        "  3栋1单元201 孙七 1份\n"
        "  5栋101 赵六 2份\n"
        "  未写楼号 张三 2份\n"
        "  未写楼号 隔壁王奶奶 1份\n"
        "■ 海南香蕉\n"
        "  3栋502 李姐 2把\n"
        "  5栋101 赵六 1把\n"
        "  12栋502 刘哥 2把\n"
        "  未写楼号 张三 1把\n"
        "■ 每户应付\n"
        "  3栋502 李姐 ¥32.60\n"
        "  3栋1单元201 孙七 ¥12.80\n"
        "  5栋101 赵六 ¥35.50\n"
        "  12栋502 刘哥 ¥19.80\n"
        "  未写楼号 张三 ¥35.50\n"
        "  未写楼号 隔壁王奶奶 ¥12.80\n"
        "■ 未计入（待团长确认，不要配货）1条\n"
        "  5. 周周 榴莲2个"
    )
    await bot.post("团长", "分拣单 按楼号")
    by_building = bot.private_texts(LEADER)[-1]
    assert by_building.startswith(
        "【分拣单·按楼号】11月23日 水果团\n"
        "■ 3栋\n"
        "  502 李姐 烟台苹果1份\n"
        "  502 李姐 海南香蕉2把\n"
        "■ 3栋1单元\n"
        "  201 孙七 烟台苹果1份\n"
        "■ 5栋\n"
        "  101 赵六 烟台苹果2份\n"
        "  101 赵六 海南香蕉1把\n"
        "■ 12栋\n"
        "  502 刘哥 海南香蕉2把\n"
        "■ 未写楼号\n"
    )
    assert not any("分拣单" in t for t in bot.group_texts())  # quiet: the group hears nothing
    await bot.post("张三", "分拣单")
    assert "只有团长可以“分拣单”" in bot.group_texts()[-1]


def _cells(ws: object) -> list[tuple[object, ...]]:
    return list(ws.iter_rows(values_only=True))  # type: ignore[attr-defined]


async def test_the_days_xlsx_is_one_a_driver_can_print(
    bot: ChatHarness, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr("handlers.private.EXPORTS_DIR", tmp_path)
    await day_closed(bot)
    await bot.post("管理员", "导出 11月23日", room=None, sender=ADMIN)
    [sent] = [s for s in bot.said if s.to == ADMIN and s.file_path]
    assert sent.file_path is not None
    wb = load_workbook(sent.file_path)
    assert wb.sheetnames == [*THREE_LISTS, SORT_BY_PRODUCT, SORT_BY_BUILDING, OWED, HELD, REFUNDS]
    for ws in wb.worksheets:  # printable: A4, one page wide, header on every page, gridlines
        assert ws.page_setup.paperSize == 9, ws.title
        assert (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight) == (1, 0), ws.title
        assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
        assert ws.print_title_rows == "$1:$1", ws.title
        assert ws.print_options.gridLines, ws.title
        assert all(c.font.b for c in ws[1]), ws.title
        text = " ".join(str(v) for row in _cells(ws) for v in row if v is not None)
        assert "wxid_" not in text, ws.title  # names, never contact ids
        if ws.title != HELD:
            assert "榴莲" not in text, ws.title  # a held line reaches no packing or order list
    # Money is a number in a ¥ format, and every list adds up to the tally's ¥149.00.
    delivery = wb["配送清单"]
    header = _cells(delivery)[0]
    money_col = header.index("金额") + 1
    amount_cell = delivery.cell(row=2, column=money_col)
    assert isinstance(amount_cell.value, float) and "¥" in amount_cell.number_format
    *rows, total = _cells(delivery)[1:]
    assert [r[1] for r in rows] == ["团长", "团长"]  # the leader's display name
    assert total[0] == "合计" and total[money_col - 1] == 149.0
    assert round(sum(r[money_col - 1] for r in rows), 2) == 149.0
    assert delivery.cell(row=len(rows) + 2, column=1).font.b  # the total row is bold
    owed = _cells(wb["每户应付"])
    assert owed[0] == ("自提点", "楼号", "房号", "姓名", "商品", "应付", "序号")
    assert owed[1] == ("幸福里3栋门口", "3栋", "502", "李姐", "海南香蕉2把；烟台苹果1份", 32.6, "2")
    assert owed[-1][0] == "合计" and owed[-1][5] == 149.0
    assert round(sum(r[5] for r in owed[1:-1]), 2) == 149.0
    by_product = _cells(wb["分拣单-按商品"])
    assert by_product[0] == (
        "自提点",
        "商品",
        "楼号",
        "房号",
        "姓名",
        "数量",
        "单位",
        "金额",
        "序号",
    )
    apples = [r for r in by_product[1:] if r[1] == "烟台苹果"]
    assert [(r[2], r[3], r[4], r[5]) for r in apples] == [
        ("3栋", "502", "李姐", 1),
        ("3栋1单元", "201", "孙七", 1),
        ("5栋", "101", "赵六", 2),
        ("未写楼号", None, "张三", 2),
        ("未写楼号", None, "隔壁王奶奶", 1),
        ("小计", None, None, "7份"),
    ]
    subtotals = [r[7] for r in by_product if r[2] == "小计"]
    assert round(sum(subtotals), 2) == 149.0
    by_building = _cells(wb["分拣单-按楼号"])
    assert [r[1] for r in by_building[1:4]] == ["3栋", "3栋", "3栋"]  # 2 goods, then 小计
    assert by_building[3][2] == "小计" and by_building[3][7] == 32.6
    held = _cells(wb["待确认-不配货"])
    assert held == [
        ("自提点", "群", "序号", "姓名", "原文", "原因"),
        ("幸福里3栋门口", "11月23日 水果团", 5, "周周", "周周 榴莲2个", "菜单上没有这个商品"),
    ]


async def test_leaders_by_name_kept_current(bot: ChatHarness) -> None:
    await bot.post("李姐", Chain().text, sender=LEADER)
    await bot.post("张三", Chain().add("张三 苹果2份").text)
    await bot.post("李姐", "截单", sender=LEADER)
    await bot.post("管理员", "汇总", room=None, sender=ADMIN)
    assert bot.private_texts(ADMIN)[-1].endswith("团长排行：\n1. 李姐 ¥25.60")
    await bot.post("李姐（幸福里团长）", "到货", sender=LEADER)  # she renamed herself
    await bot.post("管理员", "月结", room=None, sender=ADMIN)  # no month: this month
    assert bot.private_texts(ADMIN)[-1] == (
        "【2026年11月 月结】\n李姐（幸福里团长）：1团，销售 ¥25.60，佣金 ¥2.56，取消 0，已取 0/1，"
        "已收 ¥0.00，待收 ¥25.60，佣金余额 ¥2.56"
    )
    await bot.post("管理员", "团长 李姐（幸福里团长）", room=None, sender=ADMIN)
    assert bot.private_texts(ADMIN)[-1].startswith(
        "【李姐（幸福里团长） 2026-11-23】幸福里3栋团购群"
    )
    await bot.post("管理员", "团长 王姐", room=None, sender=ADMIN)
    assert bot.private_texts(ADMIN)[-1].startswith("没有团长「王姐」")
    assert not any(LEADER in s.text for s in bot.said)  # never a contact id in a reply


async def test_dates_as_people_write_them(sqlite_bot: ChatHarness) -> None:
    bot = sqlite_bot
    await bot.post("团长", Chain().text)
    await bot.post("张三", Chain().add("张三 苹果2份").text)
    await bot.post("团长", "截单")
    for said in ("汇总 11月23日", "汇总 2026年11月23日", "汇总 11月23号", "汇总 2026-11-23"):
        await bot.post("管理员", said, room=None, sender=ADMIN)
        assert bot.private_texts(ADMIN)[-1].startswith("【2026-11-23 汇总】1个团"), said
    await bot.post("管理员", "汇总 12月4日", room=None, sender=ADMIN)
    assert bot.private_texts(ADMIN)[-1] == "2026-12-04 没有团。"
    for said in ("月结 2026年11月", "月结 11月", "月结 2026-11", "月结"):
        await bot.post("管理员", said, room=None, sender=ADMIN)
        assert bot.private_texts(ADMIN)[-1].startswith("【2026年11月 月结】"), said
    await bot.post("管理员", "月结 2026年12月", room=None, sender=ADMIN)
    assert bot.private_texts(ADMIN)[-1] == "2026年12月 没有团。"
    await bot.post("管理员", "月结 13月", room=None, sender=ADMIN)
    assert bot.private_texts(ADMIN)[-1] == "用法：月结 2026年11月（不写就是本月）"


async def test_arrival_pickup_and_help_in_few_words(sqlite_bot: ChatHarness) -> None:
    bot = sqlite_bot
    await bot.post("团长", Chain().text)
    chain = Chain().add("5栋302 苹果1份", "3栋502 王姐 苹果2份", "张三 香蕉1把")
    await bot.post("张三", chain.text, sender="wxid_张三")
    await bot.post("王姐", chain.text)  # the same chain again: nothing new
    await bot.post("团长", "截单")
    await bot.post("团长", "到货")
    # `1号 5栋302`, never `1.5栋302` (a decimal); the person, not their door, when named
    assert bot.group_texts()[-1] == (
        "【到货】11月23日 水果团，请到幸福里3栋门口取货：1号 5栋302、2号 王姐、3号 张三。"
        "取完回复“已取”。"
    )
    await bot.post("张三", "已取")
    await bot.post("张三", "已取")
    acks = [t for t in bot.group_texts() if "取走了" in t]
    assert acks == ["张三 已记下你取走了1号、2号、3号，谢谢！"]  # once, however often said
    # 帮助 answers again when asked again (the per-person reply budget still bounds it).
    for _ in range(2):
        await bot.post("张三", "帮助", room=None)
    assert [t.startswith("你好！请在团购群里接龙下单") for t in bot.private_texts("wxid_张三")] == [
        True,
        True,
    ]
    await bot.post("团长", "帮助", room=None)
    await bot.post("团长", "帮助", room=None)
    assert len([t for t in bot.private_texts(LEADER) if t.startswith("团长命令：")]) == 2


def test_help_has_no_english_words() -> None:
    router = build_router()
    texts = [router.usage(role, chat) for role in Role for chat in ("group", "private")]
    texts += [router.private_help(role) for role in Role]
    for text in texts:
        assert not re.search(r"[A-Za-z]", text), text


async def test_a_chain_without_prices_gets_no_money_column(sqlite_bot: ChatHarness) -> None:
    bot = sqlite_bot
    head = "#接龙\n周六 手工包子 今晚9点截单\n例 张三 2个"
    await bot.post("团长", head)
    await bot.post("张三", head + "\n\n1. 张三 2个\n2. 李四 3个")
    await bot.post("张三", "我的订单")
    assert bot.group_texts()[-1] == "张三 你的接龙：\n1. 张三 2个\n2. 李四 3个"  # he posted both
    await bot.post("团长", "截单")
    final = bot.group_texts()[-1]
    assert final.startswith("【已截单】周六 手工包子\n1. 张三 2个\n2. 李四 3个\n")
    assert "¥" not in final and "未定价" not in final and "应付" not in final
