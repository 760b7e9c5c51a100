"""Engine wiring for SQLite (the embedded default) and PostgreSQL (the scale-out path).

The schema is owned by Alembic: `upgrade()` brings any database to the newest revision, and is
what `groupbuy` runs at start-up. Nothing in a production path calls `create_all`.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    InterfaceError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from models import sqlite_one_hop as one_hop

Conn = AsyncConnection  # one open transaction, as handlers hold it and repositories use it

SQLITE_VERSION = sqlite3.sqlite_version
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
MIGRATE_LOCK = 0x67627579  # "gbuy": one migrating process per PostgreSQL database


def _on_sqlite_connect(dbapi_conn: Any, record: Any) -> None:
    one_hop.install(dbapi_conn)
    _sqlite_pragmas(dbapi_conn, record)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # WAL lets readers (tally, export) run while the bot writes; NORMAL sync is durable across
    # process crashes (the case we promise), and busy_timeout makes a second process wait its
    # turn for the write lock instead of failing with "database is locked".
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def normalise_url(url: str) -> str:
    """Accept the URLs people paste (`sqlite:///x.db`, `postgresql://…`) and pick async drivers."""
    u = make_url(url)
    if u.drivername in {"sqlite", "sqlite+pysqlite"}:
        u = u.set(drivername="sqlite+aiosqlite")
    elif u.drivername in {"postgresql", "postgres", "postgresql+psycopg2"}:
        u = u.set(drivername="postgresql+asyncpg")
    return u.render_as_string(hide_password=False)


class Database:
    """One engine per process. `begin()` is one transaction: the unit of a handled message."""

    def __init__(self, url: str, *, pg_schema: str | None = None, echo: bool = False) -> None:
        self.url = normalise_url(url)
        self.dialect = make_url(self.url).get_backend_name()
        kwargs: dict[str, Any] = {"echo": echo}
        if self.dialect == "postgresql":
            kwargs["pool_size"] = 5
            kwargs["max_overflow"] = 5
            # A pooled connection the server dropped (restart, fail-over, idle timeout) is
            # found by a cheap ping at checkout and replaced, instead of failing a message.
            kwargs["pool_pre_ping"] = True
            if pg_schema:
                kwargs["connect_args"] = {"server_settings": {"search_path": pg_schema}}
        else:
            # Every use ends in an explicit commit or rollback (`begin()`), or only read: the
            # pool's extra rollback on check-in is one more thread hop (~160 µs) per message.
            kwargs["pool_reset_on_return"] = None
        self.engine: AsyncEngine = create_async_engine(self.url, **kwargs)
        if self.dialect == "sqlite":
            event.listen(self.engine.sync_engine, "connect", _on_sqlite_connect)

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncConnection]:
        async with self.engine.begin() as conn:
            yield conn

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[AsyncConnection]:
        async with self.engine.connect() as conn:
            yield conn

    async def upgrade(self, revision: str = "head") -> None:
        """Run Alembic migrations up to `revision` on this database.

        On PostgreSQL two bot processes may start at once on an empty database: a transaction
        advisory lock lets one migrate while the other waits, then finds nothing to do.
        """
        async with self.engine.begin() as conn:
            if not self.is_sqlite:
                await conn.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATE_LOCK}
                )
            await conn.run_sync(_run_alembic, "upgrade", revision)

    async def downgrade(self, revision: str) -> None:
        async with self.engine.begin() as conn:
            await conn.run_sync(_run_alembic, "downgrade", revision)

    async def dispose(self) -> None:
        await self.engine.dispose()


def alembic_config(connection: Connection | None = None) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def _run_alembic(connection: Connection, action: str, revision: str) -> None:
    cfg = alembic_config(connection)
    if action == "upgrade":
        command.upgrade(cfg, revision)
    else:
        command.downgrade(cfg, revision)


# SQLSTATEs worth a retry: serialisation failure, deadlock, connection lost, server shutting down.
TRANSIENT_SQLSTATES = frozenset({"40001", "40P01", "08000", "08003", "08006", "57P01", "57P03"})


def is_transient(exc: BaseException) -> bool:
    """A database failure that the same message may not hit again a moment later: a locked or
    busy SQLite file, a dropped connection, a serialisation failure or deadlock."""
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated or isinstance(exc, OperationalError | InterfaceError):
            return True
        state = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
        return state in TRANSIENT_SQLSTATES
    return isinstance(exc, ConnectionError | TimeoutError)


def is_database_error(exc: BaseException) -> bool:
    """A bad database URL or an unreachable database, as SQLAlchemy or a driver reports it."""
    module = type(exc).__module__
    return (
        isinstance(exc, SQLAlchemyError | ConnectionError | TimeoutError)
        or module.startswith(("asyncpg", "sqlite3", "aiosqlite", "socket"))
        or (isinstance(exc, OSError) and exc.filename is None)
    )


def describe_database_error(url: str, exc: BaseException) -> str:
    """One line: which database failed, why, and how to fix it (a password is hidden)."""
    try:
        shown = make_url(url).render_as_string(hide_password=True) if url else "the database"
    except ArgumentError:
        shown = repr(url)
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        reason = str(exc.orig).splitlines()[0] if str(exc.orig) else type(exc.orig).__name__
    else:
        reason = (str(exc).splitlines() or [type(exc).__name__])[0]
    return (
        f"cannot use {shown}: {reason}. Fix --db or [database] url, e.g. "
        "sqlite:///groupbuy.db or postgresql://user@host:5432/dbname"
    )


def is_postgres(url: str) -> bool:
    return make_url(normalise_url(url)).get_backend_name() == "postgresql"


@asynccontextmanager
async def scratch_schema(url: str, tag: str) -> AsyncIterator[str]:
    """A throwaway PostgreSQL schema (for a benchmark's or a test's own tables), dropped after."""
    schema = f"{tag}_{uuid.uuid4().hex[:8]}"
    engine = create_async_engine(normalise_url(url))
    try:
        async with engine.begin() as conn:
            await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        yield schema
    finally:
        async with engine.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        await engine.dispose()


async def server_version(url: str) -> str:
    """The PostgreSQL server's version, as it reports it."""
    engine = create_async_engine(normalise_url(url))
    try:
        async with engine.connect() as conn:
            return str((await conn.execute(text("SHOW server_version"))).scalar_one())
    finally:
        await engine.dispose()
