"""Sales per day per leader as a PNG, for admins (matplotlib, headless Agg backend)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.config import Config
from models.tables import Entry, OrderLine, Round, RoundProduct


async def sales_by_day(
    conn: AsyncConnection, config: Config, first: date, last: date
) -> dict[str, dict[date, int]]:
    """Leader → day → sales in fen. Sums per round in SQL; rounds are bucketed by local day."""
    lo = datetime.combine(first, time(0), tzinfo=config.timezone)
    hi = datetime.combine(last + timedelta(days=1), time(0), tzinfo=config.timezone)
    rows = (
        await conn.execute(
            select(
                Round.room,
                Round.cutoff_at,
                func.coalesce(func.sum(OrderLine.amount_fen), 0).label("amount"),
            )
            .select_from(Round)
            .join(Entry, (Entry.round_id == Round.id) & (Entry.status == "active"))
            .join(OrderLine, OrderLine.entry_id == Entry.id)
            .outerjoin(
                RoundProduct,
                (RoundProduct.round_id == OrderLine.round_id)
                & (RoundProduct.key == OrderLine.product_key),
            )
            .where(Round.cutoff_at >= lo, Round.cutoff_at < hi, RoundProduct.shipped.is_not(False))
            .group_by(Round.id, Round.room, Round.cutoff_at)
        )
    ).all()
    out: dict[str, dict[date, int]] = {}
    for r in rows:
        group = config.group(r.room)
        leader = group.leader if group else r.room
        day = r.cutoff_at.astimezone(config.timezone).date()
        out.setdefault(leader, {})
        out[leader][day] = out[leader].get(day, 0) + int(r.amount)
    return out


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
