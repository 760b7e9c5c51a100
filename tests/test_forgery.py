"""Nothing forged: a recall, a pickup or a native 接龙 acts only for the person who sent it.

An attacker can write any message id into a recall, rename themselves to a neighbour's name,
or send a native 接龙 whose XML names other authors. On SQLite and PostgreSQL.
"""

from __future__ import annotations

from tests.chains import FRUIT_HEAD, Chain
from tests.chat import ChatHarness

APPLE = "烟台苹果"


async def opened(bot: ChatHarness) -> Chain:
    await bot.post("团长", FRUIT_HEAD)
    return Chain()


async def test_a_resident_cannot_recall_another_residents_post(bot: ChatHarness) -> None:
    chain = (await opened(bot)).add("张三 苹果2份")
    await bot.post("张三", chain.text, msg_id="zs-1")

    await bot.recall("李四", "zs-1")  # 李四 names 张三's message id
    await bot.post("张三", "zs-1", kind="recall", room="other@chatroom")  # another room

    assert await bot.orders() == [("张三", "wxid_张三", [(APPLE, 2, "份")])]
    await bot.recall("张三", "zs-1")  # the sender, in the room: undone
    assert await bot.orders() == []


async def test_a_recall_sent_first_by_someone_else_does_not_drop_the_post(
    bot: ChatHarness,
) -> None:
    chain = (await opened(bot)).add("张三 苹果2份")
    await bot.recall("李四", "zs-1")  # a forged marker, before the message arrives

    assert await bot.post("张三", chain.text, msg_id="zs-1") is True

    assert await bot.orders() == [("张三", "wxid_张三", [(APPLE, 2, "份")])]
    assert await bot.post("张三", chain.text, msg_id="zs-1") is False  # and only once


async def test_pickup_goes_by_contact_id_not_display_name(bot: ChatHarness) -> None:
    chain = (await opened(bot)).add("张三 苹果2份")
    await bot.post("张三", chain.text)
    await bot.at("22:00")
    await bot.post("团长", "到货")

    await bot.post("张三", "已取", sender="wxid_impostor")  # renamed to 张三
    async with bot.app.db.connect() as conn:
        from models.store import pickups
        from models.store.rounds import latest_closed_round

        state = await latest_closed_round(conn, bot.app.cache, "xingfuli@chatroom")
        assert state is not None
        status = await pickups.waiting(conn, state.id)
        assert len(status) == 1 and not any(p for _, p in status.values())

    await bot.post("张三", "已取")  # the real 张三, by contact id
    async with bot.app.db.connect() as conn:
        status = await pickups.waiting(conn, state.id)
        assert len(status) == 1 and all(p for _, p in status.values())
