"""Rounds and their entries and order lines: the one place that reads and writes them.

Reads build what a round needs in memory (models/rounds.py) to apply a chain post without
re-reading the database: the database is the durable record, the state a cache of it, validated
on every message by the round's `version` (bumped under the row lock). Writes are bulk
statements, then the in-memory state follows the database. Every function runs inside the
caller's transaction; a failure rolls back all of it (the dispatcher then drops the cache, so
memory never runs ahead of the database).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import astuple
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, and_, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from handlers.parsing.matching import Product, ProductMatcher
from models.money import to_fen
from models.rounds import (
    FLAG_ACCEPTED,
    EntryView,
    Limits,
    LineView,
    PostPlan,
    RoundCache,
    RoundState,
    is_held,
)
from models.store import stock
from models.store.outbox import insert_ignore
from models.tables import Entry, OrderLine, Outbox, Round, RoundProduct

# Built once (they run for every chain post that adds a line).
_INSERT_ENTRIES = insert(Entry).returning(Entry.id, sort_by_parameter_order=True)
_INSERT_LINES = insert(OrderLine)


def line_rows(round_id: int, entry_id: int, lines: Iterable[LineView]) -> list[dict[str, object]]:
    return [
        {
            "entry_id": entry_id,
            "round_id": round_id,
            "product_key": ln.product_key,
            "item_text": ln.item_text[:256] if ln.item_text else ln.item_text,
            "qty_milli": ln.qty_milli,
            "unit": ln.unit,
            "match_how": ln.match_how,
            "amount_fen": ln.amount_fen,
        }
        for ln in lines
    ]


async def write_plan(
    conn: AsyncConnection,
    state: RoundState,
    plan: PostPlan,
    *,
    sender: str,
    sender_name: str,
    message_id: str,
    now: datetime,
) -> None:
    """Apply a plan to the database and then to `state`."""
    new_lines: list[dict[str, object]] = []
    new_bits = sum(1 << (state.max_pos + n) for n in range(1, len(plan.creates) + 1))
    mask = plan.seen_mask | new_bits
    for old, _ in plan.edits:
        mask |= 1 << old.pos
    mask_hex = format(mask, "x")

    if plan.creates:
        rows = [
            {
                "round_id": state.id,
                "pos": state.max_pos + n,
                "identity": d.identity,
                "seq": d.parsed.seq,
                "name": d.name[:256],
                "poster": d.poster or sender,
                "poster_name": (d.poster_name or sender_name)[:256],
                "raw": d.parsed.raw,
                "note": d.parsed.note,
                "flags": d.flags,
                "held": is_held(d.flags),
                "status": "active",
                "source_message": message_id,
                "created_message": message_id,
                "created_at": now,
                "updated_at": now,
                "fork_noticed": False,
                "seen_mask": mask_hex,
            }
            for n, d in enumerate(plan.creates, 1)
        ]
        result = await conn.execute(_INSERT_ENTRIES, rows)
        ids = [r[0] for r in result.all()]
        for n, (entry_id, d) in enumerate(zip(ids, plan.creates, strict=True), 1):
            new_lines.extend(line_rows(state.id, entry_id, d.lines))
            view = EntryView(
                id=entry_id,
                pos=state.max_pos + n,
                identity=d.identity,
                seq=d.parsed.seq,
                name=d.name,
                poster=d.poster or sender,
                poster_name=d.poster_name or sender_name,
                status="active",
                raw=d.parsed.raw,
                flags=d.flags,
                fork_noticed=False,
                lines=tuple(d.lines),
                seen_mask=mask,
            )
            state.entries[d.identity] = view
        state.max_pos += len(plan.creates)

    if plan.edits:
        await conn.execute(
            update(Entry)
            .where(Entry.id == bindparam("b_id"))
            .values(
                identity=bindparam("b_identity"),
                seq=bindparam("b_seq"),
                name=bindparam("b_name"),
                raw=bindparam("b_raw"),
                note=bindparam("b_note"),
                flags=bindparam("b_flags"),
                held=bindparam("b_held"),
                source_message=bindparam("b_msg"),
                prev=bindparam("b_prev"),
                updated_at=bindparam("b_now"),
                seen_mask=mask_hex,
                fork_noticed=False,  # new content: no fork has dropped this version of it
            ),
            [
                {
                    "b_id": old.id,
                    "b_identity": d.identity,
                    "b_seq": d.parsed.seq,
                    "b_name": d.name[:256],
                    "b_raw": d.parsed.raw,
                    "b_note": d.parsed.note,
                    "b_flags": d.flags,
                    "b_held": is_held(d.flags),
                    "b_msg": message_id,
                    "b_prev": {
                        **version_of(old),
                        "former": [
                            [i, format(m, "x")]
                            for i, m in (*old.former, (old.identity, old.seen_mask))
                            if i != d.identity
                        ],
                    },
                    "b_now": now,
                }
                for old, d in plan.edits
            ],
        )
        await conn.execute(
            delete(OrderLine).where(OrderLine.entry_id.in_([old.id for old, _ in plan.edits]))
        )
        for old, d in plan.edits:
            new_lines.extend(line_rows(state.id, old.id, d.lines))
            del state.entries[old.identity]
            old.former = tuple(
                f for f in (*old.former, (old.identity, old.seen_mask)) if f[0] != d.identity
            )
            state.former.pop(d.identity, None)  # written again: the line's text now
            state.index_former(old)
            old.identity, old.seq, old.name, old.raw = (
                d.identity,
                d.parsed.seq,
                d.name,
                d.parsed.raw,
            )
            old.flags, old.lines, old.seen_mask = d.flags, tuple(d.lines), mask
            old.fork_noticed = False
            state.entries[d.identity] = old

    if new_lines:
        await conn.execute(_INSERT_LINES, new_lines)

    if plan.cancels:
        await set_status(
            conn, [(e, reason) for e, reason in plan.cancels], "cancelled", now, message_id
        )
    if plan.cancel_texts:
        await _remember_cancel_texts(conn, state, plan.cancel_texts, mask)
    if plan.reactivates:
        await set_status(conn, [(e, None) for e in plan.reactivates], "active", now)


async def _remember_cancel_texts(
    conn: AsyncConnection, state: RoundState, texts: Sequence[tuple[EntryView, str]], mask: int
) -> None:
    """Each withdrawn entry keeps the 取消 line that withdrew it among its former texts (kept
    in `prev` beside what an edit put there): one read and one write, on cancels only."""
    ids = [e.id for e, _ in texts]
    found = await conn.execute(select(Entry.id, Entry.prev).where(Entry.id.in_(ids)))
    stored: dict[int, dict[str, Any] | None] = {i: p for i, p in found.all()}
    rows = []
    for entry, ident in texts:
        entry.former = (*entry.former, (ident, mask))
        prev = {
            **(stored.get(entry.id) or {}),
            "former": [[i, format(m, "x")] for i, m in entry.former],
        }
        rows.append({"b_id": entry.id, "b_prev": prev})
        state.index_former(entry)
    await conn.execute(
        update(Entry).where(Entry.id == bindparam("b_id")).values(prev=bindparam("b_prev")), rows
    )


def version_of(entry: EntryView) -> dict[str, object]:
    """An entry's content before an edit, kept so a recall of the edit can put it back."""
    return {
        "identity": entry.identity,
        "seq": entry.seq,
        "name": entry.name,
        "raw": entry.raw,
        "flags": list(entry.flags),
        "lines": [list(astuple(ln)) for ln in entry.lines],  # LineView(*fields) reads it back
    }


