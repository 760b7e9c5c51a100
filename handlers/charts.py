"""Sales per day per leader as a PNG, for admins (matplotlib, headless Agg backend).

Titles, axes and legends are Chinese and leaders are named, so the chart needs a CJK font;
servers rarely have one, so the project brings Noto Sans CJK from PyPI (noto-cjk-sans-otc)
and registers it here instead of relying on what the machine has.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any

CJK_FAMILY = "Noto Sans CJK SC"  # the Simplified Chinese face of the bundled collection


@cache
def _pyplot() -> Any:
    """matplotlib with the bundled CJK font registered, imported on first use: it is half a
    second of every start and only admins asking for a chart need it."""
    import matplotlib

    matplotlib.use("Agg")  # no display on a server
    import matplotlib.pyplot as plt
    import noto_cjk_sans_otc
    from matplotlib import font_manager

    font_manager.fontManager.addfont(str(noto_cjk_sans_otc.FONT_PATH))
    return plt


def _drawable(name: str) -> str:
    """The name without what the font cannot draw (the emoji in `🌸王姐🌸`), so the legend
    shows `王姐` rather than empty boxes."""
    from matplotlib import font_manager

    charmap = font_manager.get_font(font_manager.findfont(CJK_FAMILY)).get_charmap()
    return "".join(ch for ch in name if ord(ch) in charmap).strip()


def _labels(data: dict[str, dict[date, int]], names: dict[str, str]) -> dict[str, str]:
    """Leader contact id → legend label: their name, numbered when two share one."""
    labels: dict[str, str] = {}
    seen: dict[str, int] = {}
    for leader in sorted(data, key=lambda k: (names.get(k, k), k)):
        name = _drawable(names.get(leader) or "") or "团长"
        seen[name] = seen.get(name, 0) + 1
        labels[leader] = name if seen[name] == 1 else f"{name}（{seen[name]}）"
    return labels


def sales_figure(
    data: dict[str, dict[date, int]], names: dict[str, str], first: date, last: date
) -> Any:
    """One line per leader, yuan per day, each line labelled with the leader's name."""
    plt = _pyplot()
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    labels = _labels(data, names)
    with plt.rc_context({"font.family": [CJK_FAMILY], "axes.unicode_minus": False}):
        fig, ax = plt.subplots(figsize=(8, 4.5), dpi=100)
        xs = list(range(len(days)))
        for leader, label in labels.items():
            ax.plot(xs, [data[leader].get(d, 0) / 100 for d in days], marker="o", label=label)
        ax.set_xticks(xs, [f"{d.month}月{d.day}日" for d in days])
        ax.set_title(
            f"各团长每日销售额（{first.month}月{first.day}日至{last.month}月{last.day}日）"
        )
        ax.set_xlabel("日期")
        ax.set_ylabel("销售额（元）")
        ax.grid(alpha=0.3)
        if data:
            ax.legend(fontsize="small", title="团长")
    return fig


def render_sales_chart(
    data: dict[str, dict[date, int]], names: dict[str, str], first: date, last: date, out: Path
) -> Path:
    """The chart as a PNG file at `out`."""
    fig = sales_figure(data, names, first, last)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, format="png")
    _pyplot().close(fig)
    return out
