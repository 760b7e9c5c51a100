"""What is due at a moment, in order: each step is a handler operation that happens once.

Every job's effect is decided in the database (deal posted once per room, round closed once,
reminder once per day), so a trigger that fires twice, late, or in two processes at once
changes nothing extra; start-up runs the same steps to catch up on what was missed.
"""

from __future__ import annotations

from datetime import datetime

from handlers.closing import close_due_rounds, remind_pickups
from handlers.deals import post_due_deals
from models.config import Config
from models.db import Database
from models.rounds import RoundCache
from models.store.groups import Groups


async def run_due(
    db: Database,
    groups: Groups,
    cache: RoundCache,
    config: Config,
    now: datetime,
) -> None:
    """Every scheduled effect due at `now`: admins' group changes from any process, deals to
    post, rounds past their cutoff, pickup reminders."""
    await groups.sync(db, now)
    await post_due_deals(db, cache, config, groups, now)
    await close_due_rounds(db, cache, now)
    await remind_pickups(db, config, now)