async def set_status(
    conn: AsyncConnection,
    entries: Sequence[tuple[EntryView, str | None]],
    status: str,
    now: datetime,
    message_id: str | None = None,
) -> None:
    """Cancel or reactivate entries (one executemany), keeping the cached views in step.

    `message_id` is the message that cancelled them (a recall of it reactivates them).
    """
    await conn.execute(
        update(Entry)
        .where(Entry.id == bindparam("b_id"))
        .values(
            status=status,
            cancelled_at=now if status == "cancelled" else None,
            cancel_reason=bindparam("b_reason"),
            cancel_message=message_id if status == "cancelled" else None,
            updated_at=now,
        ),
        [{"b_id": e.id, "b_reason": reason} for e, reason in entries],
    )
    for e, _ in entries:
        e.status = status


async def mark_fork_noticed(conn: AsyncConnection, entries: Sequence[EntryView]) -> None:
    await conn.execute(
        update(Entry).where(Entry.id.in_([e.id for e in entries])).values(fork_noticed=True)
    )
    for e in entries:
        e.fork_noticed = True


async def open_round(
    conn: AsyncConnection,
    cache: RoundCache,
    *,
    room: str,
    title: str,
    header: str,
    products: Sequence[Product],
    opened_by: str,
    head_message_id: str | None,
    now: datetime,
    cutoff_at: datetime | None,
    limits: dict[str, Limits] | None = None,
    deal_key: str | None = None,
) -> RoundState | None:
    """Create a round and its products; the new state goes straight into the cache.

    For a platform deal, None when the room already has that deal's round (the unique index
    decides between two processes racing to post it).
    """
    limits = limits or {}
    result = await conn.execute(
        insert_ignore(conn)(Round)
        .on_conflict_do_nothing(index_elements=["deal_key", "room"])
        .returning(Round.id),
        {
            "room": room,
            "title": title,
            "header": header,
            "status": "open",
            "opened_by": opened_by,
            "opened_at": now,
            "cutoff_at": cutoff_at,
            "head_message_id": head_message_id,
            "version": 1,
            "deal_key": deal_key,
        },
    )
    round_id = result.scalar_one_or_none()
    if round_id is None:
        return None
    if products:
        await conn.execute(
            insert(RoundProduct),
            [
                {
                    "round_id": round_id,
                    "key": p.key,
                    "code": p.code,
                    "name": p.name,
                    "aliases": list(p.aliases),
                    "price_fen": to_fen(p.price) if p.price is not None else None,
                    "sale_unit": p.sale_unit,
                    "position": i,
                    "limit_milli": limits.get(p.key, Limits()).limit_milli,
                    "stock_milli": limits.get(p.key, Limits()).stock_milli,
                    "min_milli": limits.get(p.key, Limits()).min_milli,
                }
                for i, p in enumerate(products)
            ],
        )
    state = RoundState(
        id=round_id,
        room=room,
        title=title,
        header=header,
        status="open",
        cutoff_at=cutoff_at,
        version=1,
        products=tuple(products),
        matcher=ProductMatcher(products),
        limits={k: v for k, v in limits.items() if v != Limits()},
        deal_key=deal_key,
    )
    if deal_key is not None:
        state.stock_left = (await stock.left(conn, [deal_key])).get(deal_key, {})
    cache.put(state)
    return state


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
            deal_key=row.deal_key,
            unshipped=frozenset(r.key for r in prows if r.shipped is False),
        )
    deals = [s.deal_key for s in states.values() if s.deal_key is not None]
    if deals:  # only rounds of platform deals share a stock counter
        shared = await stock.left(conn, deals)
        for s in states.values():
            if s.deal_key is not None:
                s.stock_left = s.shared_stock(shared.get(s.deal_key, {}))
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
                Entry.prev,
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
            former=tuple(
                (str(i), int(m, 16)) for i, m in (e.prev or {}).get("former", ()) if i != e.identity
            ),
        )
        state.index_former(state.entries[e.identity])
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
    return [
        await _locked(conn, cache, round_id, version)
        for round_id, version in sorted(result.all(), reverse=True)
    ]


