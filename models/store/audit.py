"""The audit log: every command, who said it, in what role, and whether it was allowed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from models.messages import ChatMessage
from models.tables import AuditLog


async def record(
    conn: AsyncConnection,
    msg: ChatMessage,
    now: datetime,
    *,
    verb: str,
    args: Sequence[str],
    role: str,
    allowed: bool,
) -> None:
    await conn.execute(
        insert(AuditLog).values(
            ts=now,
            room=msg.room,
            actor=msg.sender,
            actor_name=msg.sender_name[:256],
            verb=verb,
            args=list(args),
            role=role,
            allowed=allowed,
            message_id=msg.id[:128],
        )
    )


async def pushed_deals(conn: AsyncConnection, keys: set[str], now: datetime) -> set[str]:
    """Which of these not-yet-due deals an admin pushed (an allowed `推送 <key>`) by `now`."""
    if not keys:
        return set()
    rows = await conn.execute(
        select(AuditLog.args).where(
            AuditLog.verb == "推送", AuditLog.allowed.is_(True), AuditLog.ts <= now
        )
    )
    return {str(args[0]) for (args,) in rows.all() if args and str(args[0]) in keys}
