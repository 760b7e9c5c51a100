"""The operator dashboard through aiohttp's test client: login, CSRF, the day's board, deciding
held lines, downloads, charts, and the live nudges. The browser tests (test_browser.py) drive
the same pages in Chromium."""

from __future__ import annotations

import asyncio
import csv
import io
import re
from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer
from openpyxl import load_workbook
from sqlalchemy import select

from bot.http_api import make_web_app
from bot.web.dashboard import add_dashboard
from bot.web.session import COOKIE, Sessions
from models.tables import AuditLog
from tests.chat import ChatHarness

TOKEN = "dashboard-token-0123456789"
HEAD = "#接龙\n11月23日 水果团 截单：今晚22:00\n1号 烟台苹果 12.8元/3斤\n2号 海南香蕉 9.9元/把\n"
Client = TestClient  # type: ignore[type-arg]


@pytest.fixture
async def client(bot: ChatHarness) -> AsyncIterator[Client]:
    web_app = make_web_app(bot.app, TOKEN)
    add_dashboard(web_app)
    async with TestClient(TestServer(web_app)) as c:
        yield c


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, "the page has no CSRF field"
    return found.group(1)


async def log_in(client: Client) -> str:
    """Log in through the form; returns the page's CSRF token."""
    form = await (await client.get("/login")).text()
    answer = await client.post("/login", data={"csrf": _csrf(form), "token": TOKEN})
    assert answer.status == 200 and answer.url.path == "/dashboard"
    return _csrf(await answer.text())


async def a_day_with_a_doubt(bot: ChatHarness) -> None:
    await bot.post("团长", HEAD)
    await bot.post("张三", HEAD + "\n1. 张三 苹果2份")
    await bot.post("李姐", HEAD + "\n1. 张三 苹果2份\n2. 李姐 榴莲一个")


async def one_doubt(client: Client, bot: ChatHarness) -> tuple[dict[str, str], str]:
    """A day with one held line, logged in: that line and the page's CSRF token."""
    await a_day_with_a_doubt(bot)
    csrf = await log_in(client)
    [held] = (await (await client.get("/api/board")).json())["review"]
    return held, csrf


async def test_without_a_session_pages_go_to_login_and_the_api_says_401(client: Client) -> None:
    page = await client.get("/dashboard", allow_redirects=False)
    assert page.status == 302 and page.headers["Location"] == "/login"
    assert (await client.get("/dashboard/board")).status == 401
    assert (await client.get("/api/board")).status == 401
    assert (await client.post("/api/review/1/accept")).status == 401
    assert (await client.get("/api/exports/2026-11-23.xlsx")).status == 401


async def test_a_forged_or_expired_cookie_is_no_session(client: Client) -> None:
    sessions = Sessions(TOKEN)
    good = sessions.start()
    expires, nonce, sig = good.split(".")
    forged = f"{int(expires) + 3600}.{nonce}.{sig}"
    other = Sessions("another-token-0123456789").start()
    for cookie in (forged, other, "x.y.z", good.replace(nonce, "n" * len(nonce))):
        assert (await client.get("/api/board", cookies={COOKIE: cookie})).status == 401
    assert sessions.check(good, now=int(expires) + 1) is None
    assert (await client.get("/api/board", cookies={COOKIE: good})).status == 200


async def test_login_needs_the_token_and_the_form_csrf(client: Client) -> None:
    form = await (await client.get("/login")).text()
    wrong = await client.post("/login", data={"csrf": _csrf(form), "token": "not-the-token"})
    assert wrong.status == 401 and "口令不对" in await wrong.text()
    assert COOKIE not in {c.key for c in client.session.cookie_jar}
    no_csrf = await client.post("/login", data={"token": TOKEN})
    assert no_csrf.status == 403
    forged = await client.post("/login", data={"csrf": "made-up", "token": TOKEN})
    assert forged.status == 403
    assert (await client.get("/api/board")).status == 401  # still nobody


