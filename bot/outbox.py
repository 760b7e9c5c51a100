"""The sender: due outbox rows go out in order, within the account's budgets, once each.

Each row is claimed with a conditional update first (models/store/outbox.py), so two senders
never send one row; a row claimed but not confirmed before a crash is retried at start-up.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from bot.limits import SendLimiter, ThrottledError
from models.db import Database
from models.messages import OutgoingMessage
from models.store import outbox

log = logging.getLogger(__name__)

SendFn = Callable[[OutgoingMessage], Awaitable[None]]


async def drain(
    db: Database,
    send: SendFn,
    now: datetime,
    *,
    limiter: SendLimiter | None = None,
    limit: int = 500,
) -> int:
    """Send due rows in creation order within the limiter's budgets; returns how many went.

    Each row is claimed with a conditional update first, so two drainers never send one row.
    A row whose group must wait is skipped for now (others may go); when the account's budget
    is spent or the platform throttles, draining stops until a later tick.
    """
    if limiter is not None and not limiter.loaded:
        await limiter.load(db, now)
    sent = 0
    for row in await outbox.due(db, now, limit):
        if limiter is not None:
            if limiter.account_blocked(now):
                break
            if limiter.earliest(row.target, now) > now:
                continue
        if not await outbox.claim(db, row.id):
            continue
        try:
            await send(row.message)
        except ThrottledError as exc:
            until = limiter.throttled(now) if limiter is not None else now
            log.warning("platform throttles sending (%s); pausing until %s", exc, until)
            await outbox.release(db, row.id, f"throttled: {exc}")
            break
        except Exception as exc:  # the platform refused: keep the row for a later try
            log.warning("send failed for %s: %s", row.message.dedupe_key, exc)
            await outbox.release(db, row.id, str(exc))
            continue
        await outbox.mark_sent(db, row.id, now)
        if limiter is not None:
            limiter.record(row.target, now)
        sent += 1
    return sent
