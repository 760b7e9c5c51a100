"""Found by the busy day (tests/busy_day.py): after 截单 of one deal, while another deal is
still open in the group, a late copy of the closed deal's chain must not become an order of
the open deal; it is answered once as late, as when no other deal is open."""

from __future__ import annotations

from pathlib import Path

from tests.busy_day import deal_bot, head
from tests.chat import ADMIN


async def test_a_late_post_to_a_closed_deal_is_not_booked_into_another_open_deal(
    db_url: str, tmp_path: Path
) -> None:
    bot, _ = await deal_bot(db_url, tmp_path)
    try:
        await bot.at("08:00")  # the fruit deal is posted
        await bot.post("管理员", "推送 rice-1126", room=None, sender=ADMIN)  # rice: open till 26th
        await bot.at("22:00")  # fruit closes; rice stays open
        late = head().replace("小区{g}门口", "幸福里3栋门口") + "\n\n1. 晚到的人 苹果1份"
        await bot.post("晚到的人", late)
        [rice] = [r for r in await bot.rounds() if "五常大米" in r["title"]]
        assert [o["name"] for o in rice["orders"]] == []
        assert any("已截单" in t and "晚到的人" in t for t in bot.group_texts())
    finally:
        await bot.app.close()
