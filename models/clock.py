"""The one source of time. Tests and `replay` move it; production reads the wall clock."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo


class Clock(Protocol):
    tz: ZoneInfo

    def now(self) -> datetime: ...


class SystemClock:
    """Wall-clock time in the configured zone (Asia/Shanghai by default)."""

    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz

    def now(self) -> datetime:
        return datetime.now(self.tz)


class ManualClock:
    """A clock that only moves when told to: replay transcripts and tests drive it."""

    def __init__(self, start: datetime, tz: ZoneInfo) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs an aware start time")
        self.tz = tz
        self._now = start.astimezone(tz)

    def now(self) -> datetime:
        return self._now

    def set(self, when: datetime) -> None:
        """Move to `when`; time never runs backwards (out-of-order events keep the later time)."""
        when = when.astimezone(self.tz)
        if when > self._now:
            self._now = when

    def advance(self, delta: timedelta) -> None:
        self._now = self._now + delta


class MovableClock:
    """The wall clock with an offset the simulator moves forward: time keeps running between
    moves, so a countdown on a page stays true, and 截单 or 到货 is one move away."""

    def __init__(self, start: datetime, tz: ZoneInfo) -> None:
        if start.tzinfo is None:
            raise ValueError("MovableClock needs an aware start time")
        self.tz = tz
        self._offset = start - datetime.now(tz)

    def now(self) -> datetime:
        return (datetime.now(self.tz) + self._offset).astimezone(self.tz)

    def set(self, when: datetime) -> bool:
        """Move to `when`; False (and no move) when it is not later than now."""
        if when.tzinfo is None:
            raise ValueError("the clock needs an aware time")
        current = self.now()
        if when <= current:
            return False
        self._offset += when - current
        return True
