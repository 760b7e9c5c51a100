"""A WeChat account in a test: wechaty's own FakePuppet under a real `Wechaty` object.

FakePuppet answers payload queries from dictionaries; its send methods return a fixed id and
record nothing, so this subclass records every send (and can refuse some, as WeChat does when
an account sends too often). `deliver` plays a message into the account the way the gateway
does: the payload is stored, then a `message` event names it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from itertools import count
from typing import Any

from bot.adapters.wechaty import import_wechaty

import_wechaty()  # the 3.11 shim first

from wechaty import Wechaty, WechatyOptions  # noqa: E402
from wechaty.fake_puppet import FakePuppet  # noqa: E402
from wechaty_puppet import FileBox, PuppetOptions  # noqa: E402
from wechaty_puppet.schemas.event import (  # noqa: E402
    EventHeartbeatPayload,
    EventLoginPayload,
    EventMessagePayload,
)
from wechaty_puppet.schemas.types import (  # noqa: E402
    ContactPayload,
    MessagePayload,
    MessageType,
    RoomPayload,
)

_ids = count(1)


@dataclass
class Sent:
    to: str
    text: str
    mentions: list[str] = field(default_factory=list)
    file_name: str | None = None


class RecordingPuppet(FakePuppet):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__(PuppetOptions())
        self.sent: list[Sent] = []
        self.refuse_next = 0  # how many sends to refuse with WeChat's "too often" error
        self.started = 0
        self.stopped = 0

    async def start(self) -> None:
        self.started += 1
        await asyncio.Event().wait()  # connected until stopped; no login round trip

    async def stop(self) -> None:
        self.stopped += 1

    async def message_send_text(
        self, conversation_id: str, message: str, mention_ids: list[str] | None = None
    ) -> str:
        if self.refuse_next:
            self.refuse_next -= 1
            raise RuntimeError("发送消息过于频繁，请稍后再试")
        self.sent.append(Sent(conversation_id, message, list(mention_ids or [])))
        return f"sent-{next(_ids)}"

    async def message_send_file(self, conversation_id: str, file: FileBox) -> str:
        self.sent.append(Sent(conversation_id, "", file_name=file.name))
        return f"sent-{next(_ids)}"

    async def room_member_payload(self, room_id: str, contact_id: str) -> Any:
        return self.get_fake_contact(contact_id)  # the base class pops it: a second read fails

    # -- the test's side ------------------------------------------------------------------

    def add_people(self, people: dict[str, str]) -> None:
        for contact_id, name in people.items():
            self.add_fake_contact(ContactPayload(id=contact_id, name=name))

    def add_room(self, room_id: str, topic: str, members: dict[str, str]) -> None:
        self.add_people(members)
        self.add_fake_room(RoomPayload(id=room_id, topic=topic, member_ids=list(members)))

    def deliver(
        self,
        text: str,
        *,
        sender: str,
        room: str | None,
        msg_id: str | None = None,
        kind: MessageType = MessageType.MESSAGE_TYPE_TEXT,
        timestamp: int = 1_795_480_000,
        mentions: list[str] | None = None,
    ) -> str:
        msg_id = msg_id or f"wx-{next(_ids)}"
        self.add_fake_message(
            MessagePayload(
                id=msg_id,
                text=text,
                timestamp=timestamp,
                type=kind,
                from_id=sender,
                room_id=room or "",
                to_id="" if room else self.login_user_id,
                mention_ids=mentions or [],
            )
        )
        self.emitter.emit("message", EventMessagePayload(message_id=msg_id))
        return msg_id

    def heartbeat(self) -> None:
        """A heartbeat under the name the service puppet gives it (wechaty bridges another)."""
        self.emitter.emit("heartbeat", EventHeartbeatPayload(data="beat"))

    def login(self) -> None:
        """The account logs in, as the gateway says after every (re)connection."""
        self.emitter.emit("login", EventLoginPayload(contact_id=self.login_user_id))

    def texts_to(self, conversation: str) -> list[str]:
        return [s.text for s in self.sent if s.to == conversation and s.text]


def wechaty_over(puppet: RecordingPuppet) -> Wechaty:
    """A real Wechaty object driven by the fake puppet (no gateway, no plugin web server)."""
    return Wechaty(WechatyOptions(puppet=puppet, port=0))
