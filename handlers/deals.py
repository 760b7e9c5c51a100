"""Posting platform deals (models/deals.py) to their groups: one round and one chain head per
group, once. The deals themselves come from the deals file, the HTTP API or an admin's push.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from models.config import Config, GroupConfig
from models.db import Conn, Database
from models.deals import Deal
from models.messages import OutgoingMessage
from models.rounds import RoundCache, title_of
from models.store import audit
from models.store import deals as deal_store
from models.store.groups import Groups
from models.store.outbox import enqueue
from models.store.rounds import open_round, rounds_of_deals


def head_text(deal: Deal, group: GroupConfig, tz: ZoneInfo) -> str:
    """The chain head as the bot posts it: title, cutoff, pickup, menu; residents copy it."""
    cutoff = deal.cutoff_at.astimezone(tz)
    pickup = " ".join(x for x in (deal.pickup, group.pickup_point) if x)
    lines = [
        "#接龙",
        f"{deal.title} 截单：{cutoff:%m月%d日 %H:%M}" + (f" 自提：{pickup}" if pickup else ""),
    ]
    for dp in deal.products:
        p = dp.product
        code = f"{p.code}号 " if p.code and p.code.isdigit() else (f"{p.code} " if p.code else "")
        price = f" {p.price}元" + (f"/{p.sale_unit}" if p.sale_unit else "") if p.price else ""
        limit = f"（每人限{dp.limits.limit_milli // 1000}）" if dp.limits.limit_milli else ""
        lines.append(f"{code}{p.name}{price}{limit}")
    lines.append("")
    lines.append("复制本条，在最后加一行：序号. 名字 商品数量")
    return "\n".join(lines)


async def post_due_deals(
    db: Database, cache: RoundCache, config: Config, groups: Groups, now: datetime
) -> int:
    """Open and announce every deal whose post time has come, in every target group, once.

    A deal missed while the bot was down is still posted if its cutoff has not passed. A deal
    an admin pushed (`推送`) is due from the push: the push is read from the audit log, which
    commits with the admin's message, so a crash mid-push or a second process still posts it.
    """
    async with db.connect() as conn:
        deals = await deal_store.pending(conn, now)
        if not deals:
            return 0
        pushed = await audit.pushed_deals(conn, {d.key for d in deals if now < d.post_at}, now)
        due = [d for d in deals if d.post_at <= now or d.key in pushed]
        if not due:
            return 0
        done = await rounds_of_deals(conn, [d.key for d in due])
    posted = 0
    for deal in due:
        for group in deal.targets(groups.all()):
            if (deal.key, group.room) in done:
                continue
            async with db.begin() as conn:
                if await open_deal_round(conn, cache, config, deal, group, now, "platform"):
                    posted += 1
    return posted


async def open_deal_round(
    conn: Conn,
    cache: RoundCache,
    config: Config,
    deal: Deal,
    group: GroupConfig,
    now: datetime,
    opened_by: str,
) -> bool:
    """Open one group's round of a deal and queue its chain head; False if it already has it
    (another process, the schedule or the leader got there first: the unique index decides)."""
    text = head_text(deal, group, config.timezone)
    state = await open_round(
        conn,
        cache,
        room=group.room,
        title=title_of(text),
        header=text,
        products=[dp.product for dp in deal.products],
        limits={dp.product.key: dp.limits for dp in deal.products},
        opened_by=opened_by,
        head_message_id=None,
        now=now,
        cutoff_at=deal.cutoff_at,
        deal_key=deal.key,
    )
    if state is None:
        return False
    await enqueue(conn, [OutgoingMessage(f"deal:{deal.key}:{group.room}", group.room, text)], now)
    return True
