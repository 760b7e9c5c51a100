"""A platform deal's stock across its groups: each change to a deal round's counted lines
takes from or gives back to the deal's one counter (models/store/stock.py).

- a chain post: its new lines take what fits, in order; a line beyond the stock is kept and
  flagged (over the limit, in no total) and its poster told once, like any line over a limit;
  lines the post removes or replaces give their share back in the same statement;
- a command that changes counted lines (取消, 删, 改, 代接, 确认): the difference is settled;
- the chain the bot posts (接龙, a merged chain) says `剩余N份` once stock runs low.
Only rounds of deals with a shared stock pay for this: one statement per change.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from handlers.chain_plan import units_milli
from models.db import Conn
from models.money import fmt_qty, sale_word
from models.rounds import (
    FLAG_SOLD_OUT,
    Draft,
    EntryView,
    LineView,
    PostPlan,
    Problem,
    RoundState,
    is_held,
)
from models.store import stock
from models.store.stock import Ask

LOW_SHARE = 5  # stock is low once at most a fifth of it is left


def _units(state: RoundState, lines: Iterable[LineView]) -> dict[str, int]:
    """Thousandths of each shared-stock product the lines hold."""
    out: dict[str, int] = {}
    for ln in lines:
        if ln.product_key in state.stock_left and (u := units_milli(state, ln)) is not None:
            out[ln.product_key] = out.get(ln.product_key, 0) + u
    return out


def counted(state: RoundState) -> dict[str, int]:
    """What the round's counted lines (active, not held) hold of each shared product."""
    out: dict[str, int] = {}
    for e in state.active_entries():
        if not e.held:
            for k, u in _units(state, e.lines).items():
                out[k] = out.get(k, 0) + u
    return out


def _given_back(state: RoundState, entries: Sequence[EntryView], sign: int) -> dict[str, int]:
    out: dict[str, int] = {}
    for e in entries:
        if e.active and not e.held:
            for k, u in _units(state, e.lines).items():
                out[k] = out.get(k, 0) + sign * u
    return out


async def reserve(conn: Conn, state: RoundState, plan: PostPlan) -> None:
    """Take the post's lines from the deal's stock before they are written: those that do not
    fit are flagged sold out (held) and explained to the poster with the post's problems."""
    if state.deal_key is None or not state.stock_left:
        return
    offset = _given_back(state, [e for e, _ in plan.cancels] + [o for o, _ in plan.edits], -1)
    for k, u in _given_back(state, plan.reactivates, 1).items():
        offset[k] = offset.get(k, 0) + u
    drafts = [d for _, d in plan.edits] + plan.creates
    wants = [(d, _units(state, d.lines)) for d in drafts if not is_held(d.flags)]
    prefixes: dict[str, list[int]] = {}
    owners: dict[str, list[int]] = {}  # product → indexes into `wants`, in order
    for i, (_, units) in enumerate(wants):
        for k, u in units.items():
            if u > 0:
                run = prefixes.setdefault(k, [])
                run.append((run[-1] if run else 0) + u)
                owners.setdefault(k, []).append(i)
    asks = {
        k: Ask(offset.get(k, 0), prefixes.get(k, ()))
        for k in state.stock_left
        if offset.get(k) or prefixes.get(k)
    }
    if not asks:
        return
    got = await stock.take(conn, state.deal_key, asks)
    refused: dict[int, str] = {}  # index into `wants` → the product it did not get
    granted: dict[str, set[int]] = {}
    for k, g in got.items():
        ask = asks[k]
        fitted = sum(1 for p in ask.prefixes if ask.offset + p <= g.granted)
        granted[k] = set(owners.get(k, [])[:fitted])
        for i in owners.get(k, [])[fitted:]:
            refused.setdefault(i, k)
        state.stock_left[k] = (g.left, g.stock)
    if not refused:
        return
    # A line refused one product gives back what it was granted of the others.
    back: dict[str, int] = {}
    for i in refused:
        for k, u in wants[i][1].items():
            if i in granted.get(k, set()):
                back[k] = back.get(k, 0) - u
    if back:
        for k, g in (
            await stock.take(conn, state.deal_key, {k: Ask(v) for k, v in back.items()})
        ).items():
            state.stock_left[k] = (g.left, g.stock)
    for i, k in sorted(refused.items()):
        draft: Draft = wants[i][0]
        product = state.product(k)
        word = sale_word(product.sale_unit if product else None)
        left = fmt_qty(state.stock_left[k][0])
        draft.flags = sorted({*draft.flags, FLAG_SOLD_OUT})
        plan.problems.append(
            Problem(
                draft.parsed.raw,
                f"{product.name if product else k}只剩{left}{word}，这一行没有计入",
            )
        )


async def settle(conn: Conn, state: RoundState, before: dict[str, int]) -> None:
    """After a command changed counted lines: give back (or take) the difference. The leader
    or the line's owner decided, so nothing is refused here; 确认 may take the last units."""
    if state.deal_key is None or not state.stock_left:
        return
    after = counted(state)
    asks = {
        k: Ask(after.get(k, 0) - before.get(k, 0))
        for k in state.stock_left
        if after.get(k, 0) != before.get(k, 0)
    }
    for k, g in (await stock.take(conn, state.deal_key, asks)).items():
        state.stock_left[k] = (g.left, g.stock)


async def refresh(conn: Conn, state: RoundState) -> None:
    """Read the shared counters again (other groups take from them too) before showing them."""
    if state.deal_key is not None and state.stock_left:
        left = (await stock.left(conn, [state.deal_key])).get(state.deal_key, {})
        state.stock_left = state.shared_stock(left)


def stock_note(state: RoundState) -> str:
    """`【库存】烟台苹果剩余3份` for products whose shared stock runs low; "" otherwise."""
    low = []
    for p in state.products:
        left, total = state.stock_left.get(p.key, (0, 0))
        if total and left * LOW_SHARE <= total:
            word = sale_word(p.sale_unit)
            low.append(
                f"{p.name}剩余{fmt_qty(max(left, 0))}{word}" if left > 0 else f"{p.name}已售完"
            )
    return "【库存】" + "，".join(low) if low else ""