async def test_session_cookie_is_httponly_strict_and_the_token_is_nowhere(client: Client) -> None:
    form = await (await client.get("/login")).text()
    answer = await client.post(
        "/login", data={"csrf": _csrf(form), "token": TOKEN}, allow_redirects=False
    )
    cookie = answer.cookies[COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Strict"
    assert TOKEN not in answer.headers["Location"] and TOKEN not in cookie.value
    page = await client.get("/dashboard")
    assert TOKEN not in await page.text() and TOKEN not in str(page.url)
    assert TOKEN not in await (await client.get("/dashboard/board")).text()
    assert page.headers["X-Frame-Options"] == "SAMEORIGIN"


async def test_state_changes_need_the_sessions_csrf(client: Client, bot: ChatHarness) -> None:
    held, csrf = await one_doubt(client, bot)
    url = f"/api/review/{held['id']}/accept"
    assert (await client.post(url)).status == 403
    assert (await client.post(url, headers={"X-CSRF-Token": "wrong"})).status == 403
    assert (await client.post("/logout", data={"csrf": "wrong"})).status == 403
    other = Sessions(TOKEN)  # a CSRF token of another session does not pass either
    stolen = other.csrf(other.check(other.start()))  # type: ignore[arg-type]
    assert (await client.post(url, headers={"X-CSRF-Token": stolen})).status == 403
    assert len((await (await client.get("/api/board")).json())["review"]) == 1  # unchanged
    ok = await client.post(url, headers={"X-CSRF-Token": csrf})
    assert ok.status == 200


async def test_the_board_shows_the_round_its_totals_and_the_doubt(
    client: Client, bot: ChatHarness
) -> None:
    await a_day_with_a_doubt(bot)
    await log_in(client)
    board = await (await client.get("/api/board?date=2026-11-23")).json()
    [group] = board["groups"]
    [r] = group["rounds"]
    assert (r["status"], r["orders"], r["held"], r["amount"]) == ("open", 2, 1, "25.60")
    assert r["cutoff_at"] == "2026-11-23T22:00:00+08:00"
    assert board["leaders"] == {
        "wxid_leader": {
            "name": "团长",  # the display name the leader posts under
            "rounds": 1,
            "amount": "25.60",
            "commission": "2.56",
            "products": {"烟台苹果": {"qty": 2, "unit": "份", "amount": "25.60"}},
        }
    }
    assert board["routes"] == {"东线": {"rounds": 1, "amount": "25.60"}}
    assert [(h["line"], h["why"]) for h in board["review"]] == [
        ("李姐 榴莲一个", "菜单上没有这个商品")
    ]
    page = await (await client.get("/dashboard?date=2026-11-23")).text()
    for shown in ("幸福里3栋团购群", "接龙中", "¥25.60", "李姐 榴莲一个", "菜单上没有这个商品"):
        assert shown in page


async def test_accept_counts_the_line_and_a_second_accept_is_refused(
    client: Client, bot: ChatHarness
) -> None:
    held, csrf = await one_doubt(client, bot)
    url = f"/api/review/{held['id']}/accept"
    ok = await client.post(url, headers={"X-CSRF-Token": csrf})
    assert (await ok.json())["line"] == held["line"]
    board = await (await client.get("/api/board")).json()
    assert board["review"] == [] and board["groups"][0]["rounds"][0]["held"] == 0
    async with bot.app.db.connect() as conn:
        logged = (await conn.execute(select(AuditLog.actor, AuditLog.verb, AuditLog.role))).all()
    assert ("dashboard", "确认", "operator") in logged
    again = await client.post(url, headers={"X-CSRF-Token": csrf})
    assert again.status == 409
    assert (
        await client.post("/api/review/99999/accept", headers={"X-CSRF-Token": csrf})
    ).status == 404


async def test_fix_replaces_the_line_as_the_posters_order(client: Client, bot: ChatHarness) -> None:
    held, csrf = await one_doubt(client, bot)
    url = f"/api/review/{held['id']}/fix"
    refused = await client.post(url, json={"line": "张三 苹果2份"}, headers={"X-CSRF-Token": csrf})
    assert refused.status == 409  # that line is already there: nothing changes
    ok = await client.post(url, json={"line": "李姐 香蕉1把"}, headers={"X-CSRF-Token": csrf})
    assert (await ok.json())["line"] == "李姐 香蕉1把"
    assert await bot.orders() == [
        ("张三", "wxid_张三", [("烟台苹果", 2, "份")]),
        ("李姐", "wxid_李姐", [("海南香蕉", 1, "把")]),
    ]
    board = await (await client.get("/api/board")).json()
    assert board["review"] == [] and board["amount"] == "35.50"


async def test_downloads_and_charts(client: Client, bot: ChatHarness) -> None:
    await a_day_with_a_doubt(bot)
    await log_in(client)
    xlsx = await client.get("/api/exports/2026-11-23.xlsx")
    wb = load_workbook(io.BytesIO(await xlsx.read()))
    assert wb.sheetnames[:3] == ["配送清单", "排序列表", "总清单"]
    assert wb.sheetnames[-1] == "退款"
    total = await client.get("/api/exports/2026-11-23.csv?list=总清单")
    rows = list(csv.reader(io.StringIO((await total.read()).decode("utf-8-sig"))))
    assert rows[1][:2] == ["烟台苹果", "2"]
    assert (await client.get("/api/exports/2026-11-23.csv?list=别的")).status == 400
    building = await client.get("/api/exports/2026-11-23.csv?list=分拣单-按楼号")
    assert building.status == 200 and "楼号" in (await building.read()).decode("utf-8-sig")
    for chart in ("sales", "products"):
        png = await client.get(f"/api/charts/{chart}.png?days=7")
        assert png.content_type == "image/png" and (await png.read())[:4] == b"\x89PNG"
        assert (await client.get(f"/api/charts/{chart}.png?days=0")).status == 400
    page = await (await client.get("/dashboard")).text()
    assert 'src="/api/charts/products.png?days=7"' in page


async def a_day_with_money(bot: ChatHarness) -> None:
    """Three orders and a doubt; after 到货 one apple is short, 李四 says 已付, the leader
    collects 张三's, and 王五 asks for after-sales."""
    await bot.post("团长", HEAD)
    chain = HEAD
    for n, (who, what) in enumerate(
        [("张三", "苹果2份"), ("李四", "苹果1份 香蕉1把"), ("王五", "苹果2份")], 1
    ):
        chain += f"\n{n}. {who} {what}"
        await bot.post(who, chain)
    await bot.post("赵六", chain + "\n4. 赵六 榴莲一个")
    await bot.at("22:00")
    await bot.post("团长", "到货")
    await bot.post("团长", "缺货 苹果 1份")  # 王五's last apple: ¥12.80 back
    await bot.post("李四", "已付")
    await bot.post("团长", "收款 1")
    await bot.post("王五", "售后 3 坏了2个")


async def test_payments_per_round_and_line_as_the_leader_sees_them(
    client: Client, bot: ChatHarness
) -> None:
    await a_day_with_money(bot)
    await bot.post("团长", "统计", room=None)
    said = bot.said[-1].text  # the leader's 统计 and the dashboard agree
    assert "合计 ¥73.90，退款 ¥12.80，应收 ¥61.10" in said
    assert said.endswith(
        "收款：已收 1单 ¥25.60；自报已付 1单 ¥22.70（待你“收款”确认）；未付 1单；待收 ¥35.50"
    )
    await log_in(client)
    day = await (await client.get("/api/payments?date=2026-11-23")).json()
    sums = {
        "collected": "25.60",
        "collected_lines": 1,
        "claimed": "22.70",
        "claimed_lines": 1,
        "unpaid_lines": 1,
        "outstanding": "35.50",
        "refunds": "12.80",
        "refunds_requested": 1,
        "to_return": "0.00",
        "unpriced_lines": 0,
    }
    assert day["totals"] == sums
    [r] = day["rounds"]
    assert {k: r[k] for k in sums} == sums
    assert (r["title"], r["leader"], r["leader_name"]) == ("11月23日 水果团", "wxid_leader", "团长")
    assert [(x["seq"], x["name"], x["owed"], x["paid"], x["state"]) for x in r["lines"]] == [
        (1, "张三", "25.60", "25.60", "collected"),
        (2, "李四", "22.70", None, "claimed"),
        (3, "王五", "12.80", None, "unpaid"),
        (4, "赵六", None, None, "held"),  # owes nothing until decided, in no sum
    ]
    assert [(f["seq"], f["kind"], f["status"], f["amount"]) for f in r["refund_list"]] == [
        (3, "shortage", "owed", "12.80"),
        (3, "aftersale", "requested", None),  # no amount until the leader says 退款
    ]
    page = await (await client.get("/dashboard?date=2026-11-23")).text()
    for shown in ("收款与退款", "已收 ¥25.60（1单）", "自报已付", "待团长定金额", "确认收款"):
        assert shown in page
    assert (await client.get("/api/payments?date=23.11.2026")).status == 400


async def test_one_click_collects_like_the_leaders_collect(
    client: Client, bot: ChatHarness
) -> None:
    await a_day_with_money(bot)
    csrf = await log_in(client)
    lines = (await (await client.get("/api/payments?date=2026-11-23")).json())["rounds"][0]["lines"]
    entry = {x["name"]: x["id"] for x in lines}
    url = f"/api/payments/{entry['王五']}/collect"
    assert (await client.post(url)).status == 403  # no CSRF token: nothing recorded
    ok = await client.post(url, headers={"X-CSRF-Token": csrf})
    assert await ok.json() == {"entry": entry["王五"], "name": "王五", "paid": "12.80"}
    again = await client.post(url, headers={"X-CSRF-Token": csrf})
    assert again.status == 409 and "已经收过" in (await again.json())["error"]
    held = await client.post(
        f"/api/payments/{entry['赵六']}/collect", headers={"X-CSRF-Token": csrf}
    )
    assert held.status == 409
    await client.post(f"/api/review/{entry['赵六']}/accept", headers={"X-CSRF-Token": csrf})
    day = await (await client.get("/api/payments?date=2026-11-23")).json()
    [durian] = [x for x in day["rounds"][0]["lines"] if x["name"] == "赵六"]
    assert (durian["state"], durian["owed"]) == ("unpriced", "0.00")  # 榴莲 has no price
    assert day["totals"]["unpriced_lines"] == 1
    unpriced = await client.post(
        f"/api/payments/{entry['赵六']}/collect", headers={"X-CSRF-Token": csrf}
    )
    assert unpriced.status == 409 and "未定价" in (await unpriced.json())["error"]
    page = await (await client.get("/dashboard?date=2026-11-23")).text()
    assert "未定价 1单（不在合计里）" in page
    assert '<td>榴莲</td><td>1个</td><td><span class="why">未定价</span>' in page  # not ¥0.00
    missing = await client.post("/api/payments/99999/collect", headers={"X-CSRF-Token": csrf})
    assert missing.status == 404
    async with bot.app.db.connect() as conn:
        logged = (await conn.execute(select(AuditLog.actor, AuditLog.verb, AuditLog.role))).all()
    assert ("dashboard", "收款", "operator") in logged
    await bot.post("团长", "统计", room=None)
    assert "已收 2单 ¥38.40；自报已付 1单 ¥22.70" in bot.said[-1].text


async def test_events_nudge_the_page_when_an_order_arrives(
    client: Client, bot: ChatHarness
) -> None:
    await log_in(client)
    stream = await client.get("/api/events")
    assert stream.headers["Content-Type"] == "text/event-stream"
    assert await stream.content.readline() == b"retry: 1000\n"
    await stream.content.readline()
    await bot.post("团长", HEAD)
    line = await asyncio.wait_for(stream.content.readline(), 5)
    assert line == b"event: change\n"
    bot.app.changes.close()  # the server stops: open streams end rather than hold it up
    rest = await asyncio.wait_for(stream.content.read(), 5)
    assert rest == b"data: message\n\nevent: change\ndata: sent\n\n"  # the order, the reply


async def test_logout_ends_the_session(client: Client) -> None:
    csrf = await log_in(client)
    cookie = client.session.cookie_jar.filter_cookies(client.make_url("/"))[COOKIE].value
    out = await client.post("/logout", data={"csrf": csrf}, allow_redirects=False)
    assert out.status == 302 and out.headers["Location"] == "/login"
    again = await client.get("/api/board", cookies={COOKIE: cookie})  # a kept copy is dead too
    assert again.status == 401


def test_openapi_lists_the_dashboards_endpoints() -> None:
    from bot.http_api import openapi_document

    paths = openapi_document()["paths"]
    for path in (
        "/api/board",
        "/api/review/{entry}/accept",
        "/api/review/{entry}/fix",
        "/api/exports/{date}.csv",
        "/api/charts/sales.png",
        "/api/charts/products.png",
        "/api/payments",
        "/api/payments/{entry}/collect",
        "/api/events",
    ):
        assert path in paths
