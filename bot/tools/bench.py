"""`groupbuy bench`: the bot measured where it works hardest.

parse    a 500-entry chain, lines never seen before (caches cleared each run); and that chain
         posted again with one line added (what a repost costs the parser), and a 2,000-entry
         one (a repost should cost what it adds, not what lies above it)
ingest   chain posts through the dispatcher (dedupe, parse, diff, write, replies), with forks,
         duplicates and edits mixed in; throughput and per-message p50/p99
growth   cost per post in a 500-entry round against a 50-entry round (should stay near 1)
cutoff   N groups × 100 orders, synthesised in bulk, then every round closed, the tally and
         the delivery lists written; seconds (scaled to 1M order lines in --quick) and peak RSS
broadcast  a push to 2,000 groups planned and drained under the [sender] budgets on a
         simulated clock; the count of budget violations must be 0
Medians and p99 over repeated runs; the machine and database are named in the output. Each
part starts from an empty database: its own SQLite file, or with `--db postgresql://…` its own
throwaway schema. `--quick` reports `cutoff_1m_s` scaled from 50,000 lines (`cutoff_1m_scaled`
true, and the same figure as `cutoff_1m_s_scaled`); the full run measures 1M lines.
"""

from __future__ import annotations

import os
import platform
import random
import resource
import shutil
import statistics
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.app import App, build_app
from bot.limits import SendLimiter
from bot.outbox import drain
from handlers.closing import close_due_rounds
from handlers.exports import write_exports
from handlers.parsing import chain_parser
from models.clock import ManualClock
from models.config import Config, SendLimits, parse_config
from models.db import SQLITE_VERSION, is_postgres, scratch_schema, server_version
from models.messages import ChatMessage, OutgoingMessage
from models.store import bulk
from models.store.outbox import enqueue
from models.store.tally import tally

TZ = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 11, 23, 8, 0, tzinfo=TZ)
HEAD = "#接龙\n11月23日 水果团 截单：今晚22:00\n1号 烟台苹果 12.8元/3斤\n2号 海南香蕉 9.9元/把\n"
FORMATS = [
    "住户{n} 苹果{q}份",
    "{n}栋50{q} 李姐{n} 香蕉x{q} 苹果+1",
    "🌸小雨{n}🌸 1号×{q}，2号1",
    "王五{n} 两份苹果",
    "赵六{n} 2号{q}",
]


def line(n: int) -> str:
    return FORMATS[n % len(FORMATS)].format(n=n, q=n % 3 + 1)


def chain_text(count: int, offset: int = 0) -> str:
    return HEAD + "\n" + "\n".join(f"{k}. {line(k + offset)}" for k in range(1, count + 1))


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def bench_parse(repeats: int) -> dict[str, float]:
    texts = [chain_text(500, offset=r * 1000) for r in range(repeats)]
    times = []
    for message in texts:
        chain_parser.clear_caches()  # lines, items and quantities never seen before
        t0 = time.perf_counter()
        chain_parser.parse_chain(message)
        times.append((time.perf_counter() - t0) * 1000)
    med = statistics.median(times)
    return {
        "parse_500_median_ms": round(med, 3),
        "parse_500_p99_ms": round(pct(times, 0.99), 3),
        "parse_lines_per_s": round(500 / (med / 1000)),
        "parse_repost_501_median_ms": repost_ms(500, repeats),
        # a long chain: what a repost costs should barely grow with the lines above it
        "parse_repost_2000_median_ms": repost_ms(2000, min(repeats, 11)),
    }


def repost_ms(count: int, repeats: int) -> float:
    """Median ms to parse a `count`-entry chain posted again with one line added."""
    reposts = []
    for r in range(repeats):
        chain_parser.clear_caches()
        chain_parser.parse_chain(chain_text(count, offset=r * 10000))
        longer = chain_text(count + 1, offset=r * 10000)
        t0 = time.perf_counter()
        chain_parser.parse_chain(longer)
        reposts.append((time.perf_counter() - t0) * 1000)
    return round(statistics.median(reposts), 3)


