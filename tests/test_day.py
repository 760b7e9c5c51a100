"""A leader's and residents' real day, told as group chats (issue 13): nothing lost or doubled.

Each test is one ordinary move that used to lose or double an order or money without a word.
Runs on SQLite and PostgreSQL (the `bot` fixture); the leader is 团长 (wxid_leader).
"""

from __future__ import annotations

from sqlalchemy import select

from models.tables import AuditLog
from tests.chains import Chain
from tests.chat import LEADER, ChatHarness
from tests.test_chain import open_fruit_round

APPLE, BANANA = "烟台苹果", "海南香蕉"


# 2. A stale copy made after an edit does not bring the old line back -------------------------


async def test_stale_copy_after_an_edit_keeps_the_edit(bot: ChatHarness) -> None:
    v1 = (await open_fruit_round(bot)).add("张三 苹果1份")
    await bot.post("张三", v1.text)
    await bot.post("张三", v1.replace("苹果1份", "苹果3份").text)  # 张三 changes his line
    said = len(bot.group_texts())  # (an edit of one's newest line is confirmed to its owner)
    await bot.post("王五", v1.add("王五 香蕉1把").text)  # copied from before the edit
    assert await bot.orders() == [
        ("张三", "wxid_张三", [(APPLE, 3, "份")]),
        ("王五", "wxid_王五", [(BANANA, 1, "把")]),
    ]
    assert len(bot.group_texts()) == said  # nothing for anyone to do


async def test_stale_copy_after_gai_keeps_the_edit(bot: ChatHarness) -> None:
    v1 = (await open_fruit_round(bot)).add("张三 苹果1份", "李四 香蕉1把")
    await bot.post("李四", v1.text)
    await bot.post("李四", "改 2 香蕉2把")
    v2 = v1.add("赵六 苹果1份")  # 赵六 copied the chain before 李四's 改
    await bot.post("赵六", v2.text)
    await bot.post("钱七", v2.add("钱七 苹果2份").text)
    assert await bot.orders() == [
        ("张三", "wxid_李四", [(APPLE, 1, "份")]),
        ("李四", "wxid_李四", [(BANANA, 2, "把")]),
        ("赵六", "wxid_赵六", [(APPLE, 1, "份")]),
        ("钱七", "wxid_钱七", [(APPLE, 2, "份")]),
    ]


async def test_owner_repasting_the_old_text_keeps_the_edit_and_is_told_once(
    bot: ChatHarness,
) -> None:
    v1 = (await open_fruit_round(bot)).add("张三 苹果1份")
    await bot.post("张三", v1.text)
    await bot.post("张三", v1.replace("苹果1份", "苹果3份").text)
    await bot.post("张三", v1.text)  # the old clipboard: changing back, or a slip?
    await bot.post("张三", v1.text)
    told = bot.group_texts()[-1]
    assert "改之前" in told and "张三 苹果3份" in told and "改 1" in told
    assert await bot.orders() == [("张三", "wxid_张三", [(APPLE, 3, "份")])]
    # Changing it back for real is one 改 away.
    await bot.post("张三", "改 1 苹果1份")
    assert await bot.orders() == [("张三", "wxid_张三", [(APPLE, 1, "份")])]
    await bot.post("王五", v1.replace("苹果1份", "苹果3份").add("王五 香蕉1把").text)
    assert [o[2] for o in await bot.orders()] == [[(APPLE, 1, "份")], [(BANANA, 1, "把")]]


# 3. One numbering: the number the bot last showed, accepted by every command --------------


async def _forked_at_six(bot: ChatHarness) -> Chain:
    base = (await open_fruit_round(bot)).add(*(f"住户{n} 苹果1份" for n in range(1, 6)))
    await bot.post("住户5", base.text)
    await bot.post("王五", base.add("王五 香蕉1把").text)
    await bot.post("赵六", base.add("赵六 苹果2份").text)  # also typed as line 6
    await bot.flush()
    merged = bot.group_texts()[-1]
    assert "6. 王五 香蕉1把\n7. 赵六 苹果2份" in merged  # what the bot showed
    return base


