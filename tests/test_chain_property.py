"""Property: however residents copy the chain concurrently, no posted line is ever lost.

Hypothesis plays a group: at each step a resident copies one of the versions posted so far
(up to three behind the newest: people copy what is on their screen, which may be stale when
others post at the same moment, though never older than their own last post), then appends a
new line of their own, deletes one of their own lines, or changes one in the copy, and posts;
or changes a line with `改 N` (N as the bot numbers it). Copies older than an edit still carry
the old text. Afterwards every line anyone posted is an order exactly once, in its latest
text, unless its owner deleted it; where a deletion looks exactly like a copy of an older
branch, the line is kept and its owner asked.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.chains import Chain
from tests.chat import ChatHarness
from tests.conftest import make_harness

# GROUPBUY_SOAK=1 plays ten times as many groups (see README, reliability).
EXAMPLES = int(os.environ.get("GROUPBUY_EXAMPLES", 0)) or (
    1500 if os.environ.get("GROUPBUY_SOAK") else 150
)
RESIDENTS = [f"住户{n}" for n in range(1, 9)]

ADD, DELETE, EDIT, GAI = range(4)
step = st.tuples(
    st.integers(min_value=0, max_value=len(RESIDENTS) - 1),  # who
    st.integers(min_value=0, max_value=3),  # how stale the copied version is
    # add a line; delete one's own; change one's own in the copy; `改 N` it by command
    st.sampled_from([ADD, ADD, DELETE, EDIT, GAI]),
)


async def shown_number(bot: ChatHarness, content: str) -> int:
    """The number the bot shows for a line (its place among the active orders)."""
    shown = [f"{name} 苹果{items[0][1]}份" for name, _, items in await bot.orders()]
    return shown.index(content) + 1


async def play(bot: ChatHarness, steps: list[tuple[int, int, int]]) -> None:
    await bot.post("团长", Chain().text)
    versions: list[Chain] = [Chain()]
    owner: dict[int, str] = {}  # line -> who wrote it
    current: dict[int, str] = {}  # line -> its text now (after edits)
    texts: dict[str, int] = {}  # every text a line ever had -> the line
    deleted: set[int] = set()
    last_own: dict[str, int] = {}
    for n, (who_i, stale, action) in enumerate(steps):
        who = RESIDENTS[who_i]
        base = versions[max(0, len(versions) - 1 - stale, last_own.get(who, 0))]
        in_base = [ln.split(". ", 1)[1] for ln in base.lines]
        # One's own lines the copy shows as they are now (a copy older than an edit shows
        # the old text: that line is left as it is).
        own = [
            texts[c]
            for c in in_base
            if c in texts and owner[texts[c]] == who and current[texts[c]] == c
            if texts[c] not in deleted
        ]
        if action == GAI and own:
            line = own[-1]
            number = await shown_number(bot, current[line])
            current[line] = texts_new = f"{who} 苹果{n + 1}份"
            texts[texts_new] = line
            await bot.post(who, f"改 {number} 苹果{n + 1}份")
            continue
        if action == DELETE and own:
            line = own[-1]
            version = base.without(current[line])
            deleted.add(line)
        elif action == EDIT and own:
            line = own[-1]
            new = f"{who} 苹果{n + 1}份"
            version = base.replace(current[line], new)
            current[line] = new
            texts[new] = line
        else:
            line = len(owner)
            content = f"{who} 苹果{n + 1}份"
            owner[line], current[line], texts[content] = who, content, line
            version = base.add(content)
        versions.append(version)
        last_own[who] = len(versions) - 1
        await bot.post(who, version.text)

    orders = await bot.orders()
    names_items = [f"{name} 苹果{items[0][1]}份" for name, _, items in orders]
    expected = [current[line] for line in owner if line not in deleted]
    # A deletion (or an edit in a copy) the bot cannot tell from a stale copy keeps the line
    # and asks its owner: such a kept line is flagged, not doubled in silence.
    asked = {
        text
        for text in texts
        for t in bot.group_texts()
        if "没带上" in t and text in t and text not in expected
    }
    # A new line with the number and name of one's own line missing from the copy looks like
    # its edit: the bot takes it so and tells its owner (flagged, not silent).
    for text in bot.group_texts():
        for before, after in re.findall(r"“([^”]+)”→“([^”]+)”", text):
            if before in expected and after in texts and before not in names_items:
                expected.remove(before)
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
    tmp_path: Path, steps: list[tuple[int, int, int]]
) -> None:
    db = tmp_path / f"p{abs(hash(tuple(steps)))}.db"
    bot = await make_harness(f"sqlite+aiosqlite:///{db}")
    try:
        await play(bot, steps)
    finally:
        await bot.app.close()
        db.unlink(missing_ok=True)
