"""One resident cannot spend the account's sending budget (on SQLite and PostgreSQL).

Refusals, usage lines and help go once per person, room and command each hour, and a
per-sender budget caps what one person's messages may cause, whatever they send.
"""

from __future__ import annotations

import time
from datetime import timedelta

from tests.chains import FRUIT_HEAD
from tests.chat import ChatHarness

SPAMMER = "wxid_捣乱"


def answers_to(bot: ChatHarness, who: str) -> list[str]:
    return [s.text for s in bot.said if s.to == who or who in s.mentions]


async def test_600_refused_commands_cost_a_handful_of_replies(bot: ChatHarness) -> None:
    await bot.post("团长", FRUIT_HEAD)
    verbs = ["#截单", "#统计", "#删 1", "#核对", "#到货", "#乱写", "#汇总"]
    started = time.perf_counter()
    for n in range(600):
        await bot.post("捣乱", verbs[n % len(verbs)], sender=SPAMMER)
    took = time.perf_counter() - started
    said = answers_to(bot, SPAMMER)
    print(f"[reliability] 600 refused commands -> {len(said)} replies in {took:.1f} s")
    assert 1 <= len(said) <= len(verbs)  # at most one per command in the hour

    # The next hours: once per command per hour, and never past the sender's budget.
    for _hour in range(1, 12):
        bot.clock.set(bot.clock.now() + timedelta(hours=1))
        for verb in verbs:
            await bot.post("捣乱", verb, sender=SPAMMER)
    assert len(answers_to(bot, SPAMMER)) <= 40  # the per-day budget

    # Others are still answered, and the leader is never budgeted.
    await bot.post("张三", "#截单")
    assert any("张三" in t for t in answers_to(bot, "wxid_张三"))