def _config(url: str, groups: int) -> Config:
    return parse_config(
        {
            "bot": {"timezone": "Asia/Shanghai", "admins": ["wxid_admin"]},
            "database": {"url": url},
            "groups": [
                {"room": f"g{n}", "topic": f"群{n}", "leader": f"wxid_l{n}", "route": f"线{n % 4}"}
                for n in range(groups)
            ],
        }
    )


async def _app(url: str, groups: int, schema: str | None = None) -> App:
    app = build_app(_config(url, groups), ManualClock(START, TZ), pg_schema=schema)
    await app.start()
    return app


@asynccontextmanager
async def fresh_db(url: str, tag: str) -> AsyncIterator[tuple[str, str | None]]:
    """An empty database for one part of the bench: for SQLite a file of its own
    (`x.db` → `x-<tag>.db`); for PostgreSQL a throwaway schema, dropped afterwards."""
    if not is_postgres(url):
        yield (url.replace(".db", f"-{tag}.db") if ".db" in url else f"{url}-{tag}"), None
        return
    async with scratch_schema(url, f"bench_{tag}") as schema:
        yield url, schema


async def database_name(url: str) -> str:
    """The backend and its server version, for the report."""
    if not is_postgres(url):
        return f"sqlite+aiosqlite (file, WAL), SQLite {SQLITE_VERSION}"
    return f"postgresql+asyncpg, PostgreSQL {await server_version(url)}"


async def bench_ingest(url: str, groups: int, per_group: int) -> dict[str, float]:
    """Residents grow each group's chain; 1 in 10 posts is a stale fork, 1 in 20 a duplicate."""
    async with fresh_db(url, "ingest") as (db_url, schema):
        return await _ingest(db_url, schema, groups, per_group)


async def _ingest(url: str, schema: str | None, groups: int, per_group: int) -> dict[str, float]:
    app = await _app(url, groups, schema)
    rng = random.Random(7)
    ids = iter(range(10**9))
    for g in range(groups):
        await app.feed(_msg(f"g{g}", f"wxid_l{g}", HEAD, next(ids)))
    chains: dict[int, list[str]] = {g: [] for g in range(groups)}
    latencies: list[float] = []
    last: dict[int, ChatMessage] = {}
    t_all = time.perf_counter()
    for step in range(groups * per_group):
        g = rng.randrange(groups)
        lines = chains[g]
        if last.get(g) is not None and rng.random() < 0.05:
            msg = last[g]  # delivered twice
        else:
            base = lines[: max(0, len(lines) - rng.randrange(3))] if rng.random() < 0.1 else lines
            new = [*base, f"{len(base) + 1}. {line(step)}"]
            chains[g] = new if len(new) >= len(lines) else lines + new[-1:]
            msg = _msg(f"g{g}", f"wxid_r{step}", HEAD + "\n" + "\n".join(new), next(ids))
            last[g] = msg
        t0 = time.perf_counter()
        await app.feed(msg)
        latencies.append((time.perf_counter() - t0) * 1000)
    total = time.perf_counter() - t_all
    await app.close()
    return {
        "ingest_messages": len(latencies),
        "ingest_per_s": round(len(latencies) / total, 1),
        "ingest_p50_ms": round(pct(latencies, 0.5), 3),
        "ingest_p99_ms": round(pct(latencies, 0.99), 3),
    }


def _msg(room: str, sender: str, text: str, n: int) -> ChatMessage:
    return ChatMessage(f"b{n}", room, sender, sender, text, START + timedelta(seconds=n))


async def bench_growth(url: str) -> dict[str, float]:
    """Cost per post of the last 30 posts of a 50-entry and a 500-entry round."""
    out: dict[int, float] = {}
    for size in (50, 500):
        async with fresh_db(url, f"growth{size}") as (db_url, schema):
            app = await _app(db_url, 1, schema)
            await app.feed(_msg("g0", "wxid_l0", HEAD, 0))
            times = []
            for k in range(1, size + 1):
                msg = _msg("g0", f"wxid_r{k}", chain_text(k), k)
                t0 = time.perf_counter()
                await app.feed(msg)
                if k > size - 30:
                    times.append(time.perf_counter() - t0)
            out[size] = statistics.median(times) * 1000
            await app.close()
    return {
        "growth_50_median_ms": round(out[50], 3),
        "growth_500_median_ms": round(out[500], 3),
        "growth_ratio": round(out[500] / out[50], 3),
    }


