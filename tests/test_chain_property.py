"""Property: however residents copy the chain concurrently, no posted line is ever lost.

Hypothesis plays a group: at each step a resident copies one of the versions posted so far
(up to three behind the newest: people copy what is on their screen, which may be stale when
others post at the same moment, though never older than their own last post), then either
appends a new line of their own or deletes one of their own lines, and posts. Afterwards every
line anyone posted is an order exactly once, unless its owner deleted it; where a deletion
looks exactly like a copy of an older branch, the line is kept and its owner asked.
"""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.chains import Chain
from tests.chat import ChatHarness
from tests.conftest import make_harness

# GROUPBUY_SOAK=1 plays ten times as many groups (see README, reliability).
EXAMPLES = 1500 if os.environ.get("GROUPBUY_SOAK") else 150
RESIDENTS = [f"住户{n}" for n in range(1, 9)]

step = st.tuples(
    st.integers(min_value=0, max_value=len(RESIDENTS) - 1),  # who
    st.integers(min_value=0, max_value=3),  # how stale the copied version is
    st.booleans(),  # delete one of one's own lines instead of adding
)


async def play(bot: ChatHarness, steps: list[tuple[int, int, bool]]) -> None:
    await bot.post("团长", Chain().text)
    versions: list[Chain] = [Chain()]
    posted: dict[str, str] = {}  # line content -> owner
    deleted: set[str] = set()
    last_own: dict[str, int] = {}
    for n, (who_i, stale, delete) in enumerate(steps):
        who = RESIDENTS[who_i]
        base = versions[max(0, len(versions) - 1 - stale, last_own.get(who, 0))]
        own = [c for c in (ln.split(". ", 1)[1] for ln in base.lines) if posted.get(c) == who]
        if delete and own:
            content = own[-1]
            version = base.without(content)
            deleted.add(content)
        else:
            content = f"{who} 苹果{n + 1}份"
            version = base.add(content)
            posted[content] = who
        versions.append(version)
        last_own[who] = len(versions) - 1
        await bot.post(who, version.text)

    orders = await bot.orders()
    names_items = [f"{name} 苹果{items[0][1]}份" for name, _, items in orders]
    expected = [c for c in posted if c not in deleted]
    # A deletion the bot cannot tell from a stale copy keeps the line and asks its owner.
    asked = {c for c in deleted for t in bot.group_texts() if "没带上" in t and c in t}
    assert sorted(c for c in names_items if c not in asked) == sorted(expected)
    assert len(names_items) == len(set(names_items))  # nothing doubled
    for name, poster, _ in orders:
        assert poster == f"wxid_{name}"


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(steps=st.lists(step, min_size=1, max_size=25))
async def test_concurrent_copying_loses_nothing(
    tmp_path: Path, steps: list[tuple[int, int, bool]]
) -> None:
    db = tmp_path / f"p{abs(hash(tuple(steps)))}.db"
    bot = await make_harness(f"sqlite+aiosqlite:///{db}")
    try:
        await play(bot, steps)
    finally:
        await bot.app.close()
        db.unlink(missing_ok=True)
