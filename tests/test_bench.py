"""`groupbuy bench` works end to end on a tiny load (its figures are not asserted here: speed is
measured by the bench itself, on a quiet machine, not by unit tests)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.tools.bench import (
    START,
    bench_broadcast,
    bench_cutoff,
    bench_ingest,
    bench_parse,
    count_violations,
)
from models.config import SendLimits


def test_parse_bench_reports_its_keys() -> None:
    result = bench_parse(3)
    assert set(result) == {
        "parse_500_median_ms",
        "parse_500_p99_ms",
        "parse_lines_per_s",
        "parse_repost_501_median_ms",
        "parse_repost_2000_median_ms",
    }
    assert result["parse_repost_501_median_ms"] < result["parse_500_median_ms"]
    # read on from the kept reading, a repost of 2,000 entries costs less than 500 read cold
    assert result["parse_repost_2000_median_ms"] < result["parse_500_median_ms"]
    assert result["parse_lines_per_s"] > 0


async def test_ingest_cutoff_and_broadcast_on_a_tiny_load(tmp_path: Path) -> None:
    ingest = await bench_ingest(f"sqlite+aiosqlite:///{tmp_path}/i.db", 3, 5)
    assert ingest["ingest_messages"] == 15
    cutoff = await bench_cutoff(f"sqlite+aiosqlite:///{tmp_path}/c.db", 4, 10, tmp_path / "o")
    assert cutoff["cutoff_order_lines"] == 40
    assert (tmp_path / "o" / "bench.xlsx").exists()
    push = await bench_broadcast(f"sqlite+aiosqlite:///{tmp_path}/p.db", 60)
    assert push["broadcast_violations"] == 0 and push["broadcast_groups"] == 60


def test_violations_are_counted() -> None:
    limits = SendLimits(per_minute=2, daily_cap=100, group_interval_s=10)
    ok = [(START + timedelta(seconds=31 * n), f"g{n}") for n in range(4)]
    assert count_violations(ok, limits) == 0
    burst = [(START + timedelta(seconds=n), f"g{n}") for n in range(3)]  # 3 in a minute
    assert count_violations(burst, limits) == 1
    same_group = [(START, "g0"), (START + timedelta(seconds=5), "g0")]
    assert count_violations(same_group, limits) == 1
