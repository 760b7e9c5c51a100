"""Chat with the bot in a terminal, as any person in any configured group.

Type a line to send it. A chain spans lines: start with `<<<`, paste, end with `>>>`.
`/as ID NAME` switches who you are, `/room ROOM` (or `/private`) where you speak, `/time
2026-11-23T22:00` moves the clock (due jobs run), `/quit` leaves. Anything else starting
with / (like `/截单`) goes to the bot as a message.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import datetime
from itertools import count
from typing import TextIO

from bot.app import App
from models.clock import ManualClock
from models.messages import ChatMessage, OutgoingMessage

HELP = __doc__ or ""
CONSOLE_VERBS = frozenset({"/as", "/room", "/private", "/time", "/quit", "/help"})


class ConsoleAdapter:
    def __init__(self, app: App, out: TextIO | None = None) -> None:
        self.app = app
        self.out = out or sys.stdout  # looked up now: tests and shells swap sys.stdout
        groups = app.groups.all()
        self.room: str | None = groups[0].room if groups else None
        self.sender = groups[0].leader if groups else "me"
        self.sender_name = "团长" if groups else "me"
        self._ids = count(1)
        self._session = datetime.now().strftime("%Y%m%d%H%M%S")

    async def send(self, out: OutgoingMessage) -> None:
        where = f"[{out.room}]" if out.room else f"[私聊 {out.to}]"
        at = f"@{out.mentions[0]} " if out.mentions else ""
        self.out.write(f"🤖 {where} {at}{out.text}\n")
        self.out.flush()

    async def say(self, text: str) -> None:
        msg = ChatMessage(
            id=f"console-{self._session}-{next(self._ids)}",
            room=self.room,
            sender=self.sender,
            sender_name=self.sender_name,
            text=text,
            ts=self.app.clock.now(),
        )
        await self.app.feed(msg)
        await self.app.tick(self.send)

    def command(self, line: str) -> bool:
        """Handle a /command; False means quit."""
        verb, _, rest = line.partition(" ")
        if verb == "/quit":
            return False
        if verb == "/as":
            ident, _, name = rest.strip().partition(" ")
            self.sender, self.sender_name = ident or self.sender, name or ident or self.sender
        elif verb == "/room":
            self.room = rest.strip() or self.room
        elif verb == "/private":
            self.room = None
        elif verb == "/time" and isinstance(self.app.clock, ManualClock):
            when = datetime.fromisoformat(rest.strip())
            self.app.clock.set(when if when.tzinfo else when.replace(tzinfo=self.app.clock.tz))
        else:
            self.out.write(HELP + "\n")
        return True

    async def run(self, lines: TextIO | None = None) -> None:
        lines = lines or sys.stdin
        self.out.write(HELP + "\n")
        loop = asyncio.get_running_loop()
        buffer: list[str] | None = None
        while True:
            self.out.write(f"{self.sender_name}@{self.room or '私聊'}> ")
            self.out.flush()
            line = await loop.run_in_executor(None, lines.readline)
            if not line:
                return
            line = line.rstrip("\n")
            if buffer is not None:
                if line.strip() == ">>>":
                    await self.say("\n".join(buffer))
                    buffer = None
                else:
                    buffer.append(line)
                continue
            if line.strip() == "<<<":
                buffer = []
            elif line.split(" ", 1)[0] in CONSOLE_VERBS:
                if not self.command(line):
                    return
            elif line.strip():
                await self.say(line)
            await self.app.tick(self.send)
