"""When the WeChat connection was lost for a while, each leader hears it once, privately.

Messages sent to the groups meanwhile never reached the bot and are not invented. Chains heal
by themselves (the next copy carries the lines added meanwhile, credited to whoever posts
it); commands said meanwhile must be said again, and that is what the leader is told.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from bot.app import App
from models.messages import OutgoingMessage
from models.store import heartbeat
from models.store.outbox import enqueue

HEARTBEAT = "wechat"  # one row: when the WeChat connection was last known alive


def away_text(since: datetime, until: datetime, rooms: list[str]) -> str:
    same_day = since.date() == until.date()
    until_text = f"{until:%H:%M}" if same_day else f"{until:%m月%d日 %H:%M}"
    return (
        f"机器人在 {since:%m月%d日 %H:%M} 至 {until_text} 与微信断开了"
        f"（{'、'.join(rooms)}）。这段时间群里的消息没有收到：\n"
        "· 接龙不受影响，下一条接龙会带上这段时间加的行（记在发那条接龙的人名下）；\n"
        "· 这段时间说的命令（截单、到货、已取等）请再说一次。"
    )


async def tell_leaders_away(app: App, since: datetime, until: datetime) -> int:
    """Queue one private notice per leader of an active group; returns how many."""
    tz = app.clock.tz
    since_local, until_local = since.astimezone(tz), until.astimezone(tz)
    rooms_by_leader: dict[str, list[str]] = defaultdict(list)
    for g in app.groups.all():
        if not g.paused:
            rooms_by_leader[g.leader].append(g.topic or g.room)
    notices = [
        OutgoingMessage(
            dedupe_key=f"away:{since_local:%Y%m%dT%H%M%S}:{leader}",
            room=None,
            to=leader,
            text=away_text(since_local, until_local, rooms),
        )
        for leader, rooms in rooms_by_leader.items()
    ]
    async with app.db.begin() as conn:
        await enqueue(conn, notices, until)
    return len(notices)


async def beat(app: App, now: datetime) -> None:
    """Record that the connection is alive now (one small write every few seconds)."""
    await heartbeat.beat(app.db, HEARTBEAT, now)


async def last_beat(app: App) -> datetime | None:
    return await heartbeat.last_beat(app.db, HEARTBEAT)
