"""Every sentence the bot says in a group, in one place, short and in the residents' language.

The bot is quiet by default (WeChat blocks accounts that talk too much): it speaks in a group
only when a person must act. These functions only build text; handlers decide when to speak.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from handlers.sorting import line_text, owed_block, priced, residents
from handlers.stock import stock_note
from models.identity import strip_seq
from models.money import fmt_qty
from models.rounds import EntryView, RoundState
from models.store.sorting import LineGoods

MAX_LISTED = 5  # problem lines listed in one reply; the leader sees the rest in the review


def chain_text(state: RoundState, entries: Sequence[EntryView] | None = None) -> str:
    """The round's chain as residents would copy it: head, then every active line renumbered."""
    active = list(entries) if entries is not None else state.active_entries()
    head = state.header.strip() or state.title
    note = stock_note(state)  # the deal's shared stock, when it runs low
    head = f"{head}\n{note}" if note else head
    body = "\n".join(f"{n}. {strip_seq(e.raw)}" for n, e in enumerate(active, 1))
    return f"{head}\n\n{body}" if body else head


def merged_chain(state: RoundState) -> str:
    return "有几条接龙被后面的复制漏掉了，订单都已记下。请复制这一版接着接龙：\n" + chain_text(
        state
    )


def problems_reply(sender_name: str, problems: Sequence[tuple[str, str]]) -> str:
    shown = [f"· {raw.strip()[:40]}（{reason}）" for raw, reason in problems[:MAX_LISTED]]
    more = f"\n……另有{len(problems) - MAX_LISTED}行" if len(problems) > MAX_LISTED else ""
    return (
        f"{sender_name} 这几行还没有计入合计，原文已记下（改好重发，或等团长确认）：\n"
        + "\n".join(shown)
        + more
    )


def late_reply(sender_name: str, cutoff: datetime | None, raws: Sequence[str]) -> str:
    when = f"（{cutoff:%m月%d日 %H:%M}）" if cutoff else ""
    listed = "；".join(r.strip()[:30] for r in raws[:3])
    return f"{sender_name} 本团已截单{when}，这次的接龙没有计入：{listed}"


def cancelled_reply(sender_name: str, entries: Sequence[EntryView]) -> str:
    listed = "；".join(strip_seq(e.raw)[:30] for e in entries)
    return f"{sender_name} 已取消：{listed}"


def closed_list(
    lines: Sequence[LineGoods], title: str, totals: Sequence[tuple[str, int, str | None]]
) -> str:
    """The final list from the active lines and their goods: each line with what it costs,
    the totals per product, then what each resident owes. At 22:00 thousands of rounds close
    together, so this needs no round state. Lines held for the leader's review are listed,
    marked, and left out of every total."""
    out = [f"【已截单】{title}".rstrip()]
    money = priced(lines)
    out.extend(f"{ln.number}. {line_text(ln, money)}" for ln in lines)
    if totals:
        out.append(
            "合计：" + "，".join(f"{name}{fmt_qty(q)}{unit or ''}" for name, q, unit in totals)
        )
    if money and (block := owed_block(residents(lines))):
        out.append(block)
    held_count = sum(1 for ln in lines if ln.held)
    waiting = f"（{held_count}单待团长确认）" if held_count else ""
    out.append(f"共{len(lines)}单{waiting}。之后的接龙不再计入。")
    return "\n".join(out)


def edit_confirm_reply(sender_name: str, changes: Sequence[tuple[str, str]]) -> str:
    listed = "；".join(f"“{strip_seq(a)[:24]}”→“{strip_seq(b)[:24]}”" for a, b in changes)
    return f"{sender_name} 已按你的新接龙修改：{listed}。不对的话请告诉团长。"


def unsure_reply(sender_name: str, entries: Sequence[EntryView]) -> str:
    listed = "；".join(f"{e.seq or '-'}. {strip_seq(e.raw)[:24]}" for e in entries)
    return f"{sender_name} 你之前接的“{listed}”这次没带上，订单仍保留。不要的话回复“取消 序号”。"


def stale_own_reply(sender_name: str, changes: Sequence[tuple[int, str, str]]) -> str:
    """The poster's copy carries lines of theirs as they were before an edit: the edit stands."""
    listed = "；".join(f"第{n}条“{strip_seq(now)[:24]}”" for n, now, _ in changes)
    return (
        f"{sender_name} 你这次复制的是改之前的版本，{listed}仍按改后的计入。"
        f"要改回请回复“改 {changes[0][0]} 商品数量”。"
    )
