"""A day's files: the tally's lists and the sorting lists, for the chat (`导出`), the command
line (`groupbuy export`) and the HTTP API alike, so all three send the same workbook."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from handlers.exports import write_exports
from handlers.people import named_tally
from handlers.sorting import DaySorting
from models.config import Config
from models.db import Conn
from models.store.sorting import lines_with_goods


async def export_day(
    conn: Conn, config: Config, day: date, out_dir: Path, stem: str, *, leader: str | None = None
) -> list[Path]:
    """Write `<stem>.xlsx` and its CSVs for the rounds of `day` (one leader's, if given)."""
    report = await named_tally(conn, config, day)
    if leader is not None:
        report = report.only_leader(leader)
    lines = await lines_with_goods(conn, [r.id for r in report.rounds])
    sorting = DaySorting()
    for r in sorted(report.rounds, key=lambda r: (r.route, r.pickup_point, r.id)):
        sorting.add(r.pickup_point or r.title, r.title, lines[r.id])
    return write_exports(report, out_dir, stem, sorting)
