"""The simulator and the dashboard in a real browser (Debian's chromium, driven by Playwright).

One `groupbuy sim` process serves the whole module, its clock starting at 2026-11-23 08:00 on
the demo config. The story runs in order, the way a leader would try it: log in, open the
round in the group chat, residents copy the chain, the dashboard fills without a reload, a
doubtful line is accepted in one click (another stays held), the xlsx downloads and opens, the
clock reaches 截单, the goods arrive one banana short, a resident says 已付 and the operator
collects in one click, the admin's 导出 and 图表 open from the simulator's chat.

Screenshots are taken along the way into a temporary folder; with GROUPBUY_SCREENSHOTS set
(`GROUPBUY_SCREENSHOTS=docs/screenshots`) they go there instead: that is how the ones the
README shows are made, and a plain test run leaves the working tree as it was.

Without a browser these tests skip and say why; under CI=true they fail instead.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

CHROMIUM = "/usr/bin/chromium"
ROOM = "xingfuli@chatroom"
HEAD = (
    "#接龙\n11月23日 水果团 截单：今晚22:00 自提：明天下午3点后\n"
    "1号 烟台苹果 12.8元/3斤\n2号 海南香蕉 9.9元/把\n"
)
LIVE_S = 10_000  # ms a live update may take (it takes well under a second)


def _no_browser(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"the browser tests must run in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots go: GROUPBUY_SCREENSHOTS when set, else a temporary folder."""
    asked = os.environ.get("GROUPBUY_SCREENSHOTS")
    folder = Path(asked) if asked else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, str]]:
    """`groupbuy sim` on a free port: its address and the dashboard's login token."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "sim", "--port", "0", "--start", "2026-11-23T08:00"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    lines: list[str] = []
    try:
        for line in proc.stdout:
            lines.append(line)
            if "口令" in line:
                break
        said = "".join(lines)
        address = re.search(r"(http://\S+)/sim", said)
        token = re.search(r"口令：(\S+)", said)
        assert address and token, f"the simulator did not start:\n{said}"
        yield address.group(1), token.group(1)
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        _no_browser(f"playwright is not installed ({exc}); pip install -e '.[dev]'")
    if not Path(CHROMIUM).exists():
        _no_browser(f"{CHROMIUM} is missing (apt-get install chromium)")
    with sync_playwright() as p:
        try:
            chromium = p.chromium.launch(executable_path=CHROMIUM)
        except Exception as exc:
            _no_browser(f"chromium does not start: {exc}")
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def context(browser: Any, server: tuple[str, str]) -> Iterator[Any]:
    ctx = browser.new_context(
        base_url=server[0],
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        viewport={"width": 1600, "height": 1000},
        accept_downloads=True,
    )
    yield ctx
    ctx.close()


@pytest.fixture(scope="module")
def dashboard(context: Any, server: tuple[str, str]) -> Any:
    """The dashboard after logging in through its form."""
    page = context.new_page()
    page.goto("/dashboard")
    assert page.url.endswith("/login")  # no session: the login form
    page.fill('input[name="token"]', server[1])
    page.click("button[type=submit]")
    page.wait_for_url("**/dashboard")
    return page


@pytest.fixture(scope="module")
def sim(context: Any, dashboard: Any) -> Any:
    page = context.new_page()
    page.goto("/sim")
    return page


def type_in(sim: Any, sender: str, name: str, text: str, room: str = ROOM) -> None:
    """`name` types `text` in the group's chat column (room "" is the private chat)."""
    chat = sim.locator(f'.chat[data-room="{room}"]')
    chat.locator('input[name="sender_name"]').fill(name)
    chat.locator('input[name="sender_name"]').blur()  # the page fills in a known person's id
    chat.locator('input[name="sender"]').fill(sender)
    chat.locator('textarea[name="text"]').fill(text)
    chat.locator("button", has_text="发送").click()
    sim.wait_for_function("el => el.value === ''", arg=chat.locator("textarea").element_handle())


