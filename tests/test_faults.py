"""Faults: a database error while handling a post delays the order, never loses it.

The database is made to fail in the middle of a post (an OperationalError raised as the
post's order lines are written, the way a locked SQLite file or a dropped PostgreSQL
connection surfaces), and on PostgreSQL its connection is really killed by the server.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, select, text
from sqlalchemy.exc import OperationalError

from models.db import Database
from models.tables import InboundMessage
from tests.chains import Chain
from tests.chat import LEADER, ChatHarness
from tests.conftest import PG_URL, make_harness


class Fault:
    """Fails statements that match `needle` while `armed`, `times` times (None: always)."""

    def __init__(self, needle: str, times: int | None = None) -> None:
        self.needle = needle
        self.times = times
        self.armed = True
        self.hits = 0

    def __call__(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not self.armed or self.needle not in statement:
            return
        if self.times is not None and self.hits >= self.times:
            return
        self.hits += 1
        raise OperationalError(statement, None, Exception("database is locked (injected)"))


@contextmanager
def injected(db: Database, fault: Fault) -> Iterator[Fault]:
    event.listen(db.engine.sync_engine, "before_cursor_execute", fault)
    try:
        yield fault
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", fault)


def failure_notes(bot: ChatHarness) -> list[str]:
    return [t for t in bot.private_texts(LEADER) if "没能记下" in t]


async def status_of(bot: ChatHarness, msg_id: str) -> tuple[str, int]:
    async with bot.app.db.connect() as conn:
        row = (
            await conn.execute(
                select(InboundMessage.status, InboundMessage.attempts).where(
                    InboundMessage.platform_id == msg_id
                )
            )
        ).one()
    return str(row.status), int(row.attempts)


async def test_a_transient_error_mid_post_is_retried_at_once(db_url: str) -> None:
    bot = await make_harness(db_url)
    bot.app.dispatcher.retry_delays = (0.0, 0.0, 0.0)
    try:
        await bot.post("团长", Chain().text)
        with injected(bot.app.db, Fault("INSERT INTO entries", times=2)) as fault:
            await bot.post("张三", Chain().add("张三 苹果2份").text, msg_id="wx-1")
        assert fault.hits == 2
        assert await bot.names() == ["张三"]
        assert await status_of(bot, "wx-1") == ("handled", 0)
        assert failure_notes(bot) == []  # nothing to tell: it was recorded
    finally:
        await bot.app.close()


async def test_database_fails_mid_post_and_a_later_start_records_the_order(db_url: str) -> None:
    """The fault the issue found: the order was stored as `error` and skipped for good."""
    bot = await make_harness(db_url)
    bot.app.dispatcher.retry_delays = (0.0, 0.0, 0.0)
    chain = Chain().add("张三 苹果2份")
    try:
        await bot.post("团长", Chain().text)
        with injected(bot.app.db, Fault("INSERT INTO entries")) as fault:
            assert await bot.post("张三", chain.text, msg_id="wx-1")
        assert fault.hits == 4  # one try and three retries
        assert await bot.orders() == []
        assert await status_of(bot, "wx-1") == ("error", 1)
        told = failure_notes(bot)
        assert len(told) == 1 and "张三" in told[0] and "没能记下" in told[0]
        assert not any("没能记下" in t for t in bot.group_texts())  # quiet in the group
    finally:
        await bot.app.close()

    later = await make_harness(db_url)  # the next start, on the same database
    try:
        await later.flush()
        assert await later.names() == ["张三"]
        assert await status_of(later, "wx-1") == ("handled", 1)
        assert any("已补记" in t for t in later.private_texts(LEADER))
        # Fed again (a replay of the day), it is a duplicate now: nothing changes.
        assert not await later.post("张三", chain.text, msg_id="wx-1")
        assert await later.names() == ["张三"]
    finally:
        await later.app.close()


async def test_a_failed_message_is_handled_again_by_a_replay(db_url: str) -> None:
    bot = await make_harness(db_url)
    bot.app.dispatcher.retry_delays = ()
    chain = Chain().add("张三 苹果2份")
    try:
        await bot.post("团长", Chain().text)
        with injected(bot.app.db, Fault("INSERT INTO entries")):
            await bot.post("张三", chain.text, msg_id="wx-1")
            await bot.post("张三", chain.text, msg_id="wx-1")  # fails again: counted
        assert await status_of(bot, "wx-1") == ("error", 2)
        assert len(failure_notes(bot)) == 1  # told once
        assert await bot.post("张三", chain.text, msg_id="wx-1")  # the replay's copy
        assert await bot.names() == ["张三"]
    finally:
        await bot.app.close()


async def test_while_the_database_is_down_posts_wait_in_memory(db_url: str) -> None:
    bot = await make_harness(db_url)
    bot.app.dispatcher.retry_delays = (0.0,)
    try:
        await bot.post("团长", Chain().text)
        with injected(bot.app.db, Fault("")):  # every statement fails
            await bot.app.feed(bot_msg(bot, "张三", Chain().add("张三 苹果2份").text, "wx-1"))
        assert [m.id for m in bot.app.dispatcher.pending] == ["wx-1"]
        await bot.app.tick(bot.send)  # the database is back
        assert bot.app.dispatcher.pending == []
        assert await bot.names() == ["张三"]
    finally:
        await bot.app.close()


def bot_msg(bot: ChatHarness, who: str, body: str, msg_id: str) -> Any:
    from models.messages import ChatMessage
    from tests.chat import ROOM, contact

    return ChatMessage(
        id=msg_id, room=ROOM, sender=contact(who), sender_name=who, text=body, ts=bot.clock.now()
    )


async def test_a_connection_the_server_dropped_is_replaced(db_url: str) -> None:
    """PostgreSQL only: the server kills the pooled connection between two posts."""
    if "postgresql" not in db_url:
        return
    import asyncpg  # type: ignore[import-untyped]

    bot = await make_harness(db_url)
    try:
        await bot.post("团长", Chain().text)
        async with bot.app.db.connect() as conn:
            pid = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        admin = await asyncpg.connect(PG_URL.replace("postgresql+asyncpg", "postgresql"))
        try:
            assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
        finally:
            await admin.close()
        await asyncio.sleep(0.1)
        await bot.post("张三", Chain().add("张三 苹果2份").text, msg_id="wx-1")
        assert await bot.names() == ["张三"]
        assert await status_of(bot, "wx-1") == ("handled", 0)
    finally:
        await bot.app.close()
