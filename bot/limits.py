"""Sending budgets that keep a WeChat account from being blocked for sending too much.

WeChat throttles accounts that send fast ("发送消息过于频繁"; past ~100 groups a blast fails,
wechaty/wechaty#412). The limiter enforces, for one bot account:
- at most `per_minute` messages in any 60 seconds,
- at most `daily_cap` messages in any 24 hours,
- at least `group_interval_s` (plus up to `jitter_s` of random extra) between two messages to
  the same group, so a group never sees a burst and the rhythm does not look machine-made,
- and after the platform says it is throttling, a pause that doubles each time (up to
  `backoff_max_s`) and resets after a successful send.
Its memory is rebuilt from the outbox's `sent_at` at start, so a restart does not reset it.
"""

from __future__ import annotations

import random
from collections import deque
from datetime import datetime, timedelta

from models.config import SendLimits
from models.db import Database
from models.store.outbox import sent_since

MINUTE = timedelta(minutes=1)
DAY = timedelta(days=1)


class ThrottledError(Exception):
    """Raised by an adapter when the platform refuses a send for sending too often."""


class SendLimiter:
    def __init__(self, limits: SendLimits, rng: random.Random | None = None) -> None:
        self.limits = limits
        self._rng = rng or random.Random()
        self._minute: deque[datetime] = deque()
        self._day: deque[datetime] = deque()
        self._room_ok: dict[str, datetime] = {}
        self._blocked_until: datetime | None = None
        self._backoff = timedelta(seconds=limits.backoff_s)
        self.loaded = False

    async def load(self, db: Database, now: datetime) -> None:
        """Rebuild the windows from what the outbox says was sent in the last 24 hours."""
        for target, at in await sent_since(db, now - DAY):
            self.record(target, at)
        self.loaded = True

    def _trim(self, now: datetime) -> None:
        while self._minute and self._minute[0] <= now - MINUTE:
            self._minute.popleft()
        while self._day and self._day[0] <= now - DAY:
            self._day.popleft()

    def earliest(self, target: str, now: datetime) -> datetime:
        """When a message to `target` (a room, or `to:<contact>`) may go; `now` if at once."""
        self._trim(now)
        when = now
        if self._blocked_until is not None:
            when = max(when, self._blocked_until)
        if len(self._minute) >= self.limits.per_minute:
            when = max(when, self._minute[0] + MINUTE)
        if len(self._day) >= self.limits.daily_cap:
            when = max(when, self._day[0] + DAY)
        ok = self._room_ok.get(target)
        if ok is not None:
            when = max(when, ok)
        return when

    def account_blocked(self, now: datetime) -> bool:
        """True while no message at all may go (rate, cap or back-off)."""
        self._trim(now)
        return (
            (self._blocked_until is not None and now < self._blocked_until)
            or len(self._minute) >= self.limits.per_minute
            or len(self._day) >= self.limits.daily_cap
        )

    def record(self, target: str, at: datetime) -> None:
        self._minute.append(at)
        self._day.append(at)
        gap = self.limits.group_interval_s + self._rng.uniform(0, self.limits.jitter_s)
        self._room_ok[target] = at + timedelta(seconds=gap)
        self._backoff = timedelta(seconds=self.limits.backoff_s)

    def throttled(self, now: datetime) -> datetime:
        """The platform pushed back: pause everything, twice as long as last time."""
        self._blocked_until = now + self._backoff
        self._backoff = min(self._backoff * 2, timedelta(seconds=self.limits.backoff_max_s))
        return self._blocked_until


class ReplyBudget:
    """How many replies one person's messages may cause, so one resident cannot spend the
    account's daily cap (and mute the bot in every group) by sending commands in a loop.

    Counted are replies addressed to the sender (an @mention, or privately), at most
    `per_hour` in any hour and `per_day` in any 24 hours; over budget they are not queued
    (the message itself is stored and its orders recorded as usual). Leaders and admins are
    not counted. Kept in memory: a restart forgives, which costs at most one more budget.
    """

    def __init__(self, per_hour: int = 10, per_day: int = 40) -> None:
        self.per_hour = per_hour
        self.per_day = per_day
        self._spent: dict[str, deque[datetime]] = {}

    def take(self, sender: str, wanted: int, now: datetime) -> int:
        """Spend up to `wanted` replies for `sender`; returns how many may go."""
        spent = self._spent.setdefault(sender, deque())
        while spent and spent[0] <= now - DAY:
            spent.popleft()
        hour = sum(1 for at in spent if at > now - timedelta(hours=1))
        allowed = max(0, min(wanted, self.per_hour - hour, self.per_day - len(spent)))
        spent.extend([now] * allowed)
        if not spent:
            del self._spent[sender]
        return allowed
