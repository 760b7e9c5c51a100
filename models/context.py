"""What a handler gets: the message, one open transaction, the clock, config, the groups and
a reply list.

Handlers never send. They append OutgoingMessage objects to `replies`; the dispatcher writes
them to the outbox in the same transaction, so an effect and its announcement commit together.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from models.clock import Clock
from models.config import Config
from models.db import Conn
from models.messages import ChatMessage, OutgoingMessage
from models.store.groups import Groups


@dataclass(slots=True)
class Context:
    msg: ChatMessage
    conn: Conn
    config: Config
    clock: Clock
    groups: Groups  # the App's live map of the groups it serves
    replies: list[OutgoingMessage] = field(default_factory=list)

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
