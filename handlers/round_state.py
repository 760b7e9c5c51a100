"""What a round needs in memory to apply a chain post without re-reading the database.

The database is the durable record; this is a cache of it, validated on every message by the
round's `version` (bumped under the row lock). A post is then one lock, a diff in memory and a
few bulk writes: the number of database round trips per message does not grow with the chain.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from handlers.identity import normalise
from handlers.parsing.matching import Product, ProductMatcher
from models.tables import Entry, OrderLine, Outbox, Round, RoundProduct


@dataclass(frozen=True, slots=True)
class LineView:
    """One ordered product of an entry: matched product key (or None), text, exact quantity."""

    product_key: str | None
    item_text: str | None
    qty_milli: int
    unit: str | None
    match_how: str | None = None
    amount_fen: int | None = None  # exact price in fen; None when it cannot be priced


@dataclass(frozen=True, slots=True)
class Limits:
    """A product's limits in thousandths of a unit of sale; None means no limit."""

    limit_milli: int | None = None  # per person
    stock_milli: int | None = None  # for the whole round
    min_milli: int | None = None  # 成团 minimum, decided at cutoff


@dataclass(slots=True)
class EntryView:
    id: int
    pos: int
    identity: str
    seq: int | None
    name: str
    poster: str
    poster_name: str
    status: str
    raw: str
    flags: list[str]
    fork_noticed: bool
    lines: tuple[LineView, ...] = ()
    seen_mask: int = 0  # bit n set: the post that wrote this line carried the entry at pos n

    @property
    def active(self) -> bool:
        return self.status == "active"

    @property
    def name_key(self) -> str:
        return normalise(self.name)


@dataclass(slots=True)
class RoundState:
    id: int
    room: str
    title: str
    header: str
    status: str
    cutoff_at: datetime | None
    version: int
    products: tuple[Product, ...]
    matcher: ProductMatcher
    entries: dict[str, EntryView] = field(default_factory=dict)
    max_pos: int = 0
    pending_merge_id: int | None = None  # outbox row of a merged chain not yet sent
    limits: dict[str, Limits] = field(default_factory=dict)

    @property
    def title_key(self) -> str:
        return normalise(self.title)

    def product(self, key: str | None) -> Product | None:
        if key is None:
            return None
        return next((p for p in self.products if p.key == key), None)

    def active_entries(self) -> list[EntryView]:
        return sorted((e for e in self.entries.values() if e.active), key=lambda e: e.pos)


def title_of(header: str) -> str:
    """The line that names a chain: the first header line with words, #接龙 removed."""
    for line in header.splitlines():
        text = line.replace("#接龙", "").replace("＃接龙", "").strip()
        if normalise(text):
            return text[:500]
    return ""


def products_from_rows(rows: Sequence[Row[Any]]) -> tuple[Product, ...]:
    return tuple(
        Product(
            key=r.key,
            name=r.name,
            code=r.code,
            aliases=tuple(r.aliases or ()),
            price=Decimal(r.price_fen) / 100 if r.price_fen is not None else None,
            sale_unit=r.sale_unit,
        )
        for r in sorted(rows, key=lambda r: r.position)
    )


class RoundCache:
    """Round states by id, least recently used evicted first."""

    def __init__(self, capacity: int = 2000) -> None:
        self.capacity = capacity
        self._states: OrderedDict[int, RoundState] = OrderedDict()

    def get(self, round_id: int) -> RoundState | None:
        state = self._states.get(round_id)
        if state is not None:
            self._states.move_to_end(round_id)
        return state

    def put(self, state: RoundState) -> None:
        self._states[state.id] = state
        self._states.move_to_end(state.id)
        while len(self._states) > self.capacity:
            self._states.popitem(last=False)

    def drop(self, round_id: int) -> None:
        self._states.pop(round_id, None)

    def clear(self) -> None:
        self._states.clear()


async def load_round(conn: AsyncConnection, row: Row[Any]) -> RoundState:
    """Read one round's products, entries and order lines; `row` is a rounds row."""
    return (await load_rounds(conn, [row]))[0]


