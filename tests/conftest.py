"""Fixtures: a bot on a fresh SQLite file, and the same on PostgreSQL in a schema of its own.

PostgreSQL tests use GROUPBUY_TEST_PG_URL (default: the local server's `test` database). When
it is unreachable they skip with the reason, except under CI=true, where they fail: CI must
prove the scale-out path, not quietly skip it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.app import build_app
from models.clock import ManualClock
from models.config import Config, GroupConfig, parse_config
from tests.chat import ADMIN, LEADER, ROOM, ChatHarness

TZ = ZoneInfo("Asia/Shanghai")
PG_URL = os.environ.get("GROUPBUY_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
START = datetime(2026, 11, 23, 8, 0, tzinfo=TZ)


def make_config(db_url: str, *, groups: list[dict[str, str]] | None = None) -> Config:
    return parse_config(
        {
            "bot": {"timezone": "Asia/Shanghai", "admins": [ADMIN], "default_cutoff": "22:00"},
            "database": {"url": db_url},
            "groups": groups
            or [
                {
                    "room": ROOM,
                    "topic": "幸福里3栋团购群",
                    "leader": LEADER,
                    "route": "东线",
                    "pickup_point": "幸福里3栋门口",
                }
            ],
        }
    )


async def _pg_schema() -> str:
    """Create a throwaway schema, or skip/fail when the server is not there."""
    import asyncpg  # type: ignore[import-untyped]

    dsn = PG_URL.replace("postgresql+asyncpg", "postgresql")
    try:
        conn = await asyncpg.connect(dsn, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        reason = f"PostgreSQL at {PG_URL} is unreachable: {exc}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    await conn.execute(f'CREATE SCHEMA "{schema}"')
    await conn.close()
    return schema


async def _drop_pg_schema(schema: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_URL.replace("postgresql+asyncpg", "postgresql"), timeout=5)
    await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    await conn.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A database URL on each backend; for PostgreSQL, `?schema=` names an isolated schema."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path}/bot.db"
        return
    schema = await _pg_schema()
    try:
        yield f"{PG_URL}#schema={schema}"
    finally:
        await _drop_pg_schema(schema)


def split_schema(url: str) -> tuple[str, str | None]:
    if "#schema=" in url:
        base, schema = url.split("#schema=", 1)
        return base, schema
    return url, None


async def make_harness(url: str, config: Config | None = None) -> ChatHarness:
    base, schema = split_schema(url)
    cfg = (config or make_config(base)).with_database(base)
    clock = ManualClock(START, TZ)
    app = build_app(cfg, clock, pg_schema=schema)
    await app.start()
    return ChatHarness(app=app, clock=clock)


@pytest.fixture
async def bot(db_url: str) -> AsyncIterator[ChatHarness]:
    """A running bot with one group (幸福里3栋, leader wxid_leader), on SQLite and PostgreSQL."""
    harness = await make_harness(db_url)
    try:
        yield harness
    finally:
        await harness.app.close()


@pytest.fixture
async def sqlite_bot(tmp_path: Path) -> AsyncIterator[ChatHarness]:
    """The same bot on SQLite only, for tests about behaviour rather than the backend."""
    harness = await make_harness(f"sqlite+aiosqlite:///{tmp_path}/bot.db")
    try:
        yield harness
    finally:
        await harness.app.close()


__all__ = ["ADMIN", "LEADER", "ROOM", "GroupConfig", "make_config", "make_harness"]
