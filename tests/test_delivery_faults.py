"""Delivery faults: the demo day's transcript replayed with every message delivered one to
three times and neighbours shuffled within a few seconds ends with the same orders as the
clean run — nothing lost, nothing doubled."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from bot.adapters.replay import Event, load_events, replay
from bot.app import build_app
from models.clock import ManualClock
from models.config import load_config
from models.messages import ChatMessage
from models.store.tally import orders_report

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / "bot" / "demo" / "config.toml"
DAY = REPO / "bot" / "demo" / "day.jsonl"
WINDOW_S = 10  # messages this close together may arrive in any order


async def final_orders(
    events: list[Event], db: Path, config_path: Path = CONFIG
) -> list[tuple[str, str]]:
    config = load_config(config_path).with_database(f"sqlite+aiosqlite:///{db}")
    app = build_app(config, ManualClock(events[0].ts, config.timezone))
    await app.start()
    await replay(app, events, lambda record: None)
    async with app.db.connect() as conn:
        report = await orders_report(conn)
    await app.close()
    return sorted(
        (str(o["name"]), json.dumps(o["items"], ensure_ascii=False))
        for r in report
        for o in r["orders"]  # type: ignore[attr-defined]
    )


def faulty(events: list[Event], rng: random.Random) -> list[Event]:
    out: list[Event] = []
    for e in events:
        out += [e] * (rng.choice((1, 2, 3)) if isinstance(e, ChatMessage) else 1)
    for i in range(len(out) - 2):
        window = out[i : i + 3]
        if all(isinstance(x, ChatMessage) for x in window) and (
            (window[-1].ts - window[0].ts).total_seconds() <= WINDOW_S
        ):
            rng.shuffle(window)
            out[i : i + 3] = window
    return out


async def test_busy_day_delivered_several_times_changes_nothing(tmp_path: Path) -> None:
    """The busy day (16 groups, forks, pushes, 截单, arrivals): every message delivered one to
    three times, as wechaty sometimes does (python-wechaty#266)."""
    from tests.busy_day import busy_day

    transcript, config_path = busy_day(16, 80, seed=3).write(tmp_path)
    config = load_config(config_path)
    events = load_events(transcript, config.timezone)
    rng = random.Random(3)
    clean = await final_orders(events, tmp_path / "clean.db", config_path)
    assert len(clean) > 40
    noisy: list[Event] = []
    for e in events:
        noisy += [e] * (rng.choice((1, 2, 3)) if isinstance(e, ChatMessage) else 1)
    assert await final_orders(noisy, tmp_path / "noisy.db", config_path) == clean


@pytest.mark.parametrize("seed", range(12))
async def test_duplicated_and_shuffled_delivery_changes_nothing(tmp_path: Path, seed: int) -> None:
    config = load_config(CONFIG)
    events = load_events(DAY, config.timezone)
    clean = await final_orders(events, tmp_path / "clean.db")
    assert len(clean) == 10  # the fruit chain 8, the one-line head 2
    assert await final_orders(faulty(events, random.Random(seed)), tmp_path / "faulty.db") == clean
