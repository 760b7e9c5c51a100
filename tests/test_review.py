"""Lines the bot is not sure of, told as group chats: kept, said once to the poster, out of the
totals until the leader accepts them (`确认`), listed for the leader (`核对`), marked in the
final list. Runs on SQLite and PostgreSQL (the `bot` fixture).
"""

from __future__ import annotations

from handlers.reports import tally_report
from tests.chains import Chain
from tests.chat import LEADER, ChatHarness
from tests.test_chain import open_fruit_round


async def _totals(bot: ChatHarness) -> dict[str, object]:
    async with bot.app.db.connect() as conn:
        report = await tally_report(conn, bot.app.config)
    [round_] = report["rounds"]  # type: ignore[index]
    return dict(round_)  # type: ignore[arg-type]


async def test_unsure_line_is_kept_told_once_and_out_of_totals_until_accepted(
    bot: ChatHarness,
) -> None:
    chain = await open_fruit_round(bot)
    # 张三榴莲 + 2个, or 张三 + 榴莲2个? Nothing on the menu says: the bot asks.
    chain = chain.add("王五 苹果1份", "张三榴莲2个")
    await bot.post("王五", chain.text)
    [told] = bot.group_texts()
    assert "张三榴莲2个" in told and "团长确认前不计入合计" in told
    [order_ok, held] = (await bot.rounds())[0]["orders"]
    assert (order_ok["held"], held["held"]) == (False, True)
    assert "review" in held["flags"]
    assert (await _totals(bot))["held"] == 1

    # The next copy carries the same line: nobody is told again.
    await bot.post("赵六", chain.add("赵六 香蕉1把").text)
    assert len(bot.group_texts()) == 1

    # The leader asks what waits, and accepts line 2 as read.
    await bot.post("团长", "核对")
    [listing] = bot.private_texts(LEADER)[-1:]
    assert "2. 张三榴莲2个" in listing and "名字和商品连在一起" in listing
    await bot.post("团长", "确认 2")
    assert "已确认并计入" in bot.private_texts(LEADER)[-1]
    [_, accepted, _] = (await bot.rounds())[0]["orders"]
    assert accepted["held"] is False
    assert (await _totals(bot))["held"] == 0
    await bot.post("团长", "核对")
    assert "没有待确认" in bot.private_texts(LEADER)[-1]


async def test_final_list_marks_held_lines_and_leaves_them_out_of_the_total(
    bot: ChatHarness,
) -> None:
    chain = await open_fruit_round(bot)
    await bot.post("王五", chain.add("王五 苹果1份", "张三榴莲2个").text)
    await bot.at("22:00")
    final = bot.group_texts()[-1]
    assert "【已截单】" in final
    assert "2. 张三榴莲2个（待团长确认，未计入合计）" in final
    assert "合计：烟台苹果1份" in final and "榴莲" not in final.split("合计：")[1]
    assert "共2单（1单待团长确认）" in final
    summary = bot.private_texts(LEADER)[-1]
    assert "另有1单待你确认" in summary
    # After 截单 the leader can still decide before the goods are ordered.
    await bot.post("团长", "确认 2")
    assert (await _totals(bot))["held"] == 0


async def test_a_sign_up_chain_opens_no_round(bot: ChatHarness) -> None:
    await bot.post("团长", "#接龙 周日羽毛球 下午3-5点 限12人\n1. 张三\n2. 李四 2人")
    assert await bot.rounds() == []
    assert bot.group_texts() == []


async def test_a_one_product_chain_counts_each_entry_as_a_portion(bot: ChatHarness) -> None:
    head = "#接龙 周三午饭 宫保鸡丁饭 18元/份\n截单11点，12点送到各栋楼下"
    await bot.post("团长", head)
    chain = Chain(head=head).add("张三 2份", "李四", "8栋 赵六 2", "Amy Chen 1份 B座 少辣")
    await bot.post("Amy", chain.text)
    assert await bot.orders() == [
        ("张三", "wxid_Amy", [("宫保鸡丁饭", 2, "份")]),
        ("李四", "wxid_Amy", [("宫保鸡丁饭", 1, None)]),
        ("8栋 赵六", "wxid_Amy", [("宫保鸡丁饭", 2, None)]),
        ("Amy Chen", "wxid_Amy", [("宫保鸡丁饭", 1, "份")]),
    ]
    assert bot.group_texts() == []


async def test_a_closing_written_in_a_slot_orders_nothing_and_asks_nothing(
    bot: ChatHarness,
) -> None:
    # The leader closes the list in the next slot, by name, as people do in real chains.
    closed = (await open_fruit_round(bot)).add("王五 苹果1份", "团长 截单啦")
    await bot.post("团长", closed.text)
    [order] = (await bot.rounds())[0]["orders"]  # the closing slot is no order
    assert bot.group_texts() == []  # nobody is asked what they wanted
    assert order["items"] == [{"product": "烟台苹果", "qty": 1, "unit": "份"}]
    assert (await _totals(bot))["held"] == 0
    await bot.at("22:00")
    final = bot.group_texts()[-1]
    assert "截单啦" not in final and "共1单" in final and "团长 ¥" not in final


async def test_the_leaders_numbered_price_list_is_the_menu_not_two_orders(
    bot: ChatHarness,
) -> None:
    menu_post = "#接龙\n周六面包团 周五晚9点截单\n1. 原味吐司 18元\n2. 全麦欧包 22元"
    await bot.post("团长", menu_post)
    [round_] = await bot.rounds()
    assert round_["orders"] == []
    assert "1号 原味吐司 18元、2号 全麦欧包 22元" in bot.private_texts(LEADER)[-1]
    # A resident copies it and orders under it: one order, of a product on the menu.
    await bot.post("张三", menu_post + "\n\n1. 张三 原味吐司2个")
    [order] = (await bot.rounds())[0]["orders"]
    assert order["items"] == [{"product": "原味吐司", "qty": 2, "unit": "个"}]


async def test_goods_bought_by_the_moneys_worth_wait_for_the_leader_to_weigh_them(
    bot: ChatHarness,
) -> None:
    """The head asks how much money's worth each wants of goods sold by weight: `5元的` is five
    yuan of it, never five of them. The line is kept and held; the leader confirms after
    weighing."""
    head = "#接龙 酱香饼 12元/斤 接龙写下要几块钱的（称重购买） 明早8点截单"
    await bot.post("团长", head)
    chain = Chain(head=head).add("橙子 5元的", "Jay 1斤")
    await bot.post("Jay", chain.text)
    [told] = bot.group_texts()
    assert "按金额买5元" in told and "团长称好后确认数量" in told
    held, weighed = (await bot.rounds())[0]["orders"]
    assert (held["held"], weighed["held"]) == (True, False)
    assert (await _totals(bot))["held"] == 1
