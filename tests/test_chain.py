"""The chain engine, told as group chats: who posts what, what the bot says, what is ordered.

Runs on SQLite and PostgreSQL (the `bot` fixture); the leader is 团长 (wxid_leader).
"""

from __future__ import annotations

from tests.chains import FRUIT_HEAD, Chain
from tests.chat import LEADER, ChatHarness

APPLE, BANANA = "烟台苹果", "海南香蕉"


async def open_fruit_round(bot: ChatHarness) -> Chain:
    await bot.post("团长", FRUIT_HEAD)
    return Chain()


async def test_leader_head_opens_a_round_and_tells_only_the_leader(bot: ChatHarness) -> None:
    await open_fruit_round(bot)
    assert bot.group_texts() == []
    [opened] = bot.private_texts(LEADER)
    assert "水果团" in opened and "22:00" in opened
    assert "烟台苹果" in opened and "12.8元" in opened
    rounds = await bot.rounds()
    assert [(r["status"], r["orders"]) for r in rounds] == [("open", [])]


async def test_every_format_in_one_chain(bot: ChatHarness) -> None:
    chain = await open_fruit_round(bot)
    chain = chain.add(
        "张三 苹果2份",
        "3栋502 李姐 香蕉x2 苹果+1",
        "🌸小雨🌸 1号×2，2号1",
        "王五 两份苹果",
    )
    await bot.post("王五", chain.text)
    assert await bot.orders() == [
        ("张三", "wxid_王五", [(APPLE, 2, "份")]),
        ("3栋502 李姐", "wxid_王五", [(BANANA, 2, None), (APPLE, 1, None)]),
        ("🌸小雨🌸", "wxid_王五", [(APPLE, 2, None), (BANANA, 1, None)]),
        ("王五", "wxid_王五", [(APPLE, 2, "份")]),
    ]
    assert bot.group_texts() == []  # everything understood: the group hears nothing


async def test_plus_one_and_same_as_above_copy_the_line_above(bot: ChatHarness) -> None:
    chain = (await open_fruit_round(bot)).add("王五 两份苹果")
    await bot.post("王五", chain.text)
    chain = chain.add("赵六 +1")
    await bot.post("赵六", chain.text)
    chain = chain.add("同上")
    await bot.post("钱七", chain.text)
    orders = await bot.orders()
    assert orders[1] == ("赵六", "wxid_赵六", [(APPLE, 2, "份")])
    assert orders[2] == ("钱七", "wxid_钱七", [(APPLE, 2, "份")])


async def test_chain_grown_one_line_at_a_time_keeps_every_line(bot: ChatHarness) -> None:
    chain = await open_fruit_round(bot)
    for n in range(1, 301):
        chain = chain.add(f"住户{n} 苹果{n % 3 + 1}份")
        await bot.post(f"住户{n}", chain.text)
    orders = await bot.orders()
    assert len(orders) == 300
    assert orders[0] == ("住户1", "wxid_住户1", [(APPLE, 2, "份")])
    assert orders[299] == ("住户300", "wxid_住户300", [(APPLE, 1, "份")])
    assert bot.group_texts() == []


async def test_two_simultaneous_forks_keep_both_and_merge_once(bot: ChatHarness) -> None:
    base = (await open_fruit_round(bot)).add("张三 苹果2份")
    await bot.post("张三", base.text)
    await bot.post("王五", base.add("王五 香蕉1把").text)
    await bot.post("赵六", base.add("赵六 苹果1份").text)  # copied before 王五's post
    assert await bot.names() == ["张三", "王五", "赵六"]
    await bot.flush()
    [merged] = bot.group_texts()
    assert "1. 张三 苹果2份\n2. 王五 香蕉1把\n3. 赵六 苹果1份" in merged
    # The next resident copies 赵六's version (still without 王五): no second merge message.
    await bot.post("钱七", base.add("赵六 苹果1份", "钱七 香蕉2把").text)
    await bot.flush()
    assert len(bot.group_texts()) == 1
    assert await bot.names() == ["张三", "王五", "赵六", "钱七"]


async def test_three_simultaneous_forks_coalesce_into_one_merged_chain(bot: ChatHarness) -> None:
    base = (await open_fruit_round(bot)).add("张三 苹果2份")
    await bot.post("张三", base.text)
    for who in ("甲", "乙", "丙"):
        await bot.post(who, base.add(f"{who} 香蕉1把").text)
    await bot.flush()
    assert await bot.names() == ["张三", "甲", "乙", "丙"]
    [merged] = bot.group_texts()
    for line in ("张三 苹果2份", "甲 香蕉1把", "乙 香蕉1把", "丙 香蕉1把"):
        assert line in merged


