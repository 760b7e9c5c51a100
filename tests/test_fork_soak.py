"""Forks at scale: 50 residents copying the chain concurrently, 500 posts a group.

The same play as tests/test_chain_property.py (each resident copies one of the last few
versions — stale when others post at the same moment — then adds a line or deletes one of
their own, and posts), with 50 residents instead of 8 and a long day instead of a few posts:
every line anyone posted is an order exactly once, attributed to its poster, unless its owner
deleted it (or, where the deletion looks exactly like a stale copy, the owner was asked).

CI plays 3 groups of 200 posts; GROUPBUY_SOAK=1 plays 30 groups of 500 posts each.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import test_chain_property
from tests.conftest import make_harness

SOAK = bool(os.environ.get("GROUPBUY_SOAK"))
RESIDENTS = [f"住户{n}" for n in range(1, 51)]
POSTS, EXAMPLES = (500, 30) if SOAK else (200, 3)

step = st.tuples(
    st.integers(min_value=0, max_value=len(RESIDENTS) - 1),  # who
    st.integers(min_value=0, max_value=3),  # how stale the copied version is
    st.booleans(),  # delete one of one's own lines instead of adding
)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(steps=st.lists(step, min_size=POSTS, max_size=POSTS))
async def test_fifty_residents_copying_concurrently_lose_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, steps: list[tuple[int, int, bool]]
) -> None:
    monkeypatch.setattr(test_chain_property, "RESIDENTS", RESIDENTS)
    db = tmp_path / f"f{abs(hash(tuple(steps)))}.db"
    bot = await make_harness(f"sqlite+aiosqlite:///{db}")
    try:
        await test_chain_property.play(bot, steps)
    finally:
        await bot.app.close()
        db.unlink(missing_ok=True)
