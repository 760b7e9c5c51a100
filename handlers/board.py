"""The operator dashboard's operations: the day's board as JSON, and deciding a held line.

The JSON API (bot/http_api.py) serves these, and the dashboard's pages are rendered from the
same JSON: there is one path to the data. Deciding a line goes through the same round lock and
repository calls as the leader's 确认 and 代接 in the chat.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from handlers import stock
from handlers.leader import DECIDING, add_line
from handlers.people import all_leader_names
from handlers.reports import amount_json, round_json
from handlers.sorting import held_reason
from models.config import Config
from models.db import Conn
from models.identity import strip_seq
from models.messages import ChatMessage
from models.money import commission_fen, fen_str
from models.rounds import EntryView, RoundCache, RoundState
from models.store import audit
from models.store.board import cutoffs, held_lines, room_of_entry
from models.store.rounds import accept, lock_rounds, set_status
from models.store.tally import Amount, RoundTally, tally


def _leaders(
    rounds: Iterable[RoundTally], config: Config, names: dict[str, str]
) -> dict[str, dict[str, Any]]:
    """Leader → name, rounds, amount, commission and products summed over the leader's rounds."""
    rates = {g.room: g.commission_rate for g in config.groups}
    out: dict[str, dict[str, Any]] = {}
    sums: dict[str, tuple[int, int, int, dict[str, Amount]]] = {}
    for r in rounds:
        leader = r.leader or r.room
        n, amount, commission, products = sums.get(leader, (0, 0, 0, {}))
        for k, s in r.totals.items():
            b = products.setdefault(k, Amount(unit=s.unit))
            b.qty_milli += s.qty_milli
            b.amount_fen += s.amount_fen
        rate = rates.get(r.room)
        extra = r.commission_fen if rate is None else commission_fen(r.amount_fen, rate)
        sums[leader] = (n + 1, amount + r.amount_fen, commission + extra, products)
    for leader, (n, amount, commission, products) in sorted(sums.items()):
        out[leader] = {
            "name": names.get(leader) or "团长",
            "rounds": n,
            "amount": fen_str(amount),
            "commission": fen_str(commission),
            "products": {k: amount_json(s) for k, s in products.items()},
        }
    return out


async def board(conn: Conn, config: Config, day: date, now: datetime) -> dict[str, Any]:
    """The day's rounds (团期: cutoff on `day`) per group, totals per leader, product and route,
    and the lines held for review, each with why."""
    names = await all_leader_names(conn, config)
    report = (await tally(conn, config.timezone, day)).with_leader_names(names)
    ids = [r.id for r in report.rounds]
    cut = await cutoffs(conn, ids)
    held = await held_lines(conn, ids)
    topics = {g.room: g.topic for g in config.groups}
    groups: dict[str, dict[str, Any]] = {
        g.room: {
            "room": g.room,
            "topic": g.topic,
            "leader": g.leader,
            "leader_name": names.get(g.leader, ""),
            "route": g.route,
            "rounds": [],
        }
        for g in config.groups
    }
    for r in report.rounds:
        group = groups.setdefault(
            r.room,
            {
                "room": r.room,
                "topic": r.room,
                "leader": r.leader,
                "leader_name": r.leader_name,
                "route": r.route,
                "rounds": [],
            },
        )
        cutoff = cut.get(r.id)
        group["rounds"].append(
            {
                **round_json(r),
                "orders": r.picked + r.waiting,
                "cutoff_at": cutoff.astimezone(config.timezone).isoformat() if cutoff else None,
            }
        )
    titles = {r.id: (r.room, r.title) for r in report.rounds}
    products = {k: amount_json(s) for k, s in report.products.items()}
    return {
        "date": day.isoformat(),
        "now": now.astimezone(config.timezone).isoformat(),
        "groups": list(groups.values()),
        "leaders": _leaders(report.rounds, config, names),
        "products": products,
        "routes": {
            name: {"rounds": route.rounds, "amount": fen_str(route.amount_fen)}
            for name, route in report.routes.items()
        },
        "amount": fen_str(sum(r.amount_fen for r in report.rounds)),
        "review": [
            {
                "id": h.id,
                "round": h.round_id,
                "room": titles[h.round_id][0],
                "topic": topics.get(titles[h.round_id][0], titles[h.round_id][0]),
                "title": titles[h.round_id][1],
                "name": h.name or h.poster_name,
                "line": strip_seq(h.raw),
                "why": held_reason(h.flags),
            }
            for h in held
        ],
    }


async def _held_entry(
    conn: Conn, cache: RoundCache, entry_id: int
) -> tuple[RoundState, EntryView] | None:
    """The held, active line with this id and its round, under the round's lock; None when
    there is none (decided already, cancelled, or its round's goods are ordered)."""
    room = await room_of_entry(conn, entry_id)
    if room is None:
        return None
    for state in await lock_rounds(conn, cache, room, statuses=DECIDING):
        entry = next((e for e in state.entries.values() if e.id == entry_id), None)
        if entry is not None and entry.active and entry.held:
            return state, entry
    return None


async def audit_decision(
    conn: Conn, room: str, verb: str, args: list[str], by: str, now: datetime
) -> None:
    """An operator's decision goes into the audit log beside the leaders' commands."""
    said = ChatMessage(
        id=f"{by}:{verb}:{args[0]}:{now.isoformat()}",
        room=room,
        sender=by,
        sender_name="后台",
        text=" ".join([verb, *args]),
        ts=now,
    )
    await audit.record(conn, said, now, verb=verb, args=args, role="operator", allowed=True)


async def accept_line(
    conn: Conn, cache: RoundCache, entry_id: int, by: str, now: datetime
) -> str | None:
    """Count a held line as the bot read it (the leader's 确认); the line, or None."""
    found = await _held_entry(conn, cache, entry_id)
    if found is None:
        return None
    state, entry = found
    before = stock.counted(state)
    await accept(conn, [entry])
    await stock.settle(conn, state, before)
    await audit_decision(conn, state.room, "确认", [str(entry_id)], by, now)
    return strip_seq(entry.raw)


class FixRefused(Exception):
    """The corrected line cannot be recorded; the caller rolls the transaction back."""


async def fix_line(
    conn: Conn, cache: RoundCache, entry_id: int, words: str, by: str, now: datetime
) -> str:
    """Replace a held line with what it should say (`张三 苹果2份`), still its poster's order:
    the old line is cancelled and the new one read like a 代接. Returns the new line."""
    found = await _held_entry(conn, cache, entry_id)
    if found is None:
        raise FixRefused("这一条已经处理过了，或者不在待确认里。")
    state, entry = found
    message_id = f"{by}:{entry_id}:{now.isoformat()}"
    await set_status(conn, [(entry, "operator_fixed")], "cancelled", now, message_id)
    problem, line = await add_line(
        conn, state, words, entry.poster, entry.poster_name, message_id, now
    )
    if problem:
        raise FixRefused(problem)
    await audit_decision(conn, state.room, "改正", [str(entry_id), line], by, now)
    return line
