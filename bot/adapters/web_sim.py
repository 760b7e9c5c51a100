"""The simulator's chat: people typed in a browser instead of WeChat, replies shown live.

Like the console adapter it drives the App's three calls (start, feed, tick), but it keeps a
log of every chat (groups and private) for the page, and each message answers with exactly
what the bot sent because of it: feeding and sending run under one lock, so the background
tick cannot take a reply away from the message that caused it.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import asdict, dataclass
from datetime import datetime
from itertools import count
from pathlib import Path
from urllib.parse import quote

from bot.app import App
from bot.changes import Changes
from handlers.people import leader_names
from models.clock import MovableClock
from models.messages import ChatMessage, OutgoingMessage
from models.store.people import display_names

LOG_LIMIT = 5000  # lines kept for a page that opens later; older ones are in the database


@dataclass(frozen=True, slots=True)
class Line:
    """One line of a simulated chat: a person's message or the bot's."""

    n: int
    room: str | None  # None: a private chat, with `to` (the bot's) or `sender` (a person's)
    sender: str
    sender_name: str
    text: str
    ts: str
    bot: bool = False
    to: str | None = None
    mentions: tuple[str, ...] = ()
    file: str | None = None  # an attachment's file name (the caption is `text`)
    file_url: str | None = None  # where the page downloads it (GET /sim/files/...)
    to_name: str | None = None  # the names of `to` and `mentions`, as people are shown
    mention_names: tuple[str, ...] = ()


class ClockError(ValueError):
    """The clock cannot go there (it only moves forward)."""


class SimChat:
    def __init__(self, app: App) -> None:
        self.app = app
        self.log: list[Line] = []
        self.lines = Changes()  # each new line, as JSON, for the page's event stream
        self._n = count(1)
        self._ids = count(1)
        self._session = datetime.now().strftime("%Y%m%d%H%M%S")
        self._lock = asyncio.Lock()
        self._caught: list[Line] | None = None
        self.names: dict[str, str] = {}  # contact id → the name people know them by
        self.files: dict[int, Path] = {}  # line number → a file the bot sent (and only those)

    def _add(self, line: Line) -> None:
        self.log.append(line)
        del self.log[:-LOG_LIMIT]
        for n in [n for n in self.files if n < self.log[0].n]:
            del self.files[n]  # its line is gone from the page: so is the download
        self.lines.notify(json.dumps(asdict(line), ensure_ascii=False))

    async def learn_names(self) -> dict[str, str]:
        """The configured leaders' and admins' names, beside everyone who spoke here."""
        async with self.app.db.connect() as conn:
            leaders = await leader_names(conn, self.app.config, self.app.groups.all())
        for admin in self.app.config.admins:
            self.names.setdefault(admin, "管理员")
        self.names.update(leaders)
        return self.names

    async def _name(self, contact: str) -> str:
        if contact not in self.names:
            await self.learn_names()
        if contact not in self.names:  # spoke before this page opened (a kept --db)
            async with self.app.db.connect() as conn:
                self.names.update(await display_names(conn, [contact]))
        return self.names.get(contact, contact)  # someone nobody ever named: their id

    async def send(self, out: OutgoingMessage) -> None:
        n = next(self._n)
        name = Path(out.file_path).name if out.file_path else None
        if out.file_path:
            self.files[n] = Path(out.file_path)
        line = Line(
            n=n,
            room=out.room,
            sender="bot",
            sender_name=self.app.config.bot_name,
            text=out.text,
            ts=self.app.clock.now().isoformat(),
            bot=True,
            to=out.to,
            mentions=out.mentions,
            file=name,
            file_url=f"/sim/files/{n}/{quote(name)}" if name else None,
            to_name=await self._name(out.to) if out.to else None,
            mention_names=tuple([await self._name(m) for m in out.mentions]),
        )
        self._add(line)
        if self._caught is not None:
            self._caught.append(line)

    async def _sending(self) -> list[Line]:
        """Run what is due and send it, catching the lines sent (the caller holds the lock)."""
        self._caught = []
        try:
            await self.app.tick(self.send)
            return self._caught
        finally:
            self._caught = None

    async def say(self, room: str | None, sender: str, sender_name: str, text: str) -> list[Line]:
        """A person's message; returns the bot's lines it caused."""
        async with self._lock:
            now = self.app.clock.now()
            self.names[sender] = sender_name
            self._add(Line(next(self._n), room, sender, sender_name, text, now.isoformat()))
            msg = ChatMessage(
                id=f"sim-{self._session}-{next(self._ids)}",
                room=room,
                sender=sender,
                sender_name=sender_name,
                text=text,
                ts=now,
            )
            await self.app.feed(msg)
            return await self._sending()

    async def move_clock(self, when: datetime) -> list[Line]:
        """Move the bot's clock forward to `when`; due jobs (截单, reminders) run at once."""
        clock = self.app.clock
        if not isinstance(clock, MovableClock):
            raise ClockError("这个时钟不能拨动")
        async with self._lock:
            if not clock.set(when.astimezone(clock.tz)):
                raise ClockError(f"时间只能往后拨（现在是 {clock.now():%m-%d %H:%M}）")
            return await self._sending()

    async def tick(self) -> None:
        """The scheduler's tick: what falls due while nobody types still goes out."""
        async with self._lock:
            await self._sending()
