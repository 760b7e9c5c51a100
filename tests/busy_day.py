"""A busy day for many groups, as a replay transcript: what the crash and two-bot tests feed.

One platform deal is pushed on schedule to every group at 08:00; residents of a few groups
chain in a burst (copying stale versions, so forks and merged chains happen, and deleting
their own lines); at 12:00 the admin pushes a second deal to every group by chat (`推送`);
at 22:00 every round is cut off (a final list to each group and a summary to each leader);
a late post is answered once; the next day goods arrive in some groups, a resident picks up,
and the day after that the pickup reminders go out.

Everything is derived from a seed, so a run is reproducible.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from models.config import Config
from tests.chat import ChatHarness

TZ = ZoneInfo("Asia/Shanghai")
ADMIN = "wxid_admin"
DAY = datetime(2026, 11, 23, 0, 0, tzinfo=TZ)

DEALS_TOML = """
[[deals]]
key = "fruit-1123"
title = "11月23日 水果团"
post_at = "2026-11-23 08:00"
cutoff_at = "2026-11-23 22:00"
pickup = "明天下午3点后"
groups = ["all"]
[[deals.products]]
code = "1"
name = "烟台苹果"
aliases = ["苹果"]
price = "12.80"
unit = "3斤"
[[deals.products]]
code = "2"
name = "海南香蕉"
aliases = ["香蕉"]
price = "9.90"
unit = "把"

[[deals]]
key = "rice-1126"
title = "11月26日 五常大米"
post_at = "2026-11-26 08:00"
cutoff_at = "2026-11-26 22:00"
groups = ["all"]
[[deals.products]]
name = "五常大米"
price = "59.00"
unit = "袋"
"""

ITEMS = ("苹果{n}份", "香蕉x{n}", "1号×{n}", "苹果{n}份 香蕉1", "2号{n}把")


def room(g: int) -> str:
    return f"g{g:03d}@chatroom"


def leader(g: int) -> str:
    return f"wxid_lead{g:03d}"


@dataclass
class BusyDay:
    """The transcript's events (JSON objects) and what the tests need to know about them."""

    groups: int
    events: list[dict[str, Any]] = field(default_factory=list)
    burst: int = 0  # chain posts in the burst
    deletions: int = 0  # of those, posts that delete one of the poster's own lines

    @property
    def messages(self) -> int:
        return sum(1 for e in self.events if e["type"] == "message")

    def write(self, folder: Path) -> tuple[Path, Path]:
        """The transcript and a config (with the deals file) in `folder`."""
        transcript = folder / "busy_day.jsonl"
        transcript.write_text(
            "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in self.events),
            encoding="utf-8",
        )
        (folder / "deals.toml").write_text(DEALS_TOML, encoding="utf-8")
        config = folder / "config.toml"
        config.write_text(config_toml(self.groups, folder / "unused.db"), encoding="utf-8")
        return transcript, config


def config_toml(groups: int, db: Path) -> str:
    lines = [
        "[bot]",
        'timezone = "Asia/Shanghai"',
        f'admins = ["{ADMIN}"]',
        'default_cutoff = "22:00"',
        'deals_file = "deals.toml"',
        "",
        "[database]",
        f'url = "sqlite+aiosqlite:///{db}"',
    ]
    for g in range(groups):
        lines += [
            "",
            "[[groups]]",
            f'room = "{room(g)}"',
            f'topic = "小区{g}团购群"',
            f'leader = "{leader(g)}"',
            f'route = "{"东线" if g % 2 else "西线"}"',
            f'pickup_point = "小区{g}门口"',
        ]
    return "\n".join(lines) + "\n"


def head(title: str = "11月23日 水果团") -> str:
    """The chain head as the bot posts it for the first deal (residents copy it)."""
    return (
        f"#接龙\n{title} 截单：11月23日 22:00 自提：明天下午3点后 小区{{g}}门口\n"
        "1号 烟台苹果 12.80元/3斤\n2号 海南香蕉 9.90元/把\n\n"
        "复制本条，在最后加一行：序号. 名字 商品数量"
    )