async def _locked(
    conn: AsyncConnection, cache: RoundCache, round_id: int, version: int
) -> RoundState:
    """The state of a round this transaction has just locked (and bumped to `version`)."""
    state = cache.get(round_id)
    if state is None or state.version != version - 1:
        row = (await conn.execute(select(Round).where(Round.id == round_id))).one()
        state = await load_round(conn, row)
        state.pending_merge_id = await pending_merge_id(conn, round_id)
        cache.put(state)
    state.version = version
    return state


_LOCK_LATEST_CLOSED = (
    update(Round)
    .where(
        Round.id
        == select(func.max(Round.id))
        .where(Round.room == bindparam("b_room"), Round.status == "closed")
        .scalar_subquery()
    )
    .values(version=Round.version + 1)
    .returning(Round.id, Round.version)
)


async def lock_latest_closed(
    conn: AsyncConnection, cache: RoundCache, room: str
) -> RoundState | None:
    """The room's most recently closed round, locked for a change to its money (缺货, 退款,
    收款): a second such command, in this process or another, waits for this transaction and
    then reads what it wrote, so a shortage or a refund is never counted twice."""
    row = (await conn.execute(_LOCK_LATEST_CLOSED, {"b_room": room})).one_or_none()
    return await _locked(conn, cache, row[0], row[1]) if row is not None else None


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
    closed = await recent_closed_rounds(conn, cache, room, limit=1)
    return closed[0] if closed else None


