"""The bot on WeChat: a real `Wechaty` object over a recording FakePuppet, end to end.

Each test reads as a chat: people post in the room through the fake account, the bot's
replies come back out through the same account, and the orders are read from the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import timedelta
from itertools import pairwise
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.adapters.wechaty import WechatyAdapter, kind_of, message_time, recalled_id
from bot.app import App, build_app
from handlers.parsing.chain_parser import parse_chain
from handlers.parsing.native_chain import parse_native_chain, strip_sender_prefix
from models.clock import ManualClock
from models.config import WechatySettings
from models.messages import OutgoingMessage
from models.tables import Entry
from tests.conftest import LEADER, ROOM, START, make_config
from tests.native import native_chain_xml
from tests.wechaty_fake import MessageType, RecordingPuppet, wechaty_over

FIXTURES = Path(__file__).parent / "fixtures"
HEAD = (Path(__file__).parent / "transcripts" / "fruit_head.txt").read_text("utf-8").strip()
PEOPLE = {LEADER: "团长", "wxid_zhang": "张三", "wxid_li": "李四"}


class Account:
    """One WeChat account: the puppets it connected through (a new one per reconnection)."""

    def __init__(self) -> None:
        self.puppets: list[RecordingPuppet] = []

    def make_bot(self) -> object:
        puppet = RecordingPuppet()
        puppet.add_room(ROOM, "幸福里3栋团购群", PEOPLE)
        self.puppets.append(puppet)
        return wechaty_over(puppet)

    @property
    def puppet(self) -> RecordingPuppet:
        return self.puppets[-1]


async def logged_in(account: Account, adapter: WechatyAdapter, notices: int = 0) -> None:
    """The current connection's account logs in; wait until the adapter has seen it (and
    has told the leaders about `notices` outages by then)."""
    for _ in range(500):
        if account.puppet.started:
            break
        await asyncio.sleep(0.01)
    account.puppet.login()
    for _ in range(500):
        if adapter.connected() and adapter._up and adapter.away_notices >= notices:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the login did not reach the adapter")


async def settle(adapter: WechatyAdapter, handled: int) -> None:
    """Wait until the adapter has handled `handled` messages (events run as tasks)."""
    for _ in range(500):
        if adapter.handled >= handled:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"only {adapter.handled} of {handled} messages were handled")


@pytest.fixture
async def wechat(
    tmp_path: Path,
) -> AsyncIterator[tuple[App, WechatyAdapter, Account, ManualClock]]:
    config = replace(make_config(f"sqlite+aiosqlite:///{tmp_path}/bot.db"), data_dir=tmp_path)
    clock = ManualClock(START, START.tzinfo)  # type: ignore[arg-type]
    app = build_app(config, clock, limited=True)
    await app.start()
    account = Account()
    adapter = WechatyAdapter(app, WechatySettings(watchdog_s=60), account.make_bot)
    await adapter.connect()
    yield app, adapter, account, clock
    await adapter.disconnect()
    await app.close()


async def entries(app: App) -> list[tuple[int | None, str, str, str]]:
    async with app.db.connect() as conn:
        rows = await conn.execute(
            select(Entry.seq, Entry.name, Entry.poster, Entry.status).order_by(Entry.pos)
        )
        return [tuple(r) for r in rows.all()]  # type: ignore[misc]


async def test_a_room_message_reaches_the_bot_and_the_reply_goes_back_to_that_room(
    wechat: tuple[App, WechatyAdapter, Account, ManualClock],
) -> None:
    app, adapter, account, _ = wechat
    account.puppet.deliver(HEAD, sender=LEADER, room=ROOM)
    account.puppet.deliver(f"{HEAD}\n1. 张三 榴莲2个", sender="wxid_zhang", room=ROOM)
    await settle(adapter, 2)

    said = account.puppet.sent
    assert [s.to for s in said if s.to == ROOM] == [ROOM]
    reply = next(s for s in said if s.to == ROOM)
    assert reply.mentions == ["wxid_zhang"]
    assert "榴莲" in reply.text
    assert reply.text.startswith("@张三\u2005") and "张三" not in reply.text[4:6]
    assert await entries(app) == [(1, "张三", "wxid_zhang", "active")]


async def test_a_native_chain_credits_each_entry_to_the_member_who_added_it(
    wechat: tuple[App, WechatyAdapter, Account, ManualClock],
) -> None:
    app, adapter, account, _ = wechat
    account.puppet.deliver(HEAD, sender=LEADER, room=ROOM)
    # 张三 then 李四 write into WeChat's own 接龙; each update reaches the bot from its writer.
    written = [("wxid_zhang", "张三 苹果2份")]
    xml = native_chain_xml(HEAD, written, creator=LEADER, sender="wxid_zhang")
    account.puppet.deliver(xml, sender="wxid_zhang", room=ROOM, kind=MessageType.MESSAGE_TYPE_URL)
    written.append(("wxid_li", "李四 香蕉1把"))
    xml = native_chain_xml(HEAD, written, creator=LEADER, sender="wxid_li")
    account.puppet.deliver(xml, sender="wxid_li", room=ROOM, kind=MessageType.MESSAGE_TYPE_URL)
    await settle(adapter, 3)

    assert await entries(app) == [
        (1, "张三", "wxid_zhang", "active"),
        (2, "李四", "wxid_li", "active"),
    ]
    assert account.puppet.texts_to(ROOM) == []  # all understood: the group hears nothing


async def test_the_public_native_sample_is_a_check_in_read_with_its_three_authors(
    wechat: tuple[App, WechatyAdapter, Account, ManualClock],
) -> None:
    app, adapter, account, _ = wechat
    sample = (FIXTURES / "native" / "public_checkin.xml").read_text("utf-8")
    creator = "wxid_raa06gopa5fq22"
    # The XML names this group's leader as the chain's creator, but a member sent it: that is
    # the sender's client's claim. And a daily check-in (打卡) orders nothing: no round opens.
    app.groups.remember(replace(app.groups.get(ROOM), leader=creator))  # type: ignore[arg-type]
    account.puppet.add_people({creator: "Jessie", "wxid_6xtgy1o42c8y22": "Jasmine"})
    account.puppet.deliver(
        sample, sender="zwg964848042", room=ROOM, kind=MessageType.MESSAGE_TYPE_UNSPECIFIED
    )
    await settle(adapter, 1)
    assert await entries(app) == []
    assert account.puppet.texts_to(ROOM) == []
    # What WeChat's XML says is still read: each entry's author, and a check-in.
    native = parse_native_chain(strip_sender_prefix(sample))
    assert native is not None
    assert native.authors_by_seq() == {
        1: "wxid_raa06gopa5fq22",
        2: "wxid_6xtgy1o42c8y22",
        3: "zwg964848042",
    }
    assert parse_chain(native.chain_text()).kind == "checkin"


async def test_a_recall_undoes_the_order_and_only_the_leader_hears_of_it(
    wechat: tuple[App, WechatyAdapter, Account, ManualClock],
) -> None:
    app, adapter, account, clock = wechat
    account.puppet.deliver(HEAD, sender=LEADER, room=ROOM)
    posted = account.puppet.deliver(f"{HEAD}\n1. 张三 苹果2份", sender="wxid_zhang", room=ROOM)
    account.puppet.deliver(
        posted, sender="wxid_zhang", room=ROOM, kind=MessageType.MESSAGE_TYPE_RECALLED
    )
    await settle(adapter, 3)

    assert await entries(app) == [(1, "张三", "wxid_zhang", "cancelled")]
    clock.set(clock.now() + timedelta(seconds=10))  # the leader's messages are spaced out
    await app.tick(adapter.send)
    assert account.puppet.texts_to(ROOM) == []
    (note,) = [t for t in account.puppet.texts_to(LEADER) if "撤回" in t]
    assert "1. 张三 苹果2份" in note


async def test_a_throttled_send_waits_and_goes_out_once(
    wechat: tuple[App, WechatyAdapter, Account, ManualClock],
) -> None:
    app, adapter, account, clock = wechat
    account.puppet.refuse_next = 1  # WeChat: 发送消息过于频繁
    account.puppet.deliver(HEAD, sender=LEADER, room=ROOM)
    account.puppet.deliver(f"{HEAD}\n1. 张三 榴莲2个", sender="wxid_zhang", room=ROOM)
    await settle(adapter, 2)
    assert account.puppet.texts_to(ROOM) == []  # refused, kept, paused

    await app.tick(adapter.send)
    assert account.puppet.texts_to(ROOM) == []  # still inside the back-off

    clock.set(clock.now() + timedelta(minutes=2))
    await app.tick(adapter.send)
    await app.tick(adapter.send)
    assert len([t for t in account.puppet.texts_to(ROOM) if "榴莲" in t]) == 1


async def test_the_watchdog_reconnects_a_silent_connection_and_tells_the_leader(
    wechat: tuple[App, WechatyAdapter, Account, ManualClock],
) -> None:
    app, adapter, account, _ = wechat
    await logged_in(account, adapter)
    adapter.last_event -= 50  # quiet for 50 s of the 60 …
    account.puppet.heartbeat()  # … then a heartbeat, as the service puppet names it
    await asyncio.sleep(0.05)
    adapter.last_event -= 20
    assert await adapter.watchdog_once() is False  # heartbeats keep it alive

    first = account.puppet
    adapter.last_event -= 120  # two minutes without a message or a heartbeat
    assert await adapter.watchdog_once() is True
    assert first.stopped == 1 and len(account.puppets) == 2
    assert account.puppet.texts_to(LEADER) == []  # not before the new connection logs in

    await logged_in(account, adapter, notices=1)
    (away,) = account.puppet.texts_to(LEADER)
    assert "断开" in away and "再说一次" in away
    # the new connection works: a chain post is read and nobody else was told anything
    account.puppet.deliver(HEAD, sender=LEADER, room=ROOM)
    account.puppet.deliver(f"{HEAD}\n1. 张三 苹果2份", sender="wxid_zhang", room=ROOM)
    await settle(adapter, 2)
    assert await entries(app) == [(1, "张三", "wxid_zhang", "active")]
    assert account.puppet.texts_to(ROOM) == []


async def test_a_failing_handler_is_logged_and_the_bot_goes_on(
    wechat: tuple[App, WechatyAdapter, Account, ManualClock],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app, adapter, account, _ = wechat
    calls = 0
    real_feed: Callable[..., object] = app.feed

    async def feed_failing_once(msg: object) -> bool:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("database went away")
        return await real_feed(msg)  # type: ignore[no-any-return,misc]

    monkeypatch.setattr(app, "feed", feed_failing_once)
    with caplog.at_level(logging.ERROR):
        account.puppet.deliver(HEAD, sender=LEADER, room=ROOM)
        await settle(adapter, 1)
        account.puppet.deliver(HEAD + "\n1. 张三 苹果2份", sender="wxid_zhang", room=ROOM)
        await settle(adapter, 2)
    assert "database went away" in caplog.text and "Traceback" in caplog.text


def test_message_details_are_translated_for_the_core() -> None:
    assert kind_of("MESSAGE_TYPE_TEXT", "1. 张三 苹果2份") == "text"
    assert kind_of("MESSAGE_TYPE_RECALLED", "123") == "recall"
    assert kind_of("MESSAGE_TYPE_UNSPECIFIED", "<msg><appmsg>…") == "app"
    assert kind_of("MESSAGE_TYPE_IMAGE", "") == "image"
    # a typed message that looks like XML is still text: nobody can forge native authors
    assert kind_of("MESSAGE_TYPE_TEXT", "<msg><appmsg><type>53</type>") == "text"
    assert recalled_id("4532101") == "4532101"
    revoke = '<sysmsg type="revokemsg"><revokemsg><newmsgid>98765</newmsgid></revokemsg></sysmsg>'
    assert recalled_id(revoke) == "98765"
    assert message_time(1_795_480_000).tzinfo is not None
    assert message_time(1_795_480_000_000) == message_time(1_795_480_000)


def test_the_service_token_never_reaches_the_logs(caplog: pytest.LogCaptureFixture) -> None:
    from bot.adapters.wechaty import redact_in_all_loggers

    token = "insecure_0123456789abcdef"
    redact_in_all_loggers([token])
    with caplog.at_level(logging.WARNING):
        # what wechaty-puppet-service logs when given an endpoint and a token
        logging.getLogger("PuppetService").warning(
            f"there are endpoint<127.0.0.1:8788> and token<{token}>"
        )
        logging.getLogger("bot.somewhere").warning("token is %s", token)
    assert token not in caplog.text
    assert caplog.text.count("***") == 2


async def test_groupbuy_run_drives_the_same_core_over_wechaty(tmp_path: Path) -> None:
    """`groupbuy run` with adapter = "wechaty": start-up, scheduler, feed and send, as live."""
    from bot.cli import _wechaty

    config = replace(
        make_config(f"sqlite+aiosqlite:///{tmp_path}/bot.db"), adapter="wechaty", data_dir=tmp_path
    )
    account = Account()
    running = asyncio.create_task(_wechaty(config, account.make_bot))
    try:
        for _ in range(500):
            if account.puppets:
                break
            await asyncio.sleep(0.01)
        account.puppet.deliver(HEAD, sender=LEADER, room=ROOM)
        account.puppet.deliver(f"{HEAD}\n1. 张三 榴莲2个", sender="wxid_zhang", room=ROOM)
        for _ in range(500):
            if account.puppet.texts_to(ROOM):
                break
            await asyncio.sleep(0.01)
        [reply] = account.puppet.texts_to(ROOM)
        assert "榴莲" in reply
        assert any("已开团" in t for t in account.puppet.texts_to(LEADER))
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running


async def test_files_go_out_as_files_and_oversized_ones_as_a_note(
    wechat: tuple[App, WechatyAdapter, Account, ManualClock], tmp_path: Path
) -> None:
    _, adapter, account, _ = wechat
    small = tmp_path / "2026-11-23.xlsx"
    small.write_bytes(b"PK" + b"0" * 2_000)
    big = tmp_path / "chart.png"
    big.write_bytes(b"0" * 3_500_000)

    await adapter.send(
        OutgoingMessage("export:1", room=None, to=LEADER, text="配送清单", file_path=str(small))
    )
    await adapter.send(
        OutgoingMessage("chart:1", room=None, to=LEADER, text="销量图", file_path=str(big))
    )

    sent = [(s.text, s.file_name) for s in account.puppet.sent if s.to == LEADER]
    assert sent[:2] == [("配送清单", None), ("", "2026-11-23.xlsx")]
    assert sent[2][1] is None and "3.5 MB" in sent[2][0] and str(big) in sent[2][0]
    assert len(sent) == 3


async def test_a_connection_that_never_came_up_is_retried_without_telling_anyone(
    wechat: tuple[App, WechatyAdapter, Account, ManualClock],
) -> None:
    _, adapter, account, _ = wechat  # waiting for the QR code to be scanned: no events at all
    adapter.last_event -= 120
    assert await adapter.watchdog_once() is True
    assert len(account.puppets) == 2
    assert account.puppet.texts_to(LEADER) == []


async def test_after_a_long_stop_the_leaders_hear_that_the_bot_was_away(
    wechat: tuple[App, WechatyAdapter, Account, ManualClock],
) -> None:
    from bot.away import beat

    app, adapter, account, clock = wechat
    await beat(app, clock.now() - timedelta(seconds=30))
    assert await adapter.tell_if_away_since_last_run() is False  # a quick restart: no news

    await beat(app, clock.now() - timedelta(hours=2))  # the server was down for two hours
    assert await adapter.tell_if_away_since_last_run() is True
    await app.tick(adapter.send)
    assert account.puppet.texts_to(LEADER) == []  # told once logged in, not before
    await logged_in(account, adapter, notices=1)
    (away,) = account.puppet.texts_to(LEADER)
    assert "06:00 至 08:00" in away


async def test_a_connection_that_keeps_failing_is_retried_with_back_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The gateway unreachable (wechaty's start() would have stopped the event loop): the
    run loop keeps trying, each wait twice the last, and the first that works is used."""
    from wechaty_puppet.exceptions import WechatyPuppetConfigurationError

    import bot.adapters.wechaty as wechaty_adapter

    monkeypatch.setattr(wechaty_adapter, "BACKOFF_FIRST_S", 0.1)
    config = replace(make_config(f"sqlite+aiosqlite:///{tmp_path}/bot.db"), data_dir=tmp_path)
    app = build_app(config, limited=True)
    await app.start()
    account = Account()
    tried: list[float] = []

    def make_bot() -> object:
        bot = account.make_bot()
        tried.append(asyncio.get_running_loop().time())
        if len(tried) <= 4:

            async def unreachable() -> None:
                raise WechatyPuppetConfigurationError("can't not ping endpoint: 127.0.0.1:1")

            account.puppet.start = unreachable  # type: ignore[method-assign]
        return bot

    adapter = WechatyAdapter(app, WechatySettings(watchdog_s=60), make_bot)
    running = asyncio.create_task(adapter.run(check_every_s=0.05))
    try:
        for _ in range(500):
            if len(tried) >= 5:
                break
            await asyncio.sleep(0.01)
        await logged_in(account, adapter)
        assert not running.done()
        waits = [b - a for a, b in pairwise(tried)]
        assert all(later > earlier * 1.5 for earlier, later in pairwise(waits))
        await asyncio.sleep(0.3)
        assert len(tried) == 5  # the fifth connection is up: no more attempts
        assert account.puppet.texts_to(LEADER) == []  # it never was up before: no news
    finally:
        running.cancel()
        with pytest.raises(asyncio.CancelledError):
            await running
        await app.close()
