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
    # counted in units of sale (one 箱 of 10斤 each), shown as 箱 in every total
    assert await bot.orders() == [
        ("张三", "wxid_张三", [("赣南脐橙", 1, "份")]),
        ("12栋302 刘姐", "wxid_李四", [("赣南脐橙", 2, "份")]),
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


# 4. Units convert where the menu says how; elsewhere the line is held and its poster told ---

EGG_HEAD = """#接龙
12月2日 蛋团 截单：今晚22:00
1号 咸鸭蛋 18元/盒（12个）
2号 土鸡蛋 25元/30枚
3号 烟台苹果 12.8元/3斤
4号 赣南脐橙 39.9元/箱（10斤）"""


async def test_units_convert_exactly_or_the_line_is_held(bot: ChatHarness) -> None:
    await bot.post("团长", EGG_HEAD)
    assert "咸鸭蛋 18元/盒（12个）" in bot.private_texts(LEADER)[0]
    chain = Chain(EGG_HEAD).add(
        "张三 鸭蛋12个",  # one box
        "李四 咸鸭蛋2盒",
        "王五 苹果6斤",  # two 3斤 portions
        "赵六 苹果6斤",
        "钱七 苹果6斤",
        "孙八 脐橙20斤",  # two 箱 of 10斤
        "周九 土鸡蛋60枚",  # two lots of 30
        "吴十 鸡蛋1盒",  # the menu does not say how many 枚 a 盒 is
        "郑一 苹果两斤",  # two thirds of a portion
    )
    await bot.post("郑一", chain.text)
    [told] = bot.group_texts()
    assert "吴十 鸡蛋1盒（土鸡蛋按30枚卖，1盒换算不了，请写几份）" in told
    assert "郑一 苹果两斤（烟台苹果按3斤卖，2斤不是整份，请写几份）" in told
    await bot.at("22:00")
    final = bot.group_texts()[-1]
    assert "8. 吴十 鸡蛋1盒（待团长确认，未计入合计）" in final
    assert "合计：咸鸭蛋3盒，土鸡蛋2份，烟台苹果6份，赣南脐橙2箱" in final
    [summary] = [t for t in bot.private_texts(LEADER) if "¥" in t]
    # 3×18 + 2×25 + 6×12.80 + 2×39.90 = 54 + 50 + 76.80 + 79.80
    assert "¥260.60" in summary and "¥0.00" not in summary


# 8. After 重开 and a second close, the new final list and summary go out; no merged chain
#    after cutoff -------------------------------------------------------------------------


async def test_reopen_and_close_again_sends_new_lists_and_no_merged_chain_after_cutoff(
    bot: ChatHarness,
) -> None:
    base = (await open_fruit_round(bot)).add("张三 苹果1份")
    await bot.post("张三", base.text)
    await bot.post("王五", base.add("王五 香蕉1把").text)
    await bot.post("赵六", base.add("赵六 苹果2份").text)  # a fork: merged chain held back
    await bot.post("团长", "截单")  # before the merged chain went out
    await bot.flush()
    assert [t[:5] for t in bot.group_texts()] == ["【已截单】"]
    await bot.post("团长", "重开")
    await bot.post("钱七", base.add("王五 香蕉1把", "赵六 苹果2份", "钱七 苹果1份").text)
    await bot.post("团长", "截单")
    await bot.flush()
    finals = [t for t in bot.group_texts() if t.startswith("【已截单】")]
    assert len(finals) == 2 and "4. 钱七 苹果1份" in finals[1] and "共4单" in finals[1]
    summaries = [t for t in bot.private_texts(LEADER) if t.startswith("【截单汇总】")]
    assert len(summaries) == 2 and "共4单" in summaries[1]
    assert not any(t.startswith("有几条接龙被") for t in bot.group_texts())


# 6. A leader's own head sets limits as the deals file does; 9. flagged lines say what happened


STRAWBERRY_HEAD = """#接龙
12月2日 草莓团 截单：今晚22:00
1号 丹东草莓 29.9元/盒 每人限2盒 限量20盒 满10盒成团
2号 烟台苹果 12.8元/3斤"""


async def test_head_limits_are_understood_said_and_enforced(bot: ChatHarness) -> None:
    await bot.post("团长", STRAWBERRY_HEAD)
    [opened] = bot.private_texts(LEADER)
    assert "限购/成团：丹东草莓 每人限2盒、限量20盒、满10盒成团" in opened
    chain = Chain(STRAWBERRY_HEAD).add("张三 草莓1盒", "李四 草莓3盒")
    await bot.post("李四", chain.text)
    [told] = bot.group_texts()
    assert "李四 草莓3盒（超过每人限购2盒，这一行没有计入）" in told
    assert "没读懂" not in told
    await bot.post("团长", "核对")
    assert "2. 李四 草莓3盒（超过每人限购）" in bot.private_texts(LEADER)[-1]
    await bot.post("团长", "截单")
    final = next(t for t in bot.group_texts() if t.startswith("【已截单】"))
    assert "2. 李四 草莓3盒（待团长确认，未计入合计）" in final
    assert "合计：" not in final  # below its 成团 minimum, nothing of it ships
    # 成团 minimum 10 boxes: 1 ordered (the held line does not count), in the product's unit
    assert any(t.startswith("【未成团】丹东草莓 共接1盒，不足10盒") for t in bot.group_texts())


# 11. Quiet when there is nothing to say ---------------------------------------------------


async def test_a_round_nobody_ordered_closes_without_a_word(bot: ChatHarness) -> None:
    await bot.post("团长", STRAWBERRY_HEAD)  # 满10盒成团, and nobody orders
    await bot.at("22:00")
    assert bot.group_texts() == []
    assert [t for t in bot.private_texts(LEADER) if "¥" in t or "共0单" in t] == []
    assert [r["status"] for r in await bot.rounds()] == ["closed"]


# 5. Building and room numbers stay whole; 7. the product name is the menu line's own ------


async def test_building_and_room_numbers_stay_whole(bot: ChatHarness) -> None:
    chain = (await open_fruit_round(bot)).add("12栋302 刘姐 香蕉1把", "3-201 张姐 苹果1份")
    await bot.post("张姐", chain.text)
    assert await bot.names() == ["12栋302 刘姐", "3-201 张姐"]
    assert bot.group_texts() == []


async def test_product_name_comes_from_the_menu_words_alone(bot: ChatHarness) -> None:
    await bot.post("团长", ORANGE_HEAD)
    [opened] = bot.private_texts(LEADER)
    assert "识别到的商品：赣南脐橙 39.9元/箱（10斤）" in opened
    assert "周六到 赣南脐橙 39.9" not in opened.split("识别到的商品")[1]


async def test_an_over_limit_line_counts_once_the_leader_accepts_it(bot: ChatHarness) -> None:
    await bot.post("团长", STRAWBERRY_HEAD)
    chain = Chain(STRAWBERRY_HEAD).add("张三 草莓1盒", "李四 草莓3盒")
    await bot.post("李四", chain.text)
    assert [o["held"] for o in (await bot.rounds())[0]["orders"]] == [False, True]
    await bot.post("团长", "确认 2")
    assert "已确认并计入：李四 草莓3盒" in bot.private_texts(LEADER)[-1]
    assert [o["held"] for o in (await bot.rounds())[0]["orders"]] == [False, False]
