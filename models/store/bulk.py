"""Rows written as they are, one executemany per table: for the benchmark's synthetic day.

Nothing in the running bot uses this; its writes go through the repositories' own functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from models.tables import Entry, OrderLine, Round, RoundProduct

TABLES: dict[str, Any] = {
    "rounds": Round,
    "round_products": RoundProduct,
    "entries": Entry,
    "order_lines": OrderLine,
}


async def insert_rows(conn: AsyncConnection, table: str, rows: Sequence[dict[str, Any]]) -> None:
    await conn.execute(insert(TABLES[table]), list(rows))
