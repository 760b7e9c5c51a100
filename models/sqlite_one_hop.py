"""SQLite statements in one thread hop instead of four.

aiosqlite runs the sqlite3 connection in its own thread; every call crosses to it and back
(~160 µs on this machine). SQLAlchemy's aiosqlite adapter makes four crossings per statement:
open a cursor, execute, fetch the rows, close the cursor. This cursor does all four inside the
aiosqlite thread as one queued call, through the same queue SQLAlchemy's adapter already uses
for setting the isolation level. A chain post's transaction went from ~18 crossings to 5
(raw row, round lock, entries, order lines, commit; tests/test_round_trips.py counts them).

Only plain (client-side) cursors change; server-side cursors, connections and transactions
stay SQLAlchemy's own. If aiosqlite ever stops exposing its queue, `install` leaves the stock
adapter in place.
"""

from __future__ import annotations

import collections
import sqlite3
from typing import Any

from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
)
from sqlalchemy.util.concurrency import await_


def _run(
    raw: sqlite3.Connection, operation: str, parameters: Any, many: bool
) -> tuple[Any, int, int | None, list[Any]]:
    """In the aiosqlite thread: execute, read everything, close. One crossing."""
    cursor = raw.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return description, cursor.rowcount, cursor.lastrowid, rows
    finally:
        cursor.close()


class OneHopCursor(AsyncAdapt_aiosqlite_cursor):
    """Results are read in full in the worker thread and served from memory."""

    __slots__ = ("_description", "_lastrowid", "_rowcount")

    def __init__(self, adapt_connection: Any) -> None:  # no cursor opened here: no hop
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]
        self._soft_closed_memoized = {}  # type: ignore[assignment]
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> int:
        return self._lastrowid  # type: ignore[return-value]

    async def _call(self, operation: Any, parameters: Any, many: bool) -> None:
        async with self._adapt_connection._execute_mutex:
            description, rowcount, lastrowid, rows = await self._connection._execute(
                _run, self._connection._conn, operation, parameters, many
            )
        self._description, self._rowcount, self._lastrowid = description, rowcount, lastrowid
        self._rows = collections.deque(rows)

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        try:
            await_(self._call(operation, parameters, False))
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    def executemany(self, operation: Any, seq_of_parameters: Any) -> Any:
        try:
            await_(self._call(operation, seq_of_parameters, True))
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    async def _async_soft_close(self) -> None:
        return None  # nothing is open in the worker thread

    def close(self) -> None:
        self._rows.clear()


class OneHopConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls = OneHopCursor


def install(dbapi_connection: Any) -> None:
    """Switch one new pooled connection to the one-hop cursor (a `connect` event hook)."""
    aio = getattr(dbapi_connection, "_connection", None)
    if (
        type(dbapi_connection) is AsyncAdapt_aiosqlite_connection
        and hasattr(aio, "_execute")
        and hasattr(aio, "_conn")
    ):
        dbapi_connection.__class__ = OneHopConnection