async def load_rounds(conn: AsyncConnection, rows: Sequence[Row[Any]]) -> list[RoundState]:
    """Read many rounds in three queries in all (products, order lines, entries), so closing
    hundreds of rounds at 22:00 costs three round trips, not three per round."""
    ids = [r.id for r in rows]
    prows_by: dict[int, list[Row[Any]]] = {i: [] for i in ids}
    for p in (await conn.execute(select(RoundProduct).where(RoundProduct.round_id.in_(ids)))).all():
        prows_by[p.round_id].append(p)
    states: dict[int, RoundState] = {}
    for row in rows:
        prows = prows_by[row.id]
        products = products_from_rows(prows)
        states[row.id] = RoundState(
            id=row.id,
            room=row.room,
            title=row.title,
            header=row.header,
            status=row.status,
            cutoff_at=row.cutoff_at,
            version=row.version,
            products=products,
            matcher=ProductMatcher(products),
            limits={
                r.key: Limits(r.limit_milli, r.stock_milli, r.min_milli)
                for r in prows
                if r.limit_milli or r.stock_milli or r.min_milli
            },
        )
    lines: dict[int, list[LineView]] = {}
    for ln in (
        await conn.execute(
            select(
                OrderLine.entry_id,
                OrderLine.product_key,
                OrderLine.item_text,
                OrderLine.qty_milli,
                OrderLine.unit,
                OrderLine.match_how,
                OrderLine.amount_fen,
            )
            .where(OrderLine.round_id.in_(ids))
            .order_by(OrderLine.id)
        )
    ).all():
        lines.setdefault(ln.entry_id, []).append(
            LineView(
                ln.product_key, ln.item_text, ln.qty_milli, ln.unit, ln.match_how, ln.amount_fen
            )
        )
    for e in (
        await conn.execute(
            select(
                Entry.round_id,
                Entry.id,
                Entry.pos,
                Entry.identity,
                Entry.seq,
                Entry.name,
                Entry.poster,
                Entry.poster_name,
                Entry.status,
                Entry.raw,
                Entry.flags,
                Entry.fork_noticed,
                Entry.seen_mask,
            ).where(Entry.round_id.in_(ids))
        )
    ).all():
        state = states[e.round_id]
        state.entries[e.identity] = EntryView(
            id=e.id,
            pos=e.pos,
            identity=e.identity,
            seq=e.seq,
            name=e.name,
            poster=e.poster,
            poster_name=e.poster_name,
            status=e.status,
            raw=e.raw,
            flags=list(e.flags or ()),
            fork_noticed=e.fork_noticed,
            lines=tuple(lines.get(e.id, ())),
            seen_mask=int(e.seen_mask or "0", 16),
        )
        state.max_pos = max(state.max_pos, e.pos)
    return [states[i] for i in ids]


# Built once: this runs for every chain post, and building it costs more than running it.
_LOCK_ROUNDS = (
    update(Round)
    .where(
        Round.room == bindparam("b_room"),
        Round.status.in_(bindparam("b_statuses", expanding=True)),
    )
    .values(version=Round.version + 1)
    .returning(Round.id, Round.version)
)


async def lock_rounds(
    conn: AsyncConnection, cache: RoundCache, room: str, *, statuses: tuple[str, ...] = ("open",)
) -> list[RoundState]:
    """Lock the room's rounds in the given statuses and return fresh states, newest first.

    One UPDATE … RETURNING both bumps the versions (taking the row locks on PostgreSQL; on
    SQLite the transaction already holds the write lock) and tells which cached states are
    stale: a cached version one below the returned one is current; anything else is reloaded.
    """
    result = await conn.execute(_LOCK_ROUNDS, {"b_room": room, "b_statuses": list(statuses)})
    states: list[RoundState] = []
    for round_id, version in sorted(result.all(), reverse=True):
        state = cache.get(round_id)
        if state is None or state.version != version - 1:
            row = (await conn.execute(select(Round).where(Round.id == round_id))).one()
            state = await load_round(conn, row)
            state.pending_merge_id = await pending_merge_id(conn, round_id)
            cache.put(state)
        state.version = version
        states.append(state)
    return states


async def pending_merge_id(conn: AsyncConnection, round_id: int) -> int | None:
    """The round's merged chain still waiting in the outbox, if any.

    Memory alone is not enough: after a restart, or when another process wrote the round, the
    next post must still refresh that message rather than queue a second one. The range on the
    unique dedupe key (`merged:<round>:…`) is an index scan on both databases.
    """
    return (
        await conn.execute(
            select(Outbox.id)
            .where(
                Outbox.dedupe_key >= f"merged:{round_id}:",
                Outbox.dedupe_key < f"merged:{round_id};",
                Outbox.status == "pending",
            )
            .order_by(Outbox.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()


async def latest_closed_round(
    conn: AsyncConnection, cache: RoundCache, room: str
) -> RoundState | None:
    """The room's most recently closed round (for answering late posts), read-only."""
    row = (
        await conn.execute(
            select(Round)
            .where(Round.room == room, Round.status == "closed")
            .order_by(Round.id.desc())
            .limit(1)
        )
    ).one_or_none()
    if row is None:
        return None
    state = cache.get(row.id)
    if state is None or state.version != row.version:
        state = await load_round(conn, row)
        cache.put(state)
    return state