async def test_leader_deletes_by_the_number_the_bot_showed(bot: ChatHarness) -> None:
    await _forked_at_six(bot)
    await bot.post("团长", "删 7")
    assert "已删除第7条：赵六 苹果2份" in bot.private_texts(LEADER)[-1]
    assert await bot.names() == ["住户1", "住户2", "住户3", "住户4", "住户5", "王五"]


async def test_residents_cancel_and_change_by_the_number_the_bot_showed(
    bot: ChatHarness,
) -> None:
    await _forked_at_six(bot)
    await bot.post("赵六", "改 7 苹果3份")
    assert "第7条已改为：赵六 苹果3份" in bot.group_texts()[-1]
    await bot.post("赵六", "我的订单")
    assert "7. 赵六 苹果3份" in bot.group_texts()[-1]
    await bot.post("赵六", "取消 6")
    assert "不是你接的" in bot.group_texts()[-1]
    await bot.post("王五", "取消 6")
    assert "已取消：王五 香蕉1把" in bot.group_texts()[-1]
    assert (await bot.orders())[-1] == ("赵六", "wxid_赵六", [(APPLE, 3, "份")])


# 1. A leader's chain head opens the round, whatever its shape -------------------------------

ORANGE_HEAD = "#接龙 周六到 赣南脐橙 39.9元/箱（10斤） 明早8点截单"


async def test_one_line_head_opens_the_round_and_copies_are_orders(bot: ChatHarness) -> None:
    await bot.post("团长", ORANGE_HEAD)
    [opened] = bot.private_texts(LEADER)
    assert "已开团" in opened and "赣南脐橙 39.9元/箱" in opened
    assert "用法" not in opened
    await bot.post("张三", f"{ORANGE_HEAD}\n1. 张三 1箱")
    await bot.post("李四", f"{ORANGE_HEAD}\n1. 张三 1箱\n2. 12栋302 刘姐 2箱")
    assert await bot.orders() == [
        ("张三", "wxid_张三", [("赣南脐橙", 1, "箱")]),
        ("12栋302 刘姐", "wxid_李四", [("赣南脐橙", 2, "箱")]),
    ]
    assert bot.group_texts() == []


async def test_bare_jielong_is_still_the_command(bot: ChatHarness) -> None:
    await bot.post("团长", ORANGE_HEAD)
    await bot.post("张三", f"{ORANGE_HEAD}\n1. 张三 1箱")
    await bot.post("团长", "#接龙")
    [chain] = bot.group_texts()
    assert chain.startswith(ORANGE_HEAD) and "1. 张三 1箱" in chain


# 10. Leaders' natural words; others get one short refusal -----------------------------------


async def test_leaders_natural_words_for_delete(bot: ChatHarness) -> None:
    chain = (await open_fruit_round(bot)).add(*(f"住户{n} 苹果1份" for n in range(1, 7)))
    await bot.post("住户6", chain.text)
    for said in ("删除 6", "#删除5", "删第4条", "删 3"):
        await bot.post("团长", said)
    assert await bot.names() == ["住户1", "住户2"]
    assert all("已删除" in t for t in bot.private_texts(LEADER)[1:])


async def test_a_resident_gets_one_short_refusal_and_an_audit_row(bot: ChatHarness) -> None:
    chain = (await open_fruit_round(bot)).add("张三 苹果1份", "李四 苹果1份")
    await bot.post("李四", chain.text)
    for said in ("删除 1", "#删 1", "#删 张三", "删第1条"):
        await bot.post("张三", said)
    [refusal] = bot.group_texts()
    assert refusal == "张三 只有团长可以“删”。"
    assert await bot.names() == ["张三", "李四"]
    async with bot.app.db.connect() as conn:
        rows = (await conn.execute(select(AuditLog).order_by(AuditLog.id))).all()
    assert [(r.verb, r.allowed) for r in rows if r.actor == "wxid_张三"] == [
        ("删除", False),
        ("删", False),
        ("删", False),
        ("删", False),
    ]