def test_login_keeps_the_token_out_of_urls_and_pages(
    dashboard: Any, server: tuple[str, str]
) -> None:
    assert server[1] not in dashboard.url
    assert server[1] not in dashboard.content()
    cookies = {c["name"]: c for c in dashboard.context.cookies()}
    session = cookies["groupbuy_session"]
    assert session["httpOnly"] and session["sameSite"] == "Strict"


def test_the_compose_box_names_the_leader(sim: Any) -> None:
    chat = sim.locator(f'.chat[data-room="{ROOM}"]')
    assert chat.locator('input[name="sender_name"]').input_value() == "李团长"
    from playwright.sync_api import expect

    expect(chat.locator("h2")).to_contain_text("团长 李团长")
    expect(chat.locator("h2")).not_to_contain_text("wxid_")


def test_the_round_fills_on_the_dashboard_as_residents_copy(sim: Any, dashboard: Any) -> None:
    from playwright.sync_api import expect

    type_in(sim, "wxid_leader_li", "李团长", HEAD)
    expect(sim.locator('.chat[data-room=""] .msg.bot')).to_contain_text("已开团")
    expect(dashboard.locator(".round .status")).to_have_text("接龙中", timeout=LIVE_S)
    type_in(sim, "wxid_zhang", "张三", HEAD + "\n1. 张三 苹果2份")
    expect(dashboard.locator(".round .orders")).to_have_text("1", timeout=LIVE_S)
    type_in(sim, "wxid_lijie", "李姐", HEAD + "\n1. 张三 苹果2份\n2. 3栋502 李姐 香蕉x2 苹果+1")
    type_in(
        sim,
        "wxid_xiaoyu",
        "🌸小雨🌸",
        HEAD + "\n1. 张三 苹果2份\n2. 3栋502 李姐 香蕉x2 苹果+1\n3. 🌸小雨🌸 1号×2，2号1",
    )
    expect(dashboard.locator(".round .orders")).to_have_text("3", timeout=LIVE_S)
    expect(dashboard.locator(".round .amount")).to_have_text("¥93.70", timeout=LIVE_S)
    expect(dashboard.locator(".countdown")).to_contain_text("还剩")
    expect(sim.locator(".msg .who").first).not_to_contain_text("wxid_")  # people by name


def test_a_doubtful_line_is_accepted_in_one_click(sim: Any, dashboard: Any) -> None:
    from playwright.sync_api import expect

    chain = "\n1. 张三 苹果2份\n2. 3栋502 李姐 香蕉x2 苹果+1\n3. 🌸小雨🌸 1号×2，2号1"
    type_in(sim, "wxid_wangwu", "王五", HEAD + chain + "\n4. 王五 榴莲一个")
    held = dashboard.locator(".held-line")
    expect(held).to_contain_text("王五 榴莲一个", timeout=LIVE_S)
    expect(held).to_contain_text("菜单上没有这个商品")
    expect(dashboard.locator(".round .held")).to_have_text("1")
    held.locator("button", has_text="按原样计入").click()
    expect(dashboard.locator("#decided")).to_contain_text("已计入：王五 榴莲一个", timeout=LIVE_S)
    expect(dashboard.locator(".held-line")).to_have_count(0)
    expect(dashboard.locator(".round .held")).to_have_text("0")
    chain += "\n4. 王五 榴莲一个"
    type_in(sim, "wxid_zhao", "赵六", HEAD + chain + "\n5. 赵六 山竹半斤")  # left held
    expect(dashboard.locator(".held-line")).to_contain_text("赵六 山竹半斤", timeout=LIVE_S)


def test_the_xlsx_downloads_and_opens(dashboard: Any) -> None:
    with dashboard.expect_download() as download:
        dashboard.click("#download-xlsx")
    path = download.value.path()
    wb = load_workbook(io.BytesIO(Path(path).read_bytes()))
    assert wb.sheetnames[:3] == ["配送清单", "排序列表", "总清单"] and wb.sheetnames[-1] == "退款"
    totals = {row[0]: row[1] for row in wb["总清单"].iter_rows(min_row=2, values_only=True)}
    assert totals["烟台苹果"] == 5 and totals["海南香蕉"] == 3