async def test_owner_edits_removes_and_cancels_own_lines(bot: ChatHarness) -> None:
    chain = (await open_fruit_round(bot)).add("张三 苹果2份", "李四 香蕉1把", "王五 苹果1份")
    await bot.post("张三", Chain().add("张三 苹果2份").text)
    await bot.post("李四", Chain().add("张三 苹果2份", "李四 香蕉1把").text)
    await bot.post("王五", chain.text)
    # 张三 changes 2 to 3 in his own line: an edit, not a new order.
    chain = chain.replace("张三 苹果2份", "张三 苹果3份")
    await bot.post("张三", chain.text)
    # 王五 deletes his own line from the chain: a removal.
    chain = chain.without("王五 苹果1份")
    await bot.post("王五", chain.text)
    # 李四 says 取消.
    await bot.post("李四", "取消")
    assert await bot.orders() == [("张三", "wxid_张三", [(APPLE, 3, "份")])]
    assert any("已取消" in t and "李四 香蕉1把" in t for t in bot.group_texts())


async def test_cancel_by_number_only_touches_your_own_line(bot: ChatHarness) -> None:
    chain = (await open_fruit_round(bot)).add("张三 苹果2份", "李四 香蕉1把")
    await bot.post("张三", Chain().add("张三 苹果2份").text)
    await bot.post("李四", chain.text)
    await bot.post("李四", "取消 1")
    assert "不是你接的" in bot.group_texts()[-1]
    await bot.post("李四", "#取消2")
    assert await bot.names() == ["张三"]


async def held_or_counted(bot: ChatHarness) -> list[tuple[str, bool]]:
    """Every active line of the round as (text, held for the leader)."""
    rounds = await bot.rounds()
    return [(o["raw"], o["held"]) for o in rounds[-1]["orders"]]


async def test_cancelling_part_of_an_order_keeps_the_order_and_asks(bot: ChatHarness) -> None:
    chain = (await open_fruit_round(bot)).add("张三 苹果3份")
    await bot.post("张三", chain.text)
    # 张三 wants one fewer: the three stand (never none), his line is held and he is told.
    chain = chain.add("张三 取消1份")
    await bot.post("张三", chain.text)
    kept = await held_or_counted(bot)
    assert kept == [("1. 张三 苹果3份", False), ("2. 张三 取消1份", True)]
    [told] = bot.group_texts()
    assert "2. 张三 取消1份" in told and "改之前的数量" in told
    # The leader cannot 确认 it as read (that would order one more): told how to change it.
    await bot.post("团长", "确认 2")
    assert "减少数量" in bot.private_texts(LEADER)[-1]
    assert await held_or_counted(bot) == kept


async def test_withdrawing_one_kind_of_two_keeps_the_other(bot: ChatHarness) -> None:
    chain = (await open_fruit_round(bot)).add("张三 苹果2份 香蕉1把")
    await bot.post("张三", chain.text)
    await bot.post("张三", chain.add("张三 取消苹果").text)
    assert await held_or_counted(bot) == [
        ("1. 张三 苹果2份 香蕉1把", False),
        ("2. 张三 取消苹果", True),
    ]


async def test_a_cancel_without_a_count_in_a_one_meal_chain_cancels_the_whole_line(
    bot: ChatHarness,
) -> None:
    lunch = "#接龙 今日午餐\n红烧腐竹套餐 25元/份"
    await bot.post("团长", lunch)
    chain = Chain(lunch).add("果堃 H区 2份", "华丽 D区 少饭")
    await bot.post("果堃", Chain(lunch).add("果堃 H区 2份").text)
    await bot.post("华丽", chain.text)
    chain = chain.add("果堃 H区 取消")
    await bot.post("果堃", chain.text)
    assert await bot.names() == ["华丽"]


