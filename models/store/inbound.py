"""Every inbound message, stored raw before anything reads it: the dedupe and the record.

A message id seen before is refused by the unique index (so is the same group message seen by
a second bot account, by its fingerprint); a recall marks the message it recalls.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from models.messages import ChatMessage
from models.store.outbox import insert_ignore
from models.tables import InboundMessage

MAX_TEXT = 200_000  # characters kept of one message; WeChat caps text far below this


def fingerprint(msg: ChatMessage) -> str | None:
    """Room, sender, second and text: equal for one group message seen by two bot accounts
    (each gets its own platform id). Private chats are per account, so they have none."""
    if msg.room is None or msg.kind == "recall":
        return None
    key = "\x1f".join((msg.room, msg.sender, str(int(msg.ts.timestamp())), msg.kind, msg.text))
    return hashlib.sha1(key.encode("utf-8", "surrogatepass")).hexdigest()


_STORE: dict[str, Any] = {}


def _store_stmt(conn: AsyncConnection) -> Any:
    """INSERT … ON CONFLICT DO NOTHING RETURNING id, built once per dialect (hot path)."""
    stmt = _STORE.get(conn.dialect.name)
    if stmt is None:
        stmt = _STORE[conn.dialect.name] = (
            insert_ignore(conn)(InboundMessage)
            .on_conflict_do_nothing()  # a known platform id, or a known fingerprint
            .returning(InboundMessage.id)
        )
    return stmt


async def store_raw(
    conn: AsyncConnection, msg: ChatMessage, *, status: str, error: str | None = None
) -> bool:
    """Store the message; False when it was seen before (nothing else must happen then)."""
    params = {
        "platform_id": msg.id[:128],
        "room": msg.room,
        "sender": msg.sender[:128],
        "sender_name": msg.sender_name[:256],
        "text": msg.text[:MAX_TEXT],
        "kind": msg.kind,
        "ts": msg.ts,
        "status": status,
        "error": error,
        "fingerprint": fingerprint(msg),
    }
    return (await conn.execute(_store_stmt(conn), params)).scalar_one_or_none() is not None


async def mark_recalled(conn: AsyncConnection, platform_id: str) -> bool:
    """Mark a stored message recalled; False when it has not arrived (yet)."""
    marked = await conn.execute(
        update(InboundMessage)
        .where(InboundMessage.platform_id == platform_id)
        .values(status="recalled")
    )
    return bool(marked.rowcount)


async def leave_recall_marker(conn: AsyncConnection, recall: ChatMessage, recalled: str) -> None:
    """Keep a recalled message's id before it arrives, so it is a duplicate when it does."""
    await conn.execute(
        insert_ignore(conn)(InboundMessage)
        .values(
            platform_id=recalled,
            room=recall.room,
            sender=recall.sender[:128],
            sender_name=recall.sender_name[:256],
            text="",
            kind="recalled",
            ts=recall.ts,
            status="recalled",
        )
        .on_conflict_do_nothing(index_elements=["platform_id"])
    )


async def known_names(conn: AsyncConnection, room: str | None, ids: set[str]) -> dict[str, str]:
    """The display names these contacts last used in this room (one query)."""
    if not ids or room is None:
        return {}
    rows = await conn.execute(
        select(InboundMessage.sender, func.max(InboundMessage.sender_name))
        .where(InboundMessage.room == room, InboundMessage.sender.in_(ids))
        .group_by(InboundMessage.sender)
    )
    return {sender: name for sender, name in rows.all() if name}
