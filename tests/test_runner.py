"""The live trigger: APScheduler ticks the app, and the cutoff happens without a message."""

from __future__ import annotations

import asyncio
from datetime import datetime

from models.messages import OutgoingMessage
from tests.chains import Chain
from tests.chat import ChatHarness
from tests.conftest import TZ


async def test_scheduler_closes_a_due_round_on_its_own(sqlite_bot: ChatHarness) -> None:
    bot = sqlite_bot
    await bot.post("团长", Chain().text)
    await bot.post("张三", Chain().add("张三 苹果2份").text)
    # Time passes 22:00 with nobody posting and nobody calling tick: the scheduler must.
    # (The tick also pulls the clock up to the wall clock, which is earlier here, so no-op.)
    bot.clock.set(datetime(2026, 11, 23, 22, 0, 1, tzinfo=TZ))
    sent: list[OutgoingMessage] = []

    async def send(out: OutgoingMessage) -> None:
        sent.append(out)

    scheduler = bot.app.start_scheduler(send, seconds=1)
    try:
        for _ in range(50):
            if any(m.text.startswith("【已截单】") for m in sent):
                break
            await asyncio.sleep(0.1)
    finally:
        scheduler.shutdown(wait=False)
    assert sum(m.text.startswith("【已截单】") for m in sent) == 1