def busy_day(groups: int, burst: int, seed: int, *, chain_groups: int = 3) -> BusyDay:
    rng = random.Random(seed)
    day = BusyDay(groups)
    ids = iter(range(1, 10**9))

    def at(hh: int, mm: int, ss: int = 0, days: int = 0) -> str:
        return (DAY + timedelta(days=days, hours=hh, minutes=mm, seconds=ss)).isoformat()

    def clock(ts: str) -> None:
        day.events.append({"type": "clock", "ts": ts})

    def say(ts: str, where: str | None, sender: str, name: str, text: str) -> None:
        day.events.append(
            {
                "type": "message",
                "id": f"busy-{next(ids)}",
                "ts": ts,
                "room": where,
                "sender": sender,
                "sender_name": name,
                "text": text,
            }
        )

    clock(at(7, 59))
    clock(at(8, 0))  # the scheduled push: a chain head to every group
    say(at(8, 0, 30), None, ADMIN, "平台管理员", "你好")  # answered privately once

    # The burst: residents of a few groups copy one of the last three versions and post.
    chains: dict[int, list[list[tuple[str, str]]]] = {g: [[]] for g in range(chain_groups)}
    t = timedelta(hours=8, minutes=1)
    for _ in range(burst):
        g = rng.randrange(chain_groups)
        who_n = rng.randrange(1, 31)
        sender, name = f"wxid_g{g}_r{who_n}", f"{who_n}号楼 住户{g}-{who_n}"
        versions = chains[g]
        base = list(versions[max(0, len(versions) - 1 - rng.choice((0, 0, 0, 1, 2)))])
        mine = [c for c, s in base if s == sender]
        if mine and rng.random() < 0.12:
            gone = rng.choice(mine)
            base = [(c, s) for c, s in base if c != gone]
            day.deletions += 1
        else:
            base.append((f"{name} {rng.choice(ITEMS).format(n=rng.randint(1, 3))}", sender))
        versions.append(base)
        t += timedelta(seconds=rng.choice((1, 2, 3, 5, 8, 30)))
        lines = "\n".join(f"{i}. {c}" for i, (c, _) in enumerate(base, 1))
        say(
            (DAY + t).isoformat(),
            room(g),
            sender,
            name,
            head().replace("{g}", str(g)) + ("\n" + lines if lines else ""),
        )
        day.burst += 1
    clock((DAY + t + timedelta(minutes=1)).isoformat())  # merged chains still held go out

    say(at(11, 59), None, ADMIN, "平台管理员", "月结 2026-11")
    say(at(12, 0), None, ADMIN, "平台管理员", "推送 rice-1126")  # the admin's push to all
    clock(at(12, 0, 5))
    say(at(21, 59), None, ADMIN, "平台管理员", "汇总 2026-11-23")
    clock(at(22, 0))  # 截单 in every group
    say(
        at(22, 1),
        room(0),
        "wxid_late",
        "晚到的人",
        head().replace("{g}", "0") + "\n1. 晚到的人 苹果1份",
    )
    for g in range(min(groups, chain_groups)):
        say(at(10, 0, g, days=1), room(g), leader(g), f"团长{g}", "到货")
    say(at(15, 0, days=1), room(0), "wxid_g0_r1", "1号楼 住户0-1", "已取")
    clock(at(18, 0, days=2))  # pickup reminders for whoever still waits
    clock(at(18, 1, days=2))
    return day


async def deal_bot(
    db_url: str, folder: Path, groups: int | None = None
) -> tuple[ChatHarness, Config]:
    """A running bot with the busy day's deals file: one group (幸福里3栋), or `groups` of the
    busy day's groups. Returns the config too, for a restart on the same database."""
    from tests.conftest import make_config, make_harness, split_schema

    deals = folder / "deals.toml"
    deals.write_text(DEALS_TOML, encoding="utf-8")
    base, _ = split_schema(db_url)
    rooms = (
        [{"room": room(g), "topic": f"小区{g}", "leader": leader(g)} for g in range(groups)]
        if groups
        else None
    )
    config = replace(make_config(base, groups=rooms), deals_file=deals)
    return await make_harness(db_url, config), config