def test_moving_the_clock_reaches_cutoff(sim: Any, dashboard: Any) -> None:
    from playwright.sync_api import expect

    sim.fill("#clock-to", "2026-11-23T22:00")
    sim.click("#clock-go")
    group = sim.locator(f'.chat[data-room="{ROOM}"] .log')
    expect(group).to_contain_text("【已截单】", timeout=LIVE_S)
    expect(dashboard.locator(".round .status")).to_have_text("已截单", timeout=LIVE_S)
    expect(dashboard.locator(".countdown")).to_have_text("已到截单时间")


def test_payments_and_refunds_show_and_one_click_collects(
    sim: Any, dashboard: Any, shots: Path
) -> None:
    from playwright.sync_api import expect

    sim.fill("#clock-to", "2026-11-24T15:00")
    sim.click("#clock-go")
    expect(sim.locator("#clock-said")).to_contain_text("已拨到", timeout=LIVE_S)
    type_in(sim, "wxid_leader_li", "李团长", "到货")
    type_in(sim, "wxid_leader_li", "李团长", "缺货 香蕉 1把")  # the latest banana: 小雨's
    type_in(sim, "wxid_lijie", "李姐", "已付")
    type_in(sim, "wxid_lijie", "李姐", "售后 2 香蕉坏了1根")
    panel = dashboard.locator("#payments-panel")
    expect(panel.locator(".refund")).to_have_count(2, timeout=LIVE_S)
    expect(panel.locator(".refund").first).to_contain_text("¥9.90")
    expect(panel.locator(".refund").last).to_contain_text("待团长定金额")
    zhang = panel.locator(".pay-line", has_text="张三")
    expect(zhang.locator(".pay-state")).to_have_text("未付")
    expect(panel.locator(".pay-line", has_text="李姐").locator(".pay-state")).to_have_text(
        "自报已付"
    )
    expect(panel.locator(".pay-line", has_text="赵六").locator(".pay-state")).to_contain_text(
        "待确认"
    )
    zhang.locator("button", has_text="确认收款").click()
    expect(dashboard.locator("#collected")).to_have_text("已记收款：张三 ¥25.60", timeout=LIVE_S)
    expect(panel.locator(".pay-line", has_text="张三").locator(".pay-state")).to_have_text(
        "已收 ¥25.60"
    )
    expect(panel.locator(".day-sums")).to_contain_text("已收 ¥25.60（1单）")
    type_in(sim, "wxid_leader_li", "李团长", "催款")  # the chat agrees: only the unpaid named
    dun = sim.locator(f'.chat[data-room="{ROOM}"] .msg.bot', has_text="【催款】").last
    expect(dun).to_contain_text("3.🌸小雨🌸 ¥25.60")
    expect(dun).not_to_contain_text("张三")
    for chart in ("#chart", "#chart-products"):
        dashboard.wait_for_function(
            "el => el.complete && el.naturalWidth > 0",
            arg=dashboard.locator(chart).element_handle(),
        )
    dashboard.screenshot(path=str(shots / "dashboard.png"), full_page=True)


def test_the_admins_files_open_from_the_simulator(sim: Any, shots: Path) -> None:
    from playwright.sync_api import expect

    private = sim.locator('.chat[data-room=""]')
    type_in(sim, "wxid_admin", "管理员", "导出 2026-11-23", room="")
    link = private.locator("a.file", has_text=".xlsx").last
    expect(link).to_be_visible(timeout=LIVE_S)
    with sim.expect_download() as download:
        link.click()
    wb = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()))
    assert wb.sheetnames[0] == "配送清单"
    type_in(sim, "wxid_admin", "管理员", "图表 7", room="")
    image = private.locator("img.sent-image").last
    expect(image).to_be_visible(timeout=LIVE_S)
    sim.wait_for_function("el => el.complete && el.naturalWidth > 0", arg=image.element_handle())
    expect(private.locator(".msg.bot .who").last).to_contain_text("→ 管理员")
    sim.screenshot(path=str(shots / "simulator.png"))
