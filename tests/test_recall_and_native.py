"""Recalls (撤回) and WeChat's own 接龙, told as group chats, on SQLite and PostgreSQL.

A recall takes back what that one message did to the orders, and only the leader hears of it.
A native 接龙's XML is written by the sender's client: what a message adds is its sender's.
"""

from __future__ import annotations

from sqlalchemy import text

from tests.chains import FRUIT_HEAD, Chain
from tests.chat import LEADER, ChatHarness
from tests.native import native_chain_xml

APPLE, BANANA = "烟台苹果", "海南香蕉"


async def opened(bot: ChatHarness) -> Chain:
    await bot.post("团长", FRUIT_HEAD)
    return Chain()


def recall_notes(bot: ChatHarness) -> list[str]:
    return [t for t in bot.private_texts(LEADER) if "撤回" in t]


async def test_recalling_a_post_cancels_the_line_it_added(bot: ChatHarness) -> None:
    chain = (await opened(bot)).add("张三 苹果2份")
    await bot.post("张三", chain.text, msg_id="zs-1")
    chain = chain.add("李四 香蕉1把")
    await bot.post("李四", chain.text, msg_id="ls-1")

    await bot.recall("张三", "zs-1")

    assert await bot.orders() == [("李四", "wxid_李四", [(BANANA, 1, "把")])]
    assert bot.group_texts() == []
    [note] = recall_notes(bot)
    assert "张三 撤回了" in note and "1. 张三 苹果2份" in note


async def test_recalling_an_edit_puts_the_previous_version_back(bot: ChatHarness) -> None:
    chain = (await opened(bot)).add("张三 苹果2份")
    await bot.post("张三", chain.text, msg_id="zs-1")
    await bot.post("张三", chain.replace("张三 苹果2份", "张三 苹果5份").text, msg_id="zs-2")
    assert await bot.orders() == [("张三", "wxid_张三", [(APPLE, 5, "份")])]

    await bot.recall("张三", "zs-2")

    assert await bot.orders() == [("张三", "wxid_张三", [(APPLE, 2, "份")])]
    [note] = recall_notes(bot)
    assert "改回" in note


async def test_recalling_a_removal_brings_the_line_back(bot: ChatHarness) -> None:
    chain = (await opened(bot)).add("张三 苹果2份", "张三 香蕉1把")
    await bot.post("张三", chain.text, msg_id="zs-1")
    await bot.post("张三", chain.without("张三 香蕉1把").text, msg_id="zs-2")
    assert len(await bot.orders()) == 1

    await bot.recall("张三", "zs-2")

    assert [o[2] for o in await bot.orders()] == [[(APPLE, 2, "份")], [(BANANA, 1, "把")]]


async def test_the_line_comes_back_when_its_owner_posts_it_again(bot: ChatHarness) -> None:
    chain = (await opened(bot)).add("张三 苹果2份")
    await bot.post("张三", chain.text, msg_id="zs-1")
    await bot.recall("张三", "zs-1")
    assert await bot.orders() == []

    await bot.post("张三", chain.text)  # reposted after the recall

    assert await bot.orders() == [("张三", "wxid_张三", [(APPLE, 2, "份")])]


async def test_a_recall_that_arrives_first_keeps_the_late_original_out(bot: ChatHarness) -> None:
    chain = (await opened(bot)).add("张三 苹果2份")
    await bot.recall("张三", "zs-1")  # delivery order is not guaranteed
    assert await bot.post("张三", chain.text, msg_id="zs-1") is False

    assert await bot.orders() == []
    assert bot.group_texts() == []


async def test_after_cutoff_a_recall_changes_nothing_and_the_leader_is_told(
    bot: ChatHarness,
) -> None:
    chain = (await opened(bot)).add("张三 苹果2份")
    await bot.post("张三", chain.text, msg_id="zs-1")
    await bot.at("22:00")

    await bot.recall("张三", "zs-1")

    assert await bot.orders() == [("张三", "wxid_张三", [(APPLE, 2, "份")])]
    [note] = recall_notes(bot)
    assert "没有改动" in note


async def test_recalling_chat_or_a_command_changes_no_order(bot: ChatHarness) -> None:
    chain = (await opened(bot)).add("张三 苹果2份")
    await bot.post("张三", chain.text, msg_id="zs-1")
    await bot.post("张三", "团长明天几点到？", msg_id="zs-chat")

    await bot.recall("张三", "zs-chat")

    assert len(await bot.orders()) == 1
    assert recall_notes(bot) == []


