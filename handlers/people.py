"""Leaders by name, never by contact id, wherever a person reads them.

A name the config file gives a leader wins (the operator chose it); otherwise the display
name of the leader's latest message, kept current by every message they send; a leader who
has never spoken goes by the name an admin gave with `换团长 群 微信号 名字`, else
"<group topic>团长". Contact ids stay the key in the data and in JSON.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from models.config import Config, GroupConfig
from models.db import Conn
from models.identity import normalise
from models.store.groups import load as load_groups
from models.store.people import display_names
from models.store.tally import Tally, tally


def unnamed(topic: str) -> str:
    return f"{topic}团长" if topic else "团长"


async def leader_names(conn: Conn, config: Config, groups: Iterable[GroupConfig]) -> dict[str, str]:
    """Leader contact id → the name to show, for these groups' leaders (one query)."""
    topics: dict[str, str] = {}
    given: dict[str, str] = {}
    for g in groups:
        topics.setdefault(g.leader, g.topic)
        if g.leader_name:
            given.setdefault(g.leader, g.leader_name)
    configured = config.leader_names
    learned = await display_names(conn, set(topics) - set(configured))
    return {
        leader: configured.get(leader) or learned.get(leader) or given.get(leader) or unnamed(topic)
        for leader, topic in topics.items()
    }


async def all_leader_names(conn: Conn, config: Config) -> dict[str, str]:
    """Every group's leader named, from the groups table as it is in this transaction."""
    return await leader_names(conn, config, (await load_groups(conn)).values())


async def named_tally(conn: Conn, config: Config, day: date | None) -> Tally:
    """The day's tally (or every round's) with each round's leader named."""
    report = await tally(conn, config.timezone, day)
    return report.with_leader_names(await all_leader_names(conn, config))


def find_leader(names: dict[str, str], key: str) -> str | None:
    """A leader by contact id or by the name shown for them (`团长 李姐`); None if no one or
    if the name is shared."""
    if key in names:
        return key
    wanted = normalise(key)  # commands arrive width-folded: （） typed is () here
    named = [leader for leader, name in names.items() if normalise(name) == wanted]
    return named[0] if len(named) == 1 else None
