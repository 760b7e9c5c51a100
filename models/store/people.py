"""What people are called: the display name of each contact's latest message.

Nothing extra is written per message: every inbound message is stored with its sender's
display name anyway, so the newest one is the name people know them by now (a rename shows
from their next message on). Contact ids stay the key everywhere else; this is for people.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from models.tables import InboundMessage


async def display_names(conn: AsyncConnection, contacts: Iterable[str]) -> dict[str, str]:
    """Contact id → the display name of their latest message with one (one query)."""
    ids = sorted(set(contacts))
    if not ids:
        return {}
    latest = (
        select(func.max(InboundMessage.id))
        .where(InboundMessage.sender.in_(ids), InboundMessage.sender_name != "")
        .group_by(InboundMessage.sender)
    )
    rows = await conn.execute(
        select(InboundMessage.sender, InboundMessage.sender_name).where(
            InboundMessage.id.in_(latest)
        )
    )
    return {sender: name for sender, name in rows.all()}
