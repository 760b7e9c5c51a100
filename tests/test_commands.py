"""Commands in the group, by role: what residents and the leader say, and what the bot answers.

Roles are by contact id: 张三 renamed to "团长" is still a resident.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from models.store.tally import sales_by_day
from models.tables import AuditLog
from tests.chains import Chain
from tests.chat import ADMIN, LEADER, ChatHarness


async def ordered(bot: ChatHarness) -> Chain:
    await bot.post("团长", Chain().text)
    chain = Chain().add("张三 苹果2份", "李四 香蕉1把")
    await bot.post("张三", Chain().add("张三 苹果2份").text)
    await bot.post("李四", chain.text)
    return chain


async def test_my_orders_edit_and_help(sqlite_bot: ChatHarness) -> None:
    bot = sqlite_bot
    await ordered(bot)
    await bot.post("张三", "我的订单")
    assert bot.group_texts()[-1] == "张三 你的接龙：\n1. 张三 苹果2份 ¥25.60\n合计应付 ¥25.60"
    await bot.post("张三", "改 1 苹果3份")
    assert bot.group_texts()[-1] == "张三 第1条已改为：张三 苹果3份"
    await bot.post("张三", "改 2 香蕉5把")
    assert "不是你接的" in bot.group_texts()[-1]
    assert await bot.orders() == [
        ("张三", "wxid_张三", [("烟台苹果", 3, "份")]),
        ("李四", "wxid_李四", [("海南香蕉", 1, "把")]),
    ]
    await bot.post("李四", "帮助")
    assert "取消 3" in bot.group_texts()[-1] and "截单时间" not in bot.group_texts()[-1]


async def test_impostor_and_chat_are_not_leader_commands(bot: ChatHarness) -> None:
    await ordered(bot)
    await bot.post("团长", "#截单", sender="wxid_张三")  # 张三 renamed himself 团长
    assert "只有团长可以" in bot.group_texts()[-1]
    await bot.post("团长", "截单了吗？")  # the real leader, chatting
    assert (await bot.rounds())[0]["status"] == "open"
    await bot.post("团长", "#截单 现在")  # prefixed but malformed: a usage line
    assert "用法" in bot.group_texts()[-1]
    async with bot.app.db.connect() as conn:
        audit = (await conn.execute(select(AuditLog.actor, AuditLog.verb, AuditLog.allowed))).all()
    assert [tuple(a) for a in audit] == [("wxid_张三", "截单", False)]


async def test_leader_moves_cutoff_reopens_shows_chain_and_tally(bot: ChatHarness) -> None:
    chain = await ordered(bot)
    await bot.post("团长", "截单时间 21:00")
    assert bot.group_texts()[-1] == "截单时间改为 11月23日 21:00。"
    await bot.at("21:00")
    assert bot.group_texts()[-1].startswith("【已截单】")
    await bot.post("团长", "重开 22:30")
    assert "重新开放接龙，11月23日 22:30截单" in bot.group_texts()[-1]
    await bot.post("王五", chain.add("王五 苹果1份").text)
    await bot.post("团长", "接龙")
    assert bot.group_texts()[-1].endswith("1. 张三 苹果2份\n2. 李四 香蕉1把\n3. 王五 苹果1份")
    await bot.post("团长", "统计")
    [tally] = [t for t in bot.private_texts(LEADER) if "合计" in t]
    assert "烟台苹果3份（¥38.40）" in tally and "合计 ¥48.30" in tally
    await bot.at("22:30")
    rounds = await bot.rounds()
    assert rounds[0]["status"] == "closed" and len(rounds[0]["orders"]) == 3
    await bot.post("团长", "到货")
    await bot.post("团长", "重开")
    assert "已经到货，不能重开" in bot.private_texts(LEADER)[-1]


async def test_private_chat_by_role(sqlite_bot: ChatHarness) -> None:
    bot = sqlite_bot
    await ordered(bot)
    await bot.at("22:00")
    await bot.post("张三", "你好", room=None)
    await bot.post("张三", "在吗", room=None)
    assert bot.private_texts("wxid_张三") == [
        "你好！请在团购群里接龙下单：复制最新接龙，在最后加一行“序号. 名字 商品数量”。"
    ]  # help once, then quiet
    await bot.post("张三", "汇总", room=None)
    assert "只有管理员可以" in bot.private_texts("wxid_张三")[-1]
    await bot.post("管理员", "汇总 2026-11-23", room=None, sender=ADMIN)
    summary = bot.private_texts(ADMIN)[-1]
    assert summary.startswith("【2026-11-23 汇总】1个团")
    # the leader by the name their messages carry, never by contact id
    assert "烟台苹果 2份 ¥25.60" in summary and "1. 团长 ¥35.50" in summary
    assert LEADER not in summary
    await bot.post("团长", "统计", room=None)
    assert "合计 ¥35.50" in bot.private_texts(LEADER)[-1]


async def test_admin_gets_the_export_as_a_file(
    sqlite_bot: ChatHarness, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    bot = sqlite_bot
    monkeypatch.setattr("handlers.private.EXPORTS_DIR", tmp_path)
    await ordered(bot)
    await bot.post("管理员", "导出", room=None, sender=ADMIN)
    [sent] = [s for s in bot.said if s.to == ADMIN and s.file_path]
    assert sent.file_path and Path(sent.file_path).name == "团购-2026-11-23.xlsx"
    assert load_workbook(sent.file_path).sheetnames == [
        "配送清单",
        "排序列表",
        "总清单",
        "分拣单-按商品",
        "分拣单-按楼号",
        "每户应付",
        "待确认-不配货",
        "退款",
    ]


async def test_leader_removes_and_orders_on_behalf(bot: ChatHarness) -> None:
    await ordered(bot)
    await bot.post("团长", "删 2")
    await bot.post("团长", "代接 王奶奶 香蕉2把")
    await bot.post("团长", "代接的也算吗")  # chat, not a command
    assert await bot.orders() == [
        ("张三", "wxid_张三", [("烟台苹果", 2, "份")]),
        ("王奶奶", LEADER, [("海南香蕉", 2, "把")]),
    ]
    assert bot.private_texts(LEADER)[-2:] == ["已删除第2条：李四 香蕉1把", "已代接：王奶奶 香蕉2把"]
    await bot.post("李四", "删 1")
    assert "只有团长可以“删”" in bot.group_texts()[-1]


async def test_unknown_command_gets_help_once(sqlite_bot: ChatHarness) -> None:
    bot = sqlite_bot
    await ordered(bot)
    await bot.post("张三", "#开团")
    await bot.post("张三", "/退货")
    helps = [t for t in bot.group_texts() if "没有这个命令" in t]
    assert len(helps) == 1 and "我的订单" in helps[0] and "截单时间" not in helps[0]


async def test_admin_chart_is_a_png_of_sales(
    sqlite_bot: ChatHarness, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    bot = sqlite_bot
    monkeypatch.setattr("handlers.private.EXPORTS_DIR", tmp_path)
    await ordered(bot)
    await bot.post("管理员", "图表 3", room=None, sender=ADMIN)
    [sent] = [s for s in bot.said if s.to == ADMIN and s.file_path]
    assert sent.file_path and sent.file_path.endswith(".png")
    assert Path(sent.file_path).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    async with bot.app.db.connect() as conn:
        data = await sales_by_day(
            conn, bot.app.config.timezone, date(2026, 11, 21), date(2026, 11, 23)
        )
    assert data == {LEADER: {date(2026, 11, 23): 3550}}
    await bot.post("张三", "图表", room=None)
    assert "只有管理员可以" in bot.private_texts("wxid_张三")[-1]


async def test_admin_commands_are_refused_in_a_group(bot: ChatHarness) -> None:
    await ordered(bot)
    await bot.post("管理员", "#汇总", sender=ADMIN)
    await bot.post("管理员", "/汇总 2026-11-23", sender=ADMIN)
    refusals = [t for t in bot.group_texts() if "请私聊机器人使用" in t]
    assert len(refusals) == 1  # said once
    assert not any("【2026-11-23 汇总】" in s.text for s in bot.said)
    await bot.post("张三", "汇总一下大家的订单吧")  # chat that merely starts with the word
    await bot.post("张三", "团长 明天几点到")
    assert len([t for t in bot.group_texts() if "请私聊" in t]) == 1
    async with bot.app.db.connect() as conn:
        audit = (await conn.execute(select(AuditLog.verb, AuditLog.allowed))).all()
    assert [tuple(a) for a in audit] == [("汇总", False), ("汇总", False)]


async def test_an_impossible_date_gets_the_usage_line(sqlite_bot: ChatHarness) -> None:
    await sqlite_bot.post("管理员", "汇总 2026-13-45", room=None, sender=ADMIN)
    assert sqlite_bot.private_texts(ADMIN)[-1] == "用法：汇总 11月23日"


async def test_talk_about_a_command_is_not_the_command(sqlite_bot: ChatHarness) -> None:
    bot = sqlite_bot
    await ordered(bot)
    said = len(bot.said)
    await bot.post("张三", "分拣单是什么")  # a resident asking, not a leader's command
    await bot.post("李四", "代接的也算吗")
    await bot.post("李四", "缺货 苹果怎么办？")
    await bot.post("团长", "分拣单 怎么用？")  # the leader asking about it
    assert bot.said[said:] == []  # quiet: nothing refused, nothing sent
    async with bot.app.db.connect() as conn:
        assert (await conn.execute(select(AuditLog.verb))).all() == []
    await bot.post("张三", "分拣单")  # the word alone is the command: refused once
    assert bot.group_texts()[-1] == "张三 只有团长可以“分拣单”。"
    await bot.post("张三", "#分拣单是什么")  # typed for the bot: a refusal (already said today)
    await bot.post("团长", "分拣单 按楼号")
    assert bot.private_texts(LEADER)[-1].startswith("【分拣单")
