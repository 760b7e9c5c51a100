"""The charts speak Chinese: title, axes and legend, leaders and products by name, drawn with
the CJK font the project installs (no missing-glyph boxes), sent as a PNG in the chat."""

from __future__ import annotations

import warnings
from datetime import date
from io import BytesIO
from pathlib import Path
from typing import Any

import noto_cjk_sans_otc
import pytest
from matplotlib import font_manager

from handlers.charts import CJK_FAMILY, product_figure, sales_figure
from models.store.tally import product_sales_by_day
from tests.chains import Chain
from tests.chat import ADMIN, LEADER, ChatHarness

DAYS = (date(2026, 11, 22), date(2026, 11, 23))
DATA = {"wxid_li": {DAYS[0]: 12_000, DAYS[1]: 14_990}, "wxid_wang": {DAYS[1]: 9_900}}
NAMES = {"wxid_li": "李姐", "wxid_wang": "🌸王姐🌸"}


def _missing_glyphs(fig: Any) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.savefig(BytesIO(), format="png")
    return [str(w.message) for w in caught if "missing from font" in str(w.message)]


def test_the_chart_is_chinese_and_names_leaders() -> None:
    fig = sales_figure(DATA, NAMES, *DAYS)
    ax = fig.axes[0]
    assert ax.get_title() == "各团长每日销售额（11月22日至11月23日）"
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("日期", "销售额（元）")
    assert [t.get_text() for t in ax.get_xticklabels()] == ["11月22日", "11月23日"]
    legend = ax.get_legend()
    assert legend.get_title().get_text() == "团长"
    # the names, the emoji the font cannot draw left out of the nickname
    assert sorted(t.get_text() for t in legend.get_texts()) == ["李姐", "王姐"]
    # The bundled font is found by name and draws every character: no missing-glyph boxes.
    assert "CJK" in font_manager.findfont(CJK_FAMILY, fallback_to_default=False)
    bundled = str(noto_cjk_sans_otc.FONT_PATH)  # installed from PyPI, not by the machine
    assert any(f.fname == bundled for f in font_manager.fontManager.ttflist)
    assert _missing_glyphs(fig) == []


def test_without_the_cjk_font_the_check_would_fail() -> None:
    """The same figure drawn in matplotlib's default font loses its Chinese: what the test
    above rules out is a real failure."""
    fig = sales_figure(DATA, {"wxid_li": "李姐", "wxid_wang": "王姐"}, *DAYS)
    for text in fig.findobj(lambda o: hasattr(o, "set_fontfamily")):
        text.set_fontfamily("DejaVu Sans")
    assert _missing_glyphs(fig)


async def test_the_chart_command_sends_a_png(
    sqlite_bot: ChatHarness, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    bot = sqlite_bot
    monkeypatch.setattr("handlers.private.EXPORTS_DIR", tmp_path)
    await bot.post("李姐", Chain().text, sender=LEADER)
    await bot.post("张三", Chain().add("张三 苹果2份").text)
    await bot.post("李姐", "截单", sender=LEADER)
    await bot.post("管理员", "图表 7", room=None, sender=ADMIN)
    [sent] = [s for s in bot.said if s.to == ADMIN and s.file_path]
    assert sent.text == "2026-11-17 至 2026-11-23 各团长每日销售额"
    assert sent.file_path is not None
    assert Path(sent.file_path).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_products_chart_is_chinese_and_keeps_its_legend_short() -> None:
    many = {f"商品{n}号": {DAYS[1]: 1000 * n} for n in range(1, 11)}
    data = {"烟台苹果": {DAYS[0]: 12_800, DAYS[1]: 25_600}, "🍌海南香蕉": {DAYS[1]: 9_900}, **many}
    fig = product_figure(data, *DAYS)
    ax = fig.axes[0]
    assert ax.get_title() == "各商品每日销售额（11月22日至11月23日）"
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("日期", "销售额（元）")
    legend = ax.get_legend()
    assert legend.get_title().get_text() == "商品"
    labels = [t.get_text() for t in legend.get_texts()]
    # the seven best sellers by name, the other five summed as 其他, last
    assert labels[-1] == "其他" and len(labels) == 8
    assert {"烟台苹果", "海南香蕉", "商品10号", "商品6号"} <= set(labels)
    assert "商品5号" not in labels
    [other] = [line for line in ax.get_lines() if line.get_label() == "其他"]
    assert list(other.get_ydata()) == [0, 150.0]  # ¥10 + ¥20 + ¥30 + ¥40 + ¥50
    assert _missing_glyphs(fig) == []


async def test_product_sales_per_day_add_up_over_groups(sqlite_bot: ChatHarness) -> None:
    bot = sqlite_bot
    await bot.post("李姐", Chain().text, sender=LEADER)
    chain = Chain().add("张三 苹果2份")
    await bot.post("张三", chain.text)
    await bot.post("李四", chain.add("李四 苹果1份 香蕉1把").text)
    await bot.post("王五", chain.add("李四 苹果1份 香蕉1把").add("王五 榴莲一个").text)
    async with bot.app.db.connect() as conn:
        data = await product_sales_by_day(conn, bot.app.config.timezone, *DAYS)
    # the held 榴莲 line counts nowhere until the leader decides
    assert data == {"烟台苹果": {DAYS[1]: 3840}, "海南香蕉": {DAYS[1]: 990}}
    await bot.post("李姐", "确认 3", sender=LEADER)
    assert bot.said[-1].text.startswith("已确认")
    async with bot.app.db.connect() as conn:
        again = await product_sales_by_day(conn, bot.app.config.timezone, *DAYS)
    assert again == data  # counted now, but with no price it sold no money to chart