async def recent_closed_rounds(
    conn: AsyncConnection, cache: RoundCache, room: str, *, limit: int = 5
) -> list[RoundState]:
    """The room's most recently closed rounds, newest first, read-only: a late copy of one
    of two chains closed together at 22:00 belongs to its own, not to the newest."""
    rows = (
        await conn.execute(
            select(Round)
            .where(Round.room == room, Round.status == "closed")
            .order_by(Round.id.desc())
            .limit(limit)
        )
    ).all()
    states: list[RoundState] = []
    for row in rows:
        state = cache.get(row.id)
        if state is None or state.version != row.version:
            state = await load_round(conn, row)
            cache.put(state)
        states.append(state)
    return states


async def touched_by(conn: AsyncConnection, room: str, message_id: str) -> Sequence[Row[Any]]:
    """The room's entries a message wrote (its current version) or cancelled."""
    return (
        await conn.execute(
            select(
                Entry.id,
                Entry.round_id,
                Entry.status,
                Entry.raw,
                Entry.source_message,
                Entry.created_message,
                Entry.cancel_message,
                Entry.prev,
            ).where(
                or_(Entry.source_message == message_id, Entry.cancel_message == message_id),
                Entry.round_id.in_(select(Round.id).where(Round.room == room)),
            )
        )
    ).all()


async def accept(conn: AsyncConnection, entries: Sequence[EntryView]) -> None:
    """The leader accepts lines as read: they count from now on."""
    for e in entries:
        e.flags = sorted({*e.flags, FLAG_ACCEPTED})
    await conn.execute(
        update(Entry)
        .where(Entry.id == bindparam("b_id"))
        .values(flags=bindparam("b_flags"), held=False),
        [{"b_id": e.id, "b_flags": e.flags} for e in entries],
    )


async def put_back(
    conn: AsyncConnection,
    entry_id: int,
    round_id: int,
    prev: dict[str, Any],
    created: str | None,
    now: datetime,
) -> None:
    """Restore the version an edit replaced: its text, number, name, flags and order lines."""
    await conn.execute(
        update(Entry)
        .where(Entry.id == entry_id)
        .values(
            identity=prev["identity"],
            seq=prev.get("seq"),
            name=prev.get("name", ""),
            raw=prev.get("raw", ""),
            flags=prev.get("flags", []),
            held=is_held(prev.get("flags", [])),
            source_message=created or "",
            prev=None,
            updated_at=now,
        )
    )
    await conn.execute(delete(OrderLine).where(OrderLine.entry_id == entry_id))
    lines = [LineView(*ln) for ln in prev.get("lines") or []]
    if lines:
        await conn.execute(insert(OrderLine), line_rows(round_id, entry_id, lines))


