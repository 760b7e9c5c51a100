"""Sales per day per leader as a PNG, for admins (matplotlib, headless Agg backend)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path


def render_sales_chart(
    data: dict[str, dict[date, int]], first: date, last: date, out: Path
) -> Path:
    """One line per leader, yuan per day; labels are contact ids (ASCII renders everywhere).

    matplotlib is imported here, not at start-up: it is half a second of every start and
    only admins asking for a chart need it."""
    import matplotlib

    matplotlib.use("Agg")  # no display on a server
    import matplotlib.pyplot as plt

    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=100)
    xs = list(range(len(days)))
    for leader in sorted(data):
        ax.plot(xs, [data[leader].get(d, 0) / 100 for d in days], marker="o", label=leader)
    ax.set_xticks(xs, [d.strftime("%m-%d") for d in days])
    ax.set_title(f"Sales per day per leader, {first} to {last}")
    ax.set_ylabel("yuan")
    ax.grid(alpha=0.3)
    if data:
        ax.legend(fontsize="small")
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, format="png")
    plt.close(fig)
    return out
