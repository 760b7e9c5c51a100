"""Our own chat message types: adapters convert to and from these, handlers see nothing else."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """One inbound message. `room` is None for a private chat with the bot.

    `id` is the platform's message id: it is the dedupe key, so a redelivered message changes
    nothing. `ts` is timezone-aware. `kind` says what the adapter received:
    - "text": what a person typed (chains, commands, chat);
    - "app": a platform app message as its XML (WeChat's native 接龙 is one); adapters set
      this, never a typed message, so nobody can forge a native chain's authors by typing XML;
    - "recall": the sender recalled (撤回) a message; `text` is that message's `id`;
    - anything else ("image", "file", …) is stored and not read.
    """

    id: str
    room: str | None
    sender: str
    sender_name: str
    text: str
    ts: datetime
    mentions: tuple[str, ...] = ()
    kind: str = "text"

    def __post_init__(self) -> None:
        if self.ts.tzinfo is None:
            raise ValueError("ChatMessage.ts must be timezone-aware")

    @property
    def is_private(self) -> bool:
        return self.room is None


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """One message the bot sends: to a room (with optional @mentions) or privately to `to`.

    `dedupe_key` makes the send exactly-once: the outbox refuses a second row with the same key.
    `file_path` is set for an attachment (xlsx, png); `text` is then its caption.
    """

    dedupe_key: str
    room: str | None
    text: str
    to: str | None = None
    mentions: tuple[str, ...] = ()
    file_path: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.room is None and self.to is None:
            raise ValueError("an outgoing message needs a room or a private recipient")