async def bench_cutoff(url: str, groups: int, orders: int, out_dir: Path) -> dict[str, float]:
    """Synthesise `groups` open rounds of `orders` lines in bulk, then close, tally, export."""
    async with fresh_db(url, "cutoff") as (db_url, schema):
        return await _cutoff(db_url, schema, groups, orders, out_dir)


async def _cutoff(
    url: str, schema: str | None, groups: int, orders: int, out_dir: Path
) -> dict[str, float]:
    app = await _app(url, groups, schema)
    now = START
    async with app.db.begin() as conn:
        await bulk.insert_rows(
            conn,
            "rounds",
            [
                {
                    "id": g + 1,
                    "room": f"g{g}",
                    "title": "水果团",
                    "header": HEAD,
                    "status": "open",
                    "opened_by": f"wxid_l{g}",
                    "opened_at": now,
                    "cutoff_at": now + timedelta(hours=14),
                    "version": 1,
                }
                for g in range(groups)
            ],
        )
        await bulk.insert_rows(
            conn,
            "round_products",
            [
                {
                    "round_id": g + 1,
                    "key": k,
                    "code": k,
                    "name": name,
                    "aliases": [],
                    "price_fen": price,
                    "sale_unit": unit,
                    "position": i,
                }
                for g in range(groups)
                for i, (k, name, price, unit) in enumerate(
                    [("1", "烟台苹果", 1280, "3斤"), ("2", "海南香蕉", 990, "把")]
                )
            ],
        )
        entry_id = 0
        entries, lines = [], []
        for g in range(groups):
            for o in range(orders):
                entry_id += 1
                entries.append(
                    {
                        "id": entry_id,
                        "round_id": g + 1,
                        "pos": o + 1,
                        "identity": f"e{o}",
                        "seq": o + 1,
                        "name": f"住户{o}",
                        "poster": f"wxid_{o}",
                        "poster_name": "",
                        "raw": f"{o + 1}. 住户{o} 苹果2份",
                        "flags": [],
                        "status": "active",
                        "source_message": f"s{entry_id}",
                        "created_at": now,
                        "updated_at": now,
                        "fork_noticed": False,
                        "seen_mask": "0",
                    }
                )
                key, fen = ("1", 2560) if o % 2 else ("2", 990)
                lines.append(
                    {
                        "entry_id": entry_id,
                        "round_id": g + 1,
                        "product_key": key,
                        "item_text": "苹果",
                        "qty_milli": 2000 if o % 2 else 1000,
                        "unit": None,
                        "match_how": "exact",
                        "amount_fen": fen,
                    }
                )
            if len(entries) >= 20_000:
                await bulk.insert_rows(conn, "entries", entries)
                await bulk.insert_rows(conn, "order_lines", lines)
                entries, lines = [], []
        if entries:
            await bulk.insert_rows(conn, "entries", entries)
            await bulk.insert_rows(conn, "order_lines", lines)
    t0 = time.perf_counter()
    closed = await close_due_rounds(app.db, app.cache, now + timedelta(hours=14))
    t_close = time.perf_counter() - t0
    t1 = time.perf_counter()
    async with app.db.connect() as conn:
        report = await tally(conn, app.config.timezone, now.date())
    write_exports(report, out_dir, "bench")
    t_tally = time.perf_counter() - t1
    await app.close()
    assert len(closed) == groups
    total = t_close + t_tally
    return {
        "cutoff_groups": groups,
        "cutoff_order_lines": groups * orders,
        "cutoff_close_s": round(t_close, 3),
        "cutoff_tally_export_s": round(t_tally, 3),
        "cutoff_s": round(total, 3),
    }


