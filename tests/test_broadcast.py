"""A deal pushed to 1,000 groups: each group gets it exactly once, across a crash mid-broadcast
and a restart, and the recorded send times never break the configured budgets."""

from __future__ import annotations

import itertools
import random
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.app import build_app
from bot.limits import SendLimiter, ThrottledError
from bot.outbox import drain
from models.clock import ManualClock
from models.config import SendLimits
from models.messages import OutgoingMessage
from models.store.outbox import recover_claimed
from tests.conftest import TZ, make_config, split_schema

GROUPS = 1000
LIMITS = SendLimits(per_minute=120, daily_cap=1500, group_interval_s=30, jitter_s=5)
DEAL = """
[[deals]]
key = "push-1"
title = "全平台 阳光玫瑰葡萄"
post_at = "2026-11-23 08:00"
cutoff_at = "2026-11-24 22:00"
groups = ["all"]
[[deals.products]]
name = "阳光玫瑰葡萄"
price = "39.90"
unit = "盒"

[[deals]]
key = "push-2"
title = "全平台 五常大米"
post_at = "2026-11-23 08:00"
cutoff_at = "2026-11-24 22:00"
groups = ["all"]
[[deals.products]]
name = "五常大米"
price = "59.00"
unit = "袋"
"""


class Crash(BaseException):
    """The process dies mid-send (not an error the sender could catch and handle)."""


def check_budgets(sends: list[tuple[datetime, str]]) -> None:
    times = sorted(t for t, _ in sends)
    for i, t in enumerate(times):  # any 60 s window, any 24 h window
        j = next((k for k in range(i, len(times)) if times[k] >= t + timedelta(minutes=1)), None)
        assert (j if j is not None else len(times)) - i <= LIMITS.per_minute
        j = next((k for k in range(i, len(times)) if times[k] >= t + timedelta(days=1)), None)
        assert (j if j is not None else len(times)) - i <= LIMITS.daily_cap
    by_room: dict[str, list[datetime]] = {}
    for t, room in sends:
        by_room.setdefault(room, []).append(t)
    for ts in by_room.values():
        ts.sort()
        for a, b in itertools.pairwise(ts):
            assert b - a >= timedelta(seconds=LIMITS.group_interval_s)


@pytest.mark.parametrize("crash_after", [400])
async def test_push_to_1000_groups_survives_a_crash(
    db_url: str, tmp_path: Path, crash_after: int
) -> None:
    deals = tmp_path / "deals.toml"
    deals.write_text(DEAL, encoding="utf-8")
    base, schema = split_schema(db_url)
    groups = [
        {"room": f"room{n:04d}", "topic": f"群{n}", "leader": f"wxid_l{n}", "route": "东线"}
        for n in range(GROUPS)
    ]
    config = replace(make_config(base, groups=groups), deals_file=deals, sender=LIMITS)
    clock = ManualClock(datetime(2026, 11, 23, 8, 0, tzinfo=TZ), TZ)
    sends: list[tuple[datetime, str]] = []
    throttled_once = crashed = False

    async def send(out: OutgoingMessage) -> None:
        nonlocal throttled_once, crashed
        if len(sends) == crash_after and not crashed:
            crashed = True
            raise Crash
        if len(sends) == 700 and not throttled_once:
            throttled_once = True
            raise ThrottledError("发送消息过于频繁")
        assert out.room is not None
        sends.append((clock.now(), out.room))

    app = build_app(config, clock, pg_schema=schema, limited=True)
    await app.start()  # both deals are due: 2,000 chain heads queued
    app.limiter = SendLimiter(LIMITS, random.Random(1))
    with pytest.raises(Crash):
        while True:
            await app.tick(send)
            clock.advance(timedelta(seconds=1))
    await app.close()

    # Restart: a new process, a new limiter rebuilt from the outbox.
    app = build_app(config, clock, pg_schema=schema, limited=True)
    await app.start()
    assert await recover_claimed(app.db) == 0  # start() already put the claimed row back
    limiter = SendLimiter(LIMITS, random.Random(2))
    for _ in range(200_000):
        if len(sends) >= 2 * GROUPS:
            break
        now = clock.now()
        await drain(app.db, send, now, limiter=limiter, limit=2000)
        step = limiter.earliest("", now) - now if limiter.account_blocked(now) else None
        clock.advance(max(step or timedelta(seconds=1), timedelta(seconds=1)))
    await app.close()

    assert throttled_once
    assert len(sends) == 2 * GROUPS
    per_room: dict[str, int] = {}
    for _, room in sends:
        per_room[room] = per_room.get(room, 0) + 1
    assert set(per_room.values()) == {2} and len(per_room) == GROUPS
    check_budgets(sends)
    # The daily cap held the last 500 back until a day after the first sends.
    assert sends[-1][0] - sends[0][0] >= timedelta(days=1)
