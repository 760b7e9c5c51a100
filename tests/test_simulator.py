"""The simulator's JSON API: people type in a browser's chats, the bot answers with exactly
what it sent because of each message, and moving the clock runs what falls due."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from openpyxl import load_workbook

from bot.adapters.web_sim import SimChat
from bot.app import build_app
from bot.http_api import make_web_app
from bot.web.dashboard import add_dashboard
from bot.web.simulator import SIM_KEY, add_simulator
from models.clock import MovableClock
from tests.chat import ADMIN, LEADER, ROOM
from tests.conftest import START, TZ, make_config

HEAD = "#接龙\n11月23日 水果团 截单：今晚22:00\n1号 烟台苹果 12.8元/3斤\n2号 海南香蕉 9.9元/把\n"
Client = TestClient  # type: ignore[type-arg]


@pytest.fixture
async def sim(tmp_path: Path) -> AsyncIterator[Client]:
    config = make_config(f"sqlite+aiosqlite:///{tmp_path}/sim.db")
    app = build_app(config, MovableClock(START, TZ))
    await app.start()
    web_app = make_web_app(app, "sim-token-0123456789")
    add_dashboard(web_app)
    add_simulator(web_app, SimChat(app))
    try:
        async with TestClient(TestServer(web_app)) as c:
            yield c
    finally:
        await app.close()


async def say(sim: Client, who: str, text: str, room: str | None = ROOM) -> list[dict[str, Any]]:
    """`who` types `text` in the group (or privately); what the bot sent because of it."""
    sender = {"团长": LEADER, "管理员": ADMIN}.get(who, f"wxid_{who}")
    answer = await sim.post(
        "/sim/api/messages",
        json={"room": room, "sender": sender, "sender_name": who, "text": text},
    )
    assert answer.status == 200, await answer.text()
    replies: list[dict[str, Any]] = (await answer.json())["replies"]
    return replies


async def test_a_round_from_head_to_cutoff(sim: Client) -> None:
    [opened] = await say(sim, "团长", HEAD)
    assert opened["to"] == LEADER and opened["text"].startswith("已开团")
    assert await say(sim, "张三", HEAD + "\n1. 张三 苹果2份") == []  # quiet in the group
    assert await say(sim, "李姐", HEAD + "\n1. 张三 苹果2份\n2. 李姐 香蕉x2") == []
    [tally] = await say(sim, "团长", "统计", room=None)
    assert "合计 ¥45.40" in tally["text"] and "待取 2" in tally["text"]
    moved = await sim.post("/sim/api/clock", json={"ts": "2026-11-23T22:00:30"})
    final, summary = (await moved.json())["replies"]
    assert final["room"] == ROOM and final["text"].startswith("【已截单】")
    assert "1. 张三 苹果2份 ¥25.60\n2. 李姐 香蕉x2 ¥19.80" in final["text"]
    assert "每人应付：张三 ¥25.60；李姐 ¥19.80" in final["text"]
    assert summary["to"] == LEADER and "金额 ¥45.40" in summary["text"]
    assert await say(sim, "王五", HEAD + "\n1. 张三 苹果2份\n2. 李姐 香蕉x2\n3. 王五 苹果1份")
    log = await (await sim.get("/sim/api/log")).json()
    assert [line["sender_name"] for line in log["lines"]][:3] == ["团长", "团购助手", "张三"]


async def test_the_clock_only_moves_forward_and_bad_input_is_refused(sim: Client) -> None:
    back = await sim.post("/sim/api/clock", json={"ts": "2026-11-23T07:00:00+08:00"})
    assert back.status == 409 and "只能往后拨" in (await back.json())["error"]
    form = await sim.post("/sim/api/messages", data={"room": ROOM, "text": "hi"})
    assert form.status == 415  # a plain form from another page cannot post here
    elsewhere = await sim.post(
        "/sim/api/messages",
        json={"room": ROOM, "sender": "x", "sender_name": "x", "text": "hi"},
        headers={"Origin": "https://evil.example"},
    )
    assert elsewhere.status == 403
    nowhere = await sim.post(
        "/sim/api/messages",
        json={"room": "nope@chatroom", "sender": "x", "sender_name": "x", "text": "hi"},
    )
    assert nowhere.status == 400 and "room" in (await nowhere.json())["error"]
    empty = await sim.post("/sim/api/messages", json={"room": ROOM, "sender": "x", "text": ""})
    assert empty.status == 400


async def test_the_page_offers_the_groups_and_the_configured_people(sim: Client) -> None:
    page = await (await sim.get("/sim")).text()
    assert "幸福里3栋团购群" in page and "私聊机器人" in page
    assert f'data-id="{LEADER}"' in page and 'data-id="wxid_admin"' in page
    assert '<iframe src="/dashboard"' in page


async def test_moving_the_clock_brings_the_pickup_reminder(sim: Client) -> None:
    await say(sim, "团长", HEAD)
    await say(sim, "张三", HEAD + "\n1. 张三 苹果2份")
    await say(sim, "李姐", HEAD + "\n1. 张三 苹果2份\n2. 李姐 香蕉x2")
    await sim.post("/sim/api/clock", json={"ts": "2026-11-24T15:00:00+08:00"})
    arrived = await say(sim, "团长", "到货")
    assert any(r["room"] == ROOM and "张三" in r["text"] for r in arrived)
    await say(sim, "张三", "已取")
    quiet = await sim.post("/sim/api/clock", json={"ts": "2026-11-24T18:00:00+08:00"})
    assert (await quiet.json())["replies"] == []  # reminders start the day after 到货
    moved = await sim.post("/sim/api/clock", json={"ts": "2026-11-25T18:00:00+08:00"})
    [reminder] = (await moved.json())["replies"]
    assert (
        reminder["room"] == ROOM and "李姐" in reminder["text"] and "张三" not in reminder["text"]
    )


async def test_files_the_bot_sends_download_from_the_page_and_nothing_else_does(
    sim: Client, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr("handlers.private.EXPORTS_DIR", tmp_path / "exports")
    await say(sim, "团长", HEAD)
    await say(sim, "张三", HEAD + "\n1. 张三 苹果2份")
    [xlsx] = await say(sim, "管理员", "导出 2026-11-23", room=None)
    assert xlsx["file"].endswith(".xlsx") and xlsx["to_name"] == "管理员"
    got = await sim.get(xlsx["file_url"])
    assert got.status == 200 and "attachment" in got.headers["Content-Disposition"]
    sheets = load_workbook(io.BytesIO(await got.read())).sheetnames
    assert sheets[0] == "配送清单"
    [chart] = await say(sim, "管理员", "图表 7", room=None)
    png = await sim.get(chart["file_url"])
    assert png.content_type == "image/png" and (await png.read())[:4] == b"\x89PNG"
    n = xlsx["file_url"].split("/")[3]
    for elsewhere in (
        f"/sim/files/{n}/other.xlsx",  # the name must be the file's own
        f"/sim/files/{n}/..%2F..%2Fsim.db",
        "/sim/files/1/x.xlsx",  # a person's line, not a file the bot sent
        "/sim/files/999/" + xlsx["file"],
        "/sim/files/-1/" + xlsx["file"],
    ):
        assert (await sim.get(elsewhere)).status == 404, elsewhere
    traversal = await sim.get("/sim/files/../../sim.db")
    assert traversal.status == 404
    (tmp_path / "exports" / xlsx["file"]).unlink()
    assert (await sim.get(xlsx["file_url"])).status == 404  # gone: said, not served stale


async def test_people_are_shown_by_name(sim: Client) -> None:
    page = await (await sim.get("/sim")).text()
    assert "团长 幸福里3栋团购群团长" in page  # a leader who never spoke: called by the group
    answer = await sim.post(
        "/sim/api/messages",
        json={"room": ROOM, "sender": LEADER, "sender_name": "李姐", "text": HEAD},
    )
    [opened] = (await answer.json())["replies"]
    assert (opened["to"], opened["to_name"]) == (LEADER, "李姐")
    page = await (await sim.get("/sim")).text()
    assert "团长 李姐" in page and 'value="李姐"' in page  # the compose box says the name
    assert f'data-id="{LEADER}"' in page  # the contact id goes with the name, for the API


async def test_mentions_are_named_even_for_people_who_spoke_before_the_page(sim: Client) -> None:
    await say(sim, "团长", HEAD)
    [told] = await say(sim, "王五", HEAD + "\n1. 王五 榴莲一个")
    assert (told["mentions"], told["mention_names"]) == (["wxid_王五"], ["王五"])
    await say(sim, "张三", HEAD + "\n1. 王五 榴莲一个\n2. 张三 苹果2份")
    await sim.post("/sim/api/clock", json={"ts": "2026-11-24T15:00:00+08:00"})
    await say(sim, "团长", "到货")
    sim.app[SIM_KEY].names.clear()  # as after a restart on a kept database
    [short] = await say(sim, "团长", "缺货 苹果 1份")
    assert (short["mentions"], short["mention_names"]) == (["wxid_张三"], ["张三"])
