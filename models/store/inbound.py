"""Every inbound message, stored raw before anything reads it: the dedupe and the record.

A message id seen before is refused by the unique index (so is the same group message seen by
a second bot account, by its fingerprint); a recall marks the message it recalls.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from models.messages import ChatMessage
from models.store.outbox import insert_ignore
from models.tables import InboundMessage

MAX_TEXT = 1_000_000  # characters kept of one message (WeChat caps text far below this); the
# parser reads the first 200,000 (handlers/router.py) and tells the poster what it did not read


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


def _same_message(msg: ChatMessage) -> Any:
    """The stored row this message is a copy of: its platform id, or its fingerprint."""
    fp = fingerprint(msg)
    by_id = InboundMessage.platform_id == msg.id[:128]
    return by_id if fp is None else or_(by_id, InboundMessage.fingerprint == fp)


async def take_over(conn: AsyncConnection, msg: ChatMessage) -> int | None:
    """Whether a message whose copy is already stored is to be handled after all; None when
    it is a plain duplicate.

    Two stored rows do not make it a duplicate:
    - a failed handling (status `error`): it is marked handled in the caller's transaction (a
      second failure rolls that back too) and its count of failures is returned;
    - a recall marker left by someone else, or from another room: only the sender's own
      recall, in the same room, keeps a late message out. The row becomes the message (0).
    """
    rows = (
        await conn.execute(
            select(
                InboundMessage.id,
                InboundMessage.platform_id,
                InboundMessage.status,
                InboundMessage.kind,
                InboundMessage.sender,
                InboundMessage.room,
                InboundMessage.attempts,
            ).where(_same_message(msg))
        )
    ).all()
    failed = next((r for r in rows if r.status == "error"), None)
    if failed is not None:
        await conn.execute(
            update(InboundMessage)
            .where(InboundMessage.id == failed.id)
            .values(status="handled", error=None)
        )
        return int(failed.attempts)
    if len(rows) != 1:
        return None
    marker = rows[0]
    forged = marker.kind == "recalled" and (
        marker.sender != msg.sender[:128] or marker.room != msg.room
    )
    if not forged or marker.platform_id != msg.id[:128]:
        return None
    await conn.execute(
        update(InboundMessage)
        .where(InboundMessage.id == marker.id)
        .values(
            room=msg.room,
            sender=msg.sender[:128],
            sender_name=msg.sender_name[:256],
            text=msg.text[:MAX_TEXT],
            kind=msg.kind,
            ts=msg.ts,
            status="handled",
            fingerprint=fingerprint(msg),
        )
    )
    return 0


async def record_failure(conn: AsyncConnection, msg: ChatMessage, error: str) -> int:
    """Store the message with status `error` (or count one more failure); returns the count."""
    if await store_raw(conn, msg, status="error", error=error):
        await conn.execute(
            update(InboundMessage)
            .where(InboundMessage.platform_id == msg.id[:128])
            .values(attempts=1)
        )
        return 1
    row = (
        await conn.execute(
            update(InboundMessage)
            .where(_same_message(msg), InboundMessage.status == "error")
            .values(attempts=InboundMessage.attempts + 1, error=error)
            .returning(InboundMessage.attempts)
        )
    ).first()
    return int(row[0]) if row is not None else 0


async def failed_messages(conn: AsyncConnection, limit: int = 1000) -> list[ChatMessage]:
    """Stored messages whose handling failed, oldest first, rebuilt to be handled again.

    Mentions are not stored; a command that needs one is answered as if it had none."""
    rows = await conn.execute(
        select(InboundMessage)
        .where(InboundMessage.status == "error")
        .order_by(InboundMessage.id)
        .limit(limit)
    )
    return [
        ChatMessage(
            id=r.platform_id,
            room=r.room,
            sender=r.sender,
            sender_name=r.sender_name,
            text=r.text,
            ts=r.ts,
            kind=r.kind,
        )
        for r in rows.all()
    ]


async def mark_recalled(conn: AsyncConnection, recall: ChatMessage, platform_id: str) -> str:
    """Mark a stored message recalled, if `recall` comes from its sender in its room.

    Returns "recalled", "absent" (it has not arrived yet) or "refused" (someone else's
    message, or another room's: a recall names a message id, which anyone can write)."""
    marked = await conn.execute(
        update(InboundMessage)
        .where(
            InboundMessage.platform_id == platform_id,
            InboundMessage.sender == recall.sender[:128],
            InboundMessage.room == recall.room,
            InboundMessage.kind != "recalled",
        )
        .values(status="recalled")
    )
    if marked.rowcount:
        return "recalled"
    known = await conn.execute(
        select(InboundMessage.id).where(InboundMessage.platform_id == platform_id).limit(1)
    )
    return "refused" if known.first() is not None else "absent"


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
