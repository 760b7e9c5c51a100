"""Sales per day per leader and per product as PNGs (matplotlib, headless Agg backend).

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
MAX_PRODUCTS = 8  # lines on the products chart, 其他 included
OTHERS = "其他"


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

    _pyplot()  # the bundled font registered first, or findfont answers with its fallback
    charmap = font_manager.get_font(font_manager.findfont(CJK_FAMILY)).get_charmap()
    return "".join(ch for ch in name if ord(ch) in charmap).strip()


def _labels(
    data: dict[str, dict[date, int]], names: dict[str, str], unnamed: str
) -> dict[str, str]:
    """Series key (a leader's contact id, a product) → legend label: its name as the font can
    draw it, numbered when two share one."""
    labels: dict[str, str] = {}
    seen: dict[str, int] = {}
    for key in sorted(data, key=lambda k: (names.get(k, k), k)):
        name = _drawable(names.get(key) or "") or unnamed
        seen[name] = seen.get(name, 0) + 1
        labels[key] = name if seen[name] == 1 else f"{name}（{seen[name]}）"
    return labels


def _span(first: date, last: date) -> str:
    return f"{first.month}月{first.day}日至{last.month}月{last.day}日"


def _daily_figure(
    data: dict[str, dict[date, int]],
    labels: dict[str, str],
    first: date,
    last: date,
    title: str,
    legend: str,
) -> Any:
    """One line per series, yuan per day, each labelled; Chinese throughout."""
    plt = _pyplot()
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    with plt.rc_context({"font.family": [CJK_FAMILY], "axes.unicode_minus": False}):
        fig, ax = plt.subplots(figsize=(8, 4.5), dpi=100)
        xs = list(range(len(days)))
        for key, label in labels.items():
            ax.plot(xs, [data[key].get(d, 0) / 100 for d in days], marker="o", label=label)
        ax.set_xticks(xs, [f"{d.month}月{d.day}日" for d in days])
        ax.set_title(title)
        ax.set_xlabel("日期")
        ax.set_ylabel("销售额（元）")
        ax.grid(alpha=0.3)
        if data:
            ax.legend(fontsize="small", title=legend)
    return fig


def sales_figure(
    data: dict[str, dict[date, int]], names: dict[str, str], first: date, last: date
) -> Any:
    """One line per leader, yuan per day, each line labelled with the leader's name."""
    return _daily_figure(
        data,
        _labels(data, names, "团长"),
        first,
        last,
        f"各团长每日销售额（{_span(first, last)}）",
        "团长",
    )


def _top_products(data: dict[str, dict[date, int]]) -> dict[str, dict[date, int]]:
    """The best-selling products over the span, the rest summed as 其他: a legend of forty
    products is read by no one."""
    ranked = sorted(data, key=lambda k: (-sum(data[k].values()), k))
    if len(ranked) <= MAX_PRODUCTS:
        return data
    kept = {k: data[k] for k in ranked[: MAX_PRODUCTS - 1]}
    rest: dict[date, int] = {}
    for k in ranked[MAX_PRODUCTS - 1 :]:
        for day, fen in data[k].items():
            rest[day] = rest.get(day, 0) + fen
    kept[OTHERS] = rest
    return kept


def product_figure(data: dict[str, dict[date, int]], first: date, last: date) -> Any:
    """One line per product (the best sellers, then 其他), yuan per day over every group."""
    shown = _top_products(data)
    labels = _labels(shown, {k: k for k in shown}, "商品")
    if OTHERS in labels:  # 其他 last, whatever its name sorts as
        labels = {k: v for k, v in labels.items() if k != OTHERS} | {OTHERS: OTHERS}
    return _daily_figure(
        shown, labels, first, last, f"各商品每日销售额（{_span(first, last)}）", "商品"
    )


def render_chart(fig: Any, out: Path) -> Path:
    """A figure as a PNG file at `out`."""
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, format="png")
    _pyplot().close(fig)
    return out


def render_sales_chart(
    data: dict[str, dict[date, int]], names: dict[str, str], first: date, last: date, out: Path
) -> Path:
    """The leaders' chart as a PNG file at `out`."""
    return render_chart(sales_figure(data, names, first, last), out)
