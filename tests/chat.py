"""A chat-transcript harness: tests say who posts what, then what the bot said and the orders.

bot.post("张三", chain_text)        # a resident posts in the group
bot.at("22:00")                      # time moves; due jobs run
assert bot.said_to_group() == [...]
assert await bot.orders() == [("张三", "wxid_张三", [("烟台苹果", 2, "份")])]
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta
from itertools import count
from typing import Any

from bot.app import App
from models.clock import ManualClock
from models.messages import ChatMessage, OutgoingMessage
from models.store.inbound import fingerprint
from models.store.tally import orders_report

ROOM = "xingfuli@chatroom"
LEADER = "wxid_leader"
ADMIN = "wxid_admin"

OrderTuple = tuple[str, str, list[tuple[str | None, int | float, str | None]]]


def contact(name: str) -> str:
    """Residents' contact ids in tests are derived from their names, so transcripts stay short."""
    return LEADER if name == "团长" else f"wxid_{name}"


@dataclass
class Said:
    ts: datetime
    room: str | None
    to: str | None
    text: str
    mentions: tuple[str, ...] = ()
    file_path: str | None = None


@dataclass
class ChatHarness:
    app: App
    clock: ManualClock
    said: list[Said] = field(default_factory=list)
    _ids: Any = field(default_factory=lambda: count(1))
    _fingerprints: set[str | None] = field(default_factory=set)

    async def send(self, out: OutgoingMessage) -> None:
        """What the bot sends is recorded here (the adapter's part in tests)."""
        self.said.append(
            Said(self.clock.now(), out.room, out.to, out.text, out.mentions, out.file_path)
        )

    async def post(
        self,
        who: str,
        text: str,
        *,
        room: str | None = ROOM,
        msg_id: str | None = None,
        sender: str | None = None,
        kind: str = "text",
    ) -> bool:
        """`who` posts `text` (in the group unless room=None); returns False for a duplicate.

        `kind` is what the adapter saw: "app" for an app message (a native 接龙's XML),
        "recall" when `who` recalls the message whose id is `text`.
        """
        msg = ChatMessage(
            id=msg_id or f"m{next(self._ids)}",
            room=room,
            sender=sender or contact(who),
            sender_name=who,
            text=text,
            ts=self.clock.now(),
            kind=kind,
        )
        if msg_id is None and fingerprint(msg) in self._fingerprints:
            # The same words from the same person in the same second are one message to the
            # bot (two bot accounts see it twice). A person saying it again takes a moment.
            self.clock.set(self.clock.now() + timedelta(seconds=1))
            msg = replace(msg, ts=self.clock.now())
        self._fingerprints.add(fingerprint(msg))
        new = await self.app.feed(msg)
        await self.app.tick(self.send)
        return new

    async def recall(self, who: str, msg_id: str) -> bool:
        """`who` recalls (撤回) the message `msg_id`."""
        return await self.post(who, msg_id, kind="recall")

    async def at(self, hhmm: str, day: int | None = None) -> None:
        """Move the clock to hh:mm (today, or day-of-month `day`) and run what is due."""
        now = self.clock.now()
        h, m = (int(x) for x in hhmm.split(":"))
        target = datetime.combine(now.date(), time(h, m), tzinfo=now.tzinfo)
        if day is not None:
            target = target.replace(day=day)
        self.clock.set(target)
        await self.app.tick(self.send)

    async def flush(self) -> None:
        """Let held-back messages (a coalesced merged chain) go out."""
        last = await self.app.last_pending_send()
        if last is not None:
            self.clock.set(last)
        await self.app.tick(self.send)

    def group_texts(self) -> list[str]:
        return [s.text for s in self.said if s.room is not None]

    def private_texts(self, to: str) -> list[str]:
        return [s.text for s in self.said if s.room is None and s.to == to]

    async def rounds(self) -> list[dict[str, Any]]:
        async with self.app.db.connect() as conn:
            return await orders_report(conn)

    async def orders(self, round_index: int = -1) -> list[OrderTuple]:
        """Active orders of one round as (name, poster, [(product, qty, unit)])."""
        rounds = await self.rounds()
        if not rounds:
            return []
        return [
            (o["name"], o["poster"], [(i["product"], i["qty"], i["unit"]) for i in o["items"]])
            for o in rounds[round_index]["orders"]
        ]

    async def names(self, round_index: int = -1) -> list[str]:
        return [o[0] for o in await self.orders(round_index)]