async def rounds_of_deals(conn: AsyncConnection, keys: list[str]) -> set[tuple[str, str]]:
    """(deal key, room) of every round already opened for these deals."""
    rows = await conn.execute(select(Round.deal_key, Round.room).where(Round.deal_key.in_(keys)))
    return {(str(k), str(room)) for k, room in rows.all()}


async def close_open(
    conn: AsyncConnection, ids: list[int], now: datetime
) -> Sequence[Row[int, str, str, int]]:
    """Close those of the rounds still open: (id, room, title, version) of each one this
    call closed.

    One conditional UPDATE … RETURNING: whichever process or trigger gets there first closes a
    round, the others change nothing. The version names this close (a round reopened with
    `重开` closes again under a new one). A merged chain still waiting to go out is dropped:
    after cutoff nobody should copy the chain.
    """
    closed = (
        await conn.execute(
            update(Round)
            .where(Round.id.in_(ids), Round.status == "open")
            .values(status="closed", closed_at=now, version=Round.version + 1)
            .returning(Round.id, Round.room, Round.title, Round.version)
        )
    ).all()
    if closed:  # one statement for the batch: a query per round scanned the pending outbox
        merged = [  # each round's `merged:<id>:…` keys, as a range of the unique key's index
            and_(Outbox.dedupe_key >= f"merged:{rid}:", Outbox.dedupe_key < f"merged:{rid};")
            for rid, *_ in closed
        ]
        await conn.execute(
            update(Outbox).where(or_(*merged), Outbox.status == "pending").values(status="dropped")
        )
    return closed


async def with_minimum(conn: AsyncConnection, ids: list[int]) -> list[int]:
    """Those of the rounds with a 成团 minimum on some product."""
    return list(
        (
            await conn.execute(
                select(RoundProduct.round_id)
                .where(RoundProduct.round_id.in_(ids), RoundProduct.min_milli.is_not(None))
                .distinct()
            )
        )
        .scalars()
        .all()
    )


async def load_rounds_by_id(conn: AsyncConnection, ids: list[int]) -> list[RoundState]:
    rows = (await conn.execute(select(Round).where(Round.id.in_(ids)).order_by(Round.id))).all()
    return await load_rounds(conn, rows)


async def mark_unshipped(conn: AsyncConnection, round_id: int, keys: list[str]) -> set[str]:
    """未成团: these products of the round do not ship; returns those this call marked (a
    second close after 重开 finds them marked already and gives no stock back twice)."""
    result = await conn.execute(
        update(RoundProduct)
        .where(
            RoundProduct.round_id == round_id,
            RoundProduct.key.in_(keys),
            RoundProduct.shipped.is_not(False),
        )
        .values(shipped=False)
        .returning(RoundProduct.key)
    )
    return set(result.scalars().all())


async def due_for_cutoff(conn: AsyncConnection, now: datetime) -> list[int]:
    """Open rounds whose cutoff has passed, earliest first."""
    return list(
        (
            await conn.execute(
                select(Round.id)
                .where(Round.status == "open", Round.cutoff_at <= now)
                .order_by(Round.cutoff_at, Round.id)
            )
        )
        .scalars()
        .all()
    )


async def set_cutoff(conn: AsyncConnection, ids: list[int], when: datetime) -> None:
    await conn.execute(update(Round).where(Round.id.in_(ids)).values(cutoff_at=when))


async def reopen(conn: AsyncConnection, round_id: int, until: datetime | None) -> bool:
    """Reopen a closed round whose goods have not arrived; False otherwise."""
    result = await conn.execute(
        update(Round)
        .where(Round.id == round_id, Round.status == "closed", Round.arrived_at.is_(None))
        .values(status="open", closed_at=None, cutoff_at=until, version=Round.version + 1)
    )
    return bool(result.rowcount)