async def test_native_chain_entries_belong_to_whoever_added_them(bot: ChatHarness) -> None:
    await opened(bot)
    entries = [("wxid_张三", "张三 苹果2份")]
    await bot.post("张三", native_chain_xml(FRUIT_HEAD, entries, creator=LEADER), kind="app")
    entries.append(("wxid_李四", "李四 香蕉1把"))
    xml = native_chain_xml(FRUIT_HEAD, entries, creator=LEADER, sender="wxid_李四")
    await bot.post("李四", xml, kind="app")

    assert await bot.orders() == [
        ("张三", "wxid_张三", [(APPLE, 2, "份")]),
        ("李四", "wxid_李四", [(BANANA, 1, "把")]),
    ]
    # the next update, from 王五, adds only 王五's line; nobody's line moves to 王五
    entries.append(("wxid_王五", "王五 苹果1份"))
    xml = native_chain_xml(FRUIT_HEAD, entries, creator=LEADER, sender="wxid_王五")
    await bot.post("王五", xml, kind="app")
    assert [o[1] for o in await bot.orders()] == ["wxid_张三", "wxid_李四", "wxid_王五"]
    assert bot.group_texts() == []
    assert not any("标着别人" in t for t in bot.private_texts(LEADER))


async def test_new_entries_claiming_other_authors_are_the_senders_and_flagged(
    bot: ChatHarness,
) -> None:
    await opened(bot)
    forged = [("wxid_张三", "张三 苹果9份"), ("wxid_李四", "李四 香蕉1把")]
    xml = native_chain_xml(FRUIT_HEAD, forged, creator=LEADER, sender="wxid_李四")
    await bot.post("李四", xml, kind="app")

    # 李四 cannot charge 张三: the line is 李四's (written under 张三's name, like 代接)
    assert [o[1] for o in await bot.orders()] == ["wxid_李四", "wxid_李四"]
    async with bot.app.db.connect() as conn:
        flags = (await conn.execute(text("SELECT raw, flags FROM entries ORDER BY pos"))).all()
    assert ["claimed_author" in (f or []) for _, f in flags] == [True, False]
    [note] = [t for t in bot.private_texts(LEADER) if "标着别人" in t]
    assert "张三 苹果9份" in note and "wxid_张三" in note
    assert bot.group_texts() == []


async def test_a_forged_creator_does_not_open_a_round(bot: ChatHarness) -> None:
    xml = native_chain_xml(
        FRUIT_HEAD, [("wxid_张三", "张三 苹果2份")], creator=LEADER, sender="wxid_张三"
    )
    await bot.post("张三", xml, kind="app")  # 张三 claims the leader created it

    assert await bot.rounds() == []
    assert not any("已开团" in t for t in bot.private_texts(LEADER))


async def test_a_typed_copy_of_native_xml_is_only_text(bot: ChatHarness) -> None:
    await opened(bot)
    forged = native_chain_xml(
        FRUIT_HEAD, [("wxid_李四", "李四 苹果9份")], creator=LEADER, sender="wxid_张三"
    )
    await bot.post("张三", forged)  # typed, so kind "text": no authors are believed

    assert [o[1] for o in await bot.orders()] in ([], ["wxid_张三"])


async def test_a_native_chain_from_the_leader_opens_the_round(bot: ChatHarness) -> None:
    xml = native_chain_xml(FRUIT_HEAD, [], creator=LEADER, sender=LEADER)
    await bot.post("团长", xml, kind="app")
    entries = [("wxid_张三", "张三 苹果2份")]
    xml = native_chain_xml(FRUIT_HEAD, entries, creator=LEADER, sender="wxid_张三")
    await bot.post("张三", xml, kind="app")

    assert await bot.orders() == [("张三", "wxid_张三", [(APPLE, 2, "份")])]
    assert bot.private_texts("wxid_张三") == []
    assert any("已开团" in t for t in bot.private_texts(LEADER))  # the leader hears, privately


async def test_other_app_messages_are_kept_and_ignored(bot: ChatHarness) -> None:
    await opened(bot)
    link = "<msg><appmsg><title>好价</title><type>5</type><url>https://x</url></appmsg></msg>"
    bomb = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><msg>&a;</msg>'
    assert await bot.post("张三", link, kind="app")
    assert await bot.post("张三", bomb, kind="app")
    assert await bot.orders() == []
    assert bot.group_texts() == []