async def bench_broadcast(url: str, groups: int) -> dict[str, float]:
    """Plan a push to `groups` groups and drain it under the default budgets, simulated time."""
    async with fresh_db(url, "push") as (db_url, schema):
        return await _broadcast(db_url, schema, groups)


async def _broadcast(url: str, schema: str | None, groups: int) -> dict[str, float]:
    app = await _app(url, groups, schema)
    limits = app.config.sender
    t0 = time.perf_counter()
    async with app.db.begin() as conn:
        await enqueue(
            conn,
            [
                OutgoingMessage(f"push:g{g}", f"g{g}", "今日团购：阳光玫瑰葡萄")
                for g in range(groups)
            ],
            START,
        )
    t_plan = time.perf_counter() - t0
    clock = START
    sends: list[tuple[datetime, str]] = []

    async def send(out: OutgoingMessage) -> None:
        sends.append((clock, out.room or ""))

    limiter = SendLimiter(limits, random.Random(3))
    t1 = time.perf_counter()
    while len(sends) < groups:
        await drain(app.db, send, clock, limiter=limiter, limit=groups)
        blocked = limiter.account_blocked(clock)
        step = limiter.earliest("", clock) - clock if blocked else timedelta(seconds=1)
        clock += max(step, timedelta(seconds=1))
    t_drain = time.perf_counter() - t1
    await app.close()
    return {
        "broadcast_groups": groups,
        "broadcast_plan_s": round(t_plan, 3),
        "broadcast_drain_wall_s": round(t_drain, 3),
        "broadcast_simulated_minutes": round((sends[-1][0] - sends[0][0]).total_seconds() / 60, 1),
        "broadcast_violations": count_violations(sends, limits),
    }


def count_violations(sends: list[tuple[datetime, str]], limits: SendLimits) -> int:
    """Sends that break a budget: over per_minute in a minute, daily_cap in a day, or too soon
    after the previous message to the same group."""
    times = sorted(t for t, _ in sends)
    bad = 0
    j = k = 0
    for i, t in enumerate(times):
        while times[j] <= t - timedelta(minutes=1):
            j += 1
        while times[k] <= t - timedelta(days=1):
            k += 1
        bad += (i - j + 1) > limits.per_minute
        bad += (i - k + 1) > limits.daily_cap
    last: dict[str, datetime] = {}
    for t, room in sorted(sends):
        if room in last and t - last[room] < timedelta(seconds=limits.group_interval_s):
            bad += 1
        last[room] = t
    return bad


async def run_bench(quick: bool, db_url: str | None) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="groupbuy-bench-"))
    try:
        return await _run(quick, db_url, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # the full cutoff leaves ~300 MB of SQLite


async def _run(quick: bool, db_url: str | None, tmp: Path) -> dict[str, Any]:
    url = db_url or f"sqlite+aiosqlite:///{tmp}/bench.db"
    groups, orders = (500, 100) if quick else (10_000, 100)
    result: dict[str, Any] = {
        "machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "database": await database_name(url),
        "quick": quick,
    }
    result.update(bench_parse(21 if quick else 51))
    result.update(await bench_ingest(url, 20, 25 if quick else 100))
    result.update(await bench_growth(url))
    cut = await bench_cutoff(url, groups, orders, tmp / "out")
    result.update(cut)
    scale = 1_000_000 / cut["cutoff_order_lines"]
    # --quick measures 50,000 lines and scales linearly; the full run measures 1M itself.
    result["cutoff_1m_s"] = round(cut["cutoff_s"] * scale, 1)
    result["cutoff_1m_scaled"] = scale != 1
    if quick:
        result["cutoff_1m_s_scaled"] = result["cutoff_1m_s"]
    result["cutoff_peak_rss_mb"] = round(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
    )
    result.update(await bench_broadcast(url, 2000))
    return result


def print_human(result: dict[str, Any]) -> None:
    width = max(len(k) for k in result)
    for k, v in result.items():
        print(f"{k:<{width}}  {v}")
