"""Replay a transcript (JSON lines) through the bot and print what it says.

Events, in order:
  {"type": "message", "id", "ts", "room" (null = private), "sender", "sender_name", "text"}
  {"type": "clock", "ts"}   moves time forward so due jobs (截单 at cutoff) run
Every message the bot sends is printed as one JSON line {"ts", "room", "to", "text"}. Message
ids are the dedupe keys, so replaying a transcript twice into one database prints nothing new.

A line that is not a valid event (not JSON, a wrong type, a lone surrogate or bytes that are
not UTF-8, an id or sender past the 128 characters the database keys on, a time outside
2000–2100) is reported with its line number and skipped; the replay goes on.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from bot.app import App
from bot.outbox import drain
from models.clock import ManualClock
from models.messages import ChatMessage, OutgoingMessage


class TranscriptError(ValueError):
    """A transcript line that is not a valid event; the text names the line."""


MAX_ID = 128  # the database keys messages on this many characters: a longer id would collide
MIN_YEAR, MAX_YEAR = 2000, 2100
_SURROGATE = re.compile("[\ud800-\udfff]")


def _clean_str(obj: dict[str, Any], key: str, where: str, *, limit: int | None = None) -> None:
    value = obj.get(key)
    if not isinstance(value, str):
        return
    if _SURROGATE.search(value):
        raise TranscriptError(f"{where}: {key} holds a lone surrogate or bytes that are not UTF-8")
    if limit is not None and len(value) > limit:
        raise TranscriptError(f"{where}: {key} is longer than {limit} characters")


@dataclass(frozen=True, slots=True)
class ClockEvent:
    ts: datetime


Event = ChatMessage | ClockEvent


def parse_ts(value: Any, tz: ZoneInfo, where: str) -> datetime:
    if not isinstance(value, str):
        raise TranscriptError(f"{where}: ts must be an ISO time string")
    try:
        ts = datetime.fromisoformat(value)
    except ValueError as exc:
        raise TranscriptError(f"{where}: ts {value!r} is not an ISO time") from exc
    if not MIN_YEAR <= ts.year <= MAX_YEAR:
        raise TranscriptError(f"{where}: ts {value!r} is outside {MIN_YEAR}–{MAX_YEAR}")
    return ts if ts.tzinfo is not None else ts.replace(tzinfo=tz)


def parse_event(obj: Any, tz: ZoneInfo, where: str) -> Event:
    if not isinstance(obj, dict):
        raise TranscriptError(f"{where}: an event must be a JSON object")
    kind = obj.get("type", "message")
    ts = parse_ts(obj.get("ts"), tz, where)
    if kind == "clock":
        return ClockEvent(ts)
    if kind != "message":
        raise TranscriptError(f"{where}: unknown event type {kind!r}")
    for key in ("id", "sender", "text"):
        if not isinstance(obj.get(key), str):
            raise TranscriptError(f"{where}: message needs a string {key!r}")
    room = obj.get("room")
    if room is not None and not isinstance(room, str):
        raise TranscriptError(f"{where}: room must be a string or null")
    mentions = obj.get("mentions") or []
    if not isinstance(mentions, list) or not all(isinstance(m, str) for m in mentions):
        raise TranscriptError(f"{where}: mentions must be a list of strings")
    for key in ("sender_name", "kind"):
        if obj.get(key) is not None and not isinstance(obj.get(key), str):
            raise TranscriptError(f"{where}: {key} must be a string")
    _clean_str(obj, "id", where, limit=MAX_ID)
    _clean_str(obj, "sender", where, limit=MAX_ID)
    _clean_str(obj, "room", where, limit=MAX_ID)
    for key in ("sender_name", "text", "kind"):
        _clean_str(obj, key, where)
    for m in mentions:
        _clean_str({"mentions": m}, "mentions", where, limit=MAX_ID)
    return ChatMessage(
        id=obj["id"],
        room=room,
        sender=obj["sender"],
        sender_name=str(obj.get("sender_name") or obj["sender"]),
        text=obj["text"],
        ts=ts,
        mentions=tuple(mentions),
        kind=str(obj.get("kind", "text")),
    )


def read_events(
    lines: Iterable[str], tz: ZoneInfo, errors: list[str] | None = None
) -> Iterator[Event]:
    """The events of a transcript. With `errors`, a bad line is recorded there (with its line
    number) and skipped; without, it raises TranscriptError."""
    for n, line in enumerate(lines, 1):
        if not line.strip() or line.lstrip().startswith("//"):
            continue
        try:
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise TranscriptError(f"line {n}: not JSON: {exc.msg}") from exc
            event = parse_event(obj, tz, f"line {n}")
        except TranscriptError as exc:
            if errors is None:
                raise
            errors.append(str(exc))
            continue
        yield event


def load_events(path: Path | str, tz: ZoneInfo, errors: list[str] | None = None) -> list[Event]:
    """Bytes that are not UTF-8 are read as lone surrogates, so only their line is refused."""
    with Path(path).open(encoding="utf-8", errors="surrogateescape") as fh:
        return list(read_events(fh, tz, errors))


def sent_record(out: OutgoingMessage, ts: datetime) -> dict[str, Any]:
    """The printed form of one sent message (the replay contract)."""
    to = out.to if out.room is None else (out.mentions[0] if out.mentions else None)
    return {"ts": ts.isoformat(), "room": out.room, "to": to, "text": out.text}


async def replay(
    app: App,
    events: Iterable[Event],
    emit: Callable[[dict[str, Any]], None],
    *,
    flush: bool = True,
) -> int:
    """Feed events through the app; `emit` gets each sent message. Returns messages sent."""
    clock = app.clock
    assert isinstance(clock, ManualClock), "replay drives a ManualClock"
    count = 0

    async def send(out: OutgoingMessage) -> None:
        nonlocal count
        count += 1
        emit(sent_record(out, clock.now()))

    for event in events:
        clock.set(event.ts)
        if isinstance(event, ChatMessage):
            await app.feed(event)
        await app.tick(send)
    if flush:
        # Messages held back to coalesce a burst (a merged chain) go out as they would have.
        last = await app.last_pending_send()
        if last is not None and last > clock.now():
            clock.set(last)
            await drain(app.db, send, clock.now())
    return count


def print_json(record: dict[str, Any], out: TextIO | None = None) -> None:
    """One sent message as a JSON line (sys.stdout looked up at call time, not import time)."""
    stream = out or sys.stdout
    stream.write(json.dumps(record, ensure_ascii=False) + "\n")
    stream.flush()