async def test_a_cancel_line_carried_in_later_copies_cancels_nothing_more(
    bot: ChatHarness,
) -> None:
    chain = (await open_fruit_round(bot)).add("张三 苹果3份")
    await bot.post("张三", chain.text)
    chain = chain.add("张三 取消")
    await bot.post("张三", chain.text)
    assert await bot.orders() == []
    # He orders bananas instead; his copies still carry the 取消 line above.
    chain = chain.add("张三 香蕉1把")
    await bot.post("张三", chain.text)
    chain = chain.add("李四 香蕉1把")
    await bot.post("张三", chain.text)
    chain = chain.add("王五 苹果1份")
    await bot.post("张三", chain.text)
    assert await bot.orders() == [
        ("张三", "wxid_张三", [(BANANA, 1, "把")]),
        ("李四", "wxid_张三", [(BANANA, 1, "把")]),
        ("王五", "wxid_张三", [(APPLE, 1, "份")]),
    ]
    assert bot.group_texts() == []


async def test_a_cancel_that_names_no_line_of_yours_is_answered(bot: ChatHarness) -> None:
    chain = (await open_fruit_round(bot)).add("张三 苹果3份", "张三 香蕉1把")
    await bot.post("张三", chain.text)
    chain = chain.add("张三 取消")  # which of his two?
    await bot.post("张三", chain.text)
    assert len(await bot.orders()) == 2
    [told] = bot.group_texts()
    assert "3. 张三 取消" in told and "取消+序号" in told


async def test_someone_elses_copy_dropping_a_line_keeps_it(bot: ChatHarness) -> None:
    chain = (await open_fruit_round(bot)).add("张三 苹果2份", "李四 香蕉1把")
    await bot.post("张三", Chain().add("张三 苹果2份").text)
    await bot.post("李四", chain.text)
    # 王五 deletes 张三's line (by mistake) and adds his own.
    await bot.post("王五", chain.without("张三 苹果2份").add("王五 苹果1份").text)
    assert await bot.names() == ["张三", "李四", "王五"]
    await bot.flush()
    [merged] = bot.group_texts()
    assert "张三 苹果2份" in merged


async def test_same_message_twice_and_out_of_order(bot: ChatHarness) -> None:
    base = (await open_fruit_round(bot)).add("张三 苹果2份")
    v2 = base.add("李四 香蕉1把")
    # 李四's later version arrives before 张三's earlier one, then 张三's arrives twice.
    assert await bot.post("李四", v2.text, msg_id="wx-2")
    assert await bot.post("张三", base.text, msg_id="wx-1")
    assert not await bot.post("张三", base.text, msg_id="wx-1")
    orders = await bot.orders()
    assert [(o[0], o[1]) for o in orders] == [("张三", "wxid_李四"), ("李四", "wxid_李四")]
    # The same text posted again under a new id changes nothing either.
    await bot.post("李四", v2.text, msg_id="wx-3")
    assert len(await bot.orders()) == 2


async def test_resident_orders_for_a_neighbour(bot: ChatHarness) -> None:
    chain = (await open_fruit_round(bot)).add("孙阿姨 香蕉1把", "隔壁刘奶奶 苹果1份")
    await bot.post("孙阿姨", chain.text)
    assert await bot.orders() == [
        ("孙阿姨", "wxid_孙阿姨", [(BANANA, 1, "把")]),
        ("隔壁刘奶奶", "wxid_孙阿姨", [(APPLE, 1, "份")]),
    ]
    # 孙阿姨 may remove the line she posted for her neighbour.
    await bot.post("孙阿姨", chain.without("隔壁刘奶奶 苹果1份").text)
    assert await bot.names() == ["孙阿姨"]


async def test_post_after_cutoff_is_answered_once_and_not_counted(bot: ChatHarness) -> None:
    chain = (await open_fruit_round(bot)).add("张三 苹果2份")
    await bot.post("张三", chain.text)
    await bot.at("22:00")
    [closed] = bot.group_texts()
    assert "已截单" in closed and "张三 苹果2份" in closed and "烟台苹果2份" in closed
    late = chain.add("陈陈 香蕉2把")
    await bot.post("陈陈", late.text)
    await bot.post("陈陈", late.add("陈陈 苹果1份").text)
    assert len(bot.group_texts()) == 2
    assert "已截单" in bot.group_texts()[1] and "陈陈 香蕉2把" in bot.group_texts()[1]
    rounds = await bot.rounds()
    assert rounds[0]["status"] == "closed"
    assert [o["name"] for o in rounds[0]["orders"]] == ["张三"]


