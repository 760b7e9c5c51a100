"""Writing a round's changes: bulk statements, then the in-memory state follows the database.

Every function here runs inside the message's one transaction; a failure rolls back all of it
(the dispatcher then drops the cache, so memory never runs ahead of the database).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import astuple
from datetime import datetime

from sqlalchemy import bindparam, delete, insert, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.outbox import insert_ignore
from handlers.chain_plan import PostPlan
from handlers.parsing.chain_parser import parse_menu
from handlers.parsing.matching import Product, ProductMatcher
from handlers.pricing import to_fen
from handlers.round_state import EntryView, Limits, LineView, RoundCache, RoundState
from models.tables import Entry, OrderLine, Round, RoundProduct

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
                    "b_msg": message_id,
                    "b_prev": version_of(old),
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
    if plan.reactivates:
        await set_status(conn, [(e, None) for e in plan.reactivates], "active", now)


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


def products_for_head(header: str, catalogue: Sequence[Product]) -> tuple[Product, ...]:
    """A round's products: the head's own menu when it has one, else the configured catalogue."""
    menu = parse_menu(header)
    if not menu:
        return tuple(catalogue)
    products: list[Product] = []
    seen: set[str] = set()
    for line in menu:
        p = Product.from_menu(line)
        key = p.key
        n = 2
        while key in seen:  # two menu lines with one code: keep both, distinct keys
            key = f"{p.key}~{n}"
            n += 1
        seen.add(key)
        products.append(
            Product(
                key=key,
                name=p.name,
                code=p.code,
                aliases=p.aliases,
                price=p.price,
                sale_unit=p.sale_unit,
            )
        )
    return tuple(products)


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
    )
    cache.put(state)
    return state
