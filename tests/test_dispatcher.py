"""The dispatcher's promises: raw first, one transaction per message, failures lose nothing."""

from __future__ import annotations

import io
from datetime import timedelta

from sqlalchemy import select

from bot.adapters.console import ConsoleAdapter
from handlers.parsing.types import ParsedChain
from handlers.router import Router
from models.context import Context
from models.rounds import RoundCache
from models.tables import InboundMessage
from tests.chains import Chain
from tests.chat import ChatHarness


async def test_a_failing_handler_rolls_back_and_keeps_the_raw_message(
    sqlite_bot: ChatHarness,
) -> None:
    bot = sqlite_bot
    await bot.post("团长", Chain().text)
    chain = Chain().add("张三 苹果2份")

    broken = Router()

    @broken.chain_post
    async def on_fire(ctx: Context, parsed: ParsedChain, cache: RoundCache) -> None:
        raise RuntimeError("disk on fire")

    routes, bot.app.dispatcher.router = bot.app.dispatcher.router, broken  # injected, not patched
    assert await bot.post("张三", chain.text, msg_id="wx-broken")
    bot.app.dispatcher.router = routes
    async with bot.app.db.connect() as conn:
        row = (
            await conn.execute(
                select(InboundMessage).where(InboundMessage.platform_id == "wx-broken")
            )
        ).one()
    assert row.status == "error" and "disk on fire" in (row.error or "")
    assert row.text == chain.text
    assert await bot.orders() == []  # nothing half-written
    # The next copy of the chain carries the line, and it counts.
    await bot.post("李四", chain.add("李四 香蕉1把").text)
    assert await bot.names() == ["张三", "李四"]


async def test_console_adapter_chats_with_the_same_core(sqlite_bot: ChatHarness) -> None:
    out = io.StringIO()
    console = ConsoleAdapter(sqlite_bot.app, out=out)
    script = "\n".join(
        [
            "<<<",
            Chain().text,
            ">>>",
            "/as wxid_zhang 张三",
            "<<<",
            Chain().add("张三 榴莲2个").text,
            ">>>",
            "/quit",
        ]
    )
    await console.run(io.StringIO(script + "\n"))
    said = out.getvalue()
    assert "已开团" in said  # the leader's private note
    assert "没找到商品“榴莲”" in said
    assert await sqlite_bot.names() == ["张三"]


async def test_one_group_message_seen_by_two_bot_accounts_counts_once(bot: ChatHarness) -> None:
    """Two accounts in one group get the same message under two platform ids."""
    await bot.post("团长", Chain().text)
    chain = Chain().add("张三 苹果2份")
    assert await bot.post("张三", chain.text, msg_id="account-a-1001") is True
    assert await bot.post("张三", chain.text, msg_id="account-b-7734") is False
    async with bot.app.db.connect() as conn:
        stored = (await conn.execute(select(InboundMessage.platform_id))).scalars().all()
    assert "account-b-7734" not in stored
    assert await bot.names() == ["张三"]
    # the same words said again a little later are a new message
    assert await bot.post("张三", "我的订单", msg_id="account-a-1002") is True
    bot.clock.set(bot.clock.now() + timedelta(seconds=5))
    assert await bot.post("张三", "我的订单", msg_id="account-a-1003") is True