async def test_leader_closes_now_and_residents_cannot(bot: ChatHarness) -> None:
    chain = (await open_fruit_round(bot)).add("张三 苹果2份")
    await bot.post("张三", chain.text)
    await bot.post("张三", "#截单")
    assert "只有团长" in bot.group_texts()[-1]
    await bot.post("团长", "截单")
    assert "【已截单】" in bot.group_texts()[-1]
    assert (await bot.rounds())[0]["status"] == "closed"


async def test_unknown_item_and_unreadable_line_are_kept_and_flagged_once(bot: ChatHarness) -> None:
    chain = (await open_fruit_round(bot)).add("周周 榴莲2个")
    await bot.post("周周", chain.text)
    [reply] = bot.group_texts()
    assert "榴莲" in reply
    rounds = await bot.rounds()
    [order] = rounds[0]["orders"]
    assert order["items"] == [{"product": "榴莲", "qty": 2, "unit": "个"}]
    assert "unmatched_item" in order["flags"]
    # The next resident copies the chain with 周周's line in it: nobody is told again.
    await bot.post("张三", chain.add("张三 苹果1份").text)
    assert len(bot.group_texts()) == 1


async def test_garbage_huge_and_hostile_messages_are_stored_and_harmless(bot: ChatHarness) -> None:
    chain = await open_fruit_round(bot)
    await bot.post("路人", "￥%……&*（）——+{}|：“《》？" * 10)
    await bot.post("路人", "1. " + "苹果" * 50_000)  # a 100 KB message
    await bot.post("路人", "1. 张\x00三\x07 苹果\u200b2份\u202e")
    sql_name = "x'OR'1'='1';--"
    drop = "Robert'); DROP TABLE entries;-- 苹果1份"
    await bot.post("小明", chain.add(f"{sql_name} 苹果1份", "<b>花花</b> 香蕉1把", drop).text)
    names = await bot.names()
    assert sql_name in names and "<b>花花</b>" in names
    rounds = await bot.rounds()
    assert f"3. {drop}" in [o["raw"] for o in rounds[0]["orders"]]  # stored verbatim
    async with bot.app.db.connect() as conn:
        from sqlalchemy import func, select

        from models.tables import InboundMessage

        stored = (await conn.execute(select(func.count()).select_from(InboundMessage))).scalar()
        errors = (
            await conn.execute(
                select(func.count())
                .select_from(InboundMessage)
                .where(InboundMessage.status == "error")
            )
        ).scalar()
    assert stored == 5 and errors == 0  # and the entries table is still there


async def test_merged_chain_held_back_includes_posts_made_meanwhile(bot: ChatHarness) -> None:
    base = (await open_fruit_round(bot)).add("张三 苹果2份")
    await bot.post("张三", base.text)
    await bot.post("王五", base.add("王五 香蕉1把").text)
    forked = base.add("赵六 苹果1份")
    await bot.post("赵六", forked.text)  # drops 王五: a merged chain is queued
    await bot.post("钱七", forked.add("钱七 香蕉2把").text)  # before it goes out
    assert bot.group_texts() == []  # held back for a quiet moment
    await bot.flush()
    [merged] = bot.group_texts()
    assert merged.endswith("1. 张三 苹果2份\n2. 王五 香蕉1把\n3. 赵六 苹果1份\n4. 钱七 香蕉2把")


async def test_final_list_adds_up_units_of_sale(bot: ChatHarness) -> None:
    chain = (await open_fruit_round(bot)).add(
        "张三 苹果2份", "李四 1号x3", "王五 香蕉1把", "赵六 2号2"
    )
    await bot.post("赵六", chain.text)
    await bot.at("22:00")
    [closed] = bot.group_texts()
    assert "合计：烟台苹果5份，海南香蕉3把" in closed


async def test_a_deleted_line_in_the_owners_stale_copy_is_not_ordered_again(
    bot: ChatHarness,
) -> None:
    base = await open_fruit_round(bot)
    with_line = base.add("王五 苹果3份")
    await bot.post("王五", with_line.text)
    await bot.post("王五", base.text)  # 王五 deletes his line
    latest = base.add("张三 苹果1份")
    await bot.post("张三", latest.text)
    # 王五 copies an old version that still has his deleted line (and lacks 张三's).
    await bot.post("王五", with_line.text)
    assert await bot.names() == ["张三"]
    assert "之前已删掉" in bot.group_texts()[-1]
    # Written again on the latest chain, it counts.
    await bot.post("王五", latest.add("王五 苹果3份").text)
    assert sorted(await bot.names()) == ["张三", "王五"]
