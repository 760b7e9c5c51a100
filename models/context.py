"""What a handler gets: the message, one open transaction, the clock, config and a reply list.

Handlers never send. They append OutgoingMessage objects to `replies`; the dispatcher writes
them to the outbox in the same transaction, so an effect and its announcement commit together.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from models.clock import Clock
from models.config import Config
from models.deals import Deal
from models.messages import ChatMessage, OutgoingMessage


@dataclass(slots=True)
class Context:
    msg: ChatMessage
    conn: AsyncConnection
    config: Config
    clock: Clock
    replies: list[OutgoingMessage] = field(default_factory=list)
    deals: list[Deal] = field(default_factory=list)  # the app's deals (admins push from it)

    @property
    def now(self) -> datetime:
        return self.clock.now()

    def reply(self, key: str, text: str, *, mention: bool = False, private: bool = False) -> None:
        """Queue a reply to the message's room (or privately to its sender).

        `key` names the reply's cause; it is made unique per inbound message unless it already
        names something that must be said only once (those keys start with "once:").
        """
        dedupe = key if key.startswith("once:") else f"{key}:{self.msg.id}"
        room = None if private else self.msg.room
        self.replies.append(
            OutgoingMessage(
                dedupe_key=dedupe,
                room=room,
                to=self.msg.sender if room is None else None,
                text=text,
                mentions=(self.msg.sender,) if mention and room is not None else (),
            )
        )

    def say(self, out: OutgoingMessage) -> None:
        self.replies.append(out)
