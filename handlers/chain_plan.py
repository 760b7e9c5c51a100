"""Chain semantics as a pure function: what one post does to a round. No I/O here.

Nothing posted is ever lost (README, "Chain semantics in detail"):
- an entry never seen is a new order, attributed to the poster, with the name as written;
- an entry of the poster's own that changed is an edit, one they left out is a removal;
- entries by others missing from a post are kept (a fork), and the group gets one merged chain;
- a line saying 取消 withdraws the poster's own matching entry;
- after cutoff nothing counts, and the poster is told once.

"Left out" needs care: a resident who copies an older version of the chain, or another
branch of a fork, did not remove the lines that version lacked. The version a post was copied
from is the one that wrote its newest known line (its parent); only the poster's own lines that
the parent carried and the post does not count as removed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from decimal import Decimal

from handlers.parsing.matching import Product
from handlers.parsing.types import (
    FLAG_AMBIGUOUS_NAME,
    FLAG_AUTHOR,
    FLAG_BIG_NUMBER,
    FLAG_CANCEL,
    FLAG_CHANGE,
    FLAG_CLOSING,
    FLAG_GLUED,
    FLAG_LEFTOVER,
    FLAG_MANY_COUNTS,
    FLAG_NO_NAME,
    FLAG_QTY_OUT_OF_RANGE,
    FLAG_SAME_AS_ABOVE,
    FLAG_UNKNOWN_CODE,
    FLAG_UNREADABLE,
    FLAG_UNSPLIT,
    MAX_QTY,
    ParsedChain,
    ParsedEntry,
    ParsedItem,
)
from handlers.parsing.vocab import MONEY_UNITS
from models.identity import identities, name_key, strip_seq
from models.money import PORTION_WORDS, fmt_qty, line_amount_fen, sale_word, units_of_sale
from models.rounds import (
    FLAG_OVER_LIMIT,
    FLAG_REVIEW,
    FLAG_SOLD_OUT,
    FLAG_UNIT,
    FLAG_UNMATCHED,
    Draft,
    EntryView,
    LineView,
    PostPlan,
    Problem,
    RoundState,
    is_held,
)

FLAG_ASSUMED_SAME = "assumed_same_as_above"  # `+1` in a multi-product chain copies the line above
# What the poster is told when the parser was not sure of a line (the first that applies); the
# line is kept and out of the totals until the leader accepts (`确认 N`) or it is fixed.
DOUBTS = (
    (FLAG_CHANGE, "像是在改之前的数量，请直接改原来那一行"),
    (FLAG_MANY_COUNTS, "写了几个数量，不知道一共几份"),
    (FLAG_UNKNOWN_CODE, "菜单上没有这个编号"),
    (FLAG_BIG_NUMBER, "数字太大，像门牌号或单号"),
    (FLAG_AMBIGUOUS_NAME, "名字和商品连在一起，分不清"),
    (FLAG_UNSPLIT, "名字和商品连在一起，分不清"),
    (FLAG_GLUED, "几样东西连在一起写，分不太清"),
    (FLAG_LEFTOVER, "有几个字没看懂"),
    (FLAG_AUTHOR, "写的是别人的名字"),
)
UNSURE = "这一行我不太确定"
CANCEL_WHICH = "没找到要取消的是哪一行，请写“取消+序号”"


def doubt(flags: Sequence[str]) -> str:
    """Why the parser was unsure of a line, in the words its poster and leader are told."""
    return next((text for flag, text in DOUBTS if flag in flags), UNSURE)


FLAG_NO_ITEMS = "no_items"  # a line with a name but nothing ordered, in a chain with a menu


def _qty_milli(q: Decimal) -> int:
    return int((q * 1000).to_integral_value())


REVIVE_HINT = "这一行之前已删掉，没有恢复；要恢复请复制最新的接龙再接一次"


def _stale_copy(
    entries: Mapping[str, EntryView], present: set[str], line: EntryView, sender: str
) -> bool:
    """The post lacks someone else's active line written after `line`: it was copied from a
    version older than those, so a cancelled line it carries was carried, not written again."""
    return any(
        e.active and e.pos > line.pos and e.poster != sender and e.identity not in present
        for e in entries.values()
    )


def draft_lines(
    state: RoundState, entry: ParsedEntry, previous: list[LineView]
) -> tuple[list[LineView], list[str], list[str]]:
    """Order lines for one parsed entry, plus flags and human-readable problems."""
    flags = [f for f in entry.flags if f != FLAG_CANCEL]
    problems: list[str] = []
    if FLAG_QTY_OUT_OF_RANGE in entry.flags:
        return [], flags, ["数量看不懂"]
    if FLAG_SAME_AS_ABOVE in entry.flags:
        if not previous:
            return [], flags, ["“同上”前面没有可参照的一行"]
        return list(previous), flags, problems
    items: list[ParsedItem] = list(entry.items)
    lines: list[LineView] = []
    has_menu = bool(state.products)
    for it in items:
        if it.qty <= 0 or it.qty > MAX_QTY:
            return [], [*flags, FLAG_QTY_OUT_OF_RANGE], ["数量看不懂"]
        if it.item is None and len(state.products) > 1:
            # `+1` in a chain with several products: residents mean "same as the line above".
            if previous:
                flags.append(FLAG_ASSUMED_SAME)
                for p in previous:
                    qty = int(p.qty_milli * it.qty)
                    amount = line_amount_fen(state.product(p.product_key), qty, p.unit)
                    lines.append(
                        LineView(p.product_key, p.item_text, qty, p.unit, "same_as_above", amount)
                    )
                continue
            lines.append(LineView(None, None, _qty_milli(it.qty), it.unit, None))
            flags.append(FLAG_UNMATCHED)
            problems.append("没写要哪个商品")
            continue
        match = state.matcher.match(it.item)
        if match is None and has_menu:
            flags.append(FLAG_UNMATCHED)
            problems.append(f"没找到商品“{it.item}”")
        qty_milli, unit = _qty_milli(it.qty), it.unit
        if unit in MONEY_UNITS:  # `5元的`: money's worth, no count until the leader weighs it
            flags.append(FLAG_UNIT)
            problems.append(f"按金额买{fmt_qty(qty_milli)}{unit}，团长称好后确认数量")
        elif match is not None and match.product.sale_unit:
            converted = _in_units_of_sale(match.product, it.qty, it.unit)
            if isinstance(converted, str):
                flags.append(FLAG_UNIT)
                problems.append(converted)
            else:
                qty_milli, unit = converted
        lines.append(
            LineView(
                match.product.key if match else None,
                it.item,
                qty_milli,
                unit,
                match.how if match else None,
                line_amount_fen(match.product if match else None, qty_milli, unit),
            )
        )
    if FLAG_UNREADABLE in entry.flags:
        problems.append("没看懂")
    elif not items and has_menu and entry.name is not None:
        flags.append(FLAG_NO_ITEMS)
        problems.append("没写要什么")
    if entry.needs_review:
        flags.append(FLAG_REVIEW)
        if not problems:
            why = doubt(entry.flags)
            problems.append(f"{why}，团长确认前不计入合计")
    return lines, sorted(set(flags)), problems


def _in_units_of_sale(
    product: Product, qty: Decimal, unit: str | None
) -> tuple[int, str | None] | str:
    """A quantity counted in the product's unit of sale, or why it cannot be.

    `苹果6斤` of `12.8元/3斤` is 2份 and `鸭蛋12个` of `18元/盒（12个）` is one box, stored as
    units of sale (`份`; the written text stays in the line): a product's total is then one
    sum in one unit, priced exactly. A unit the menu does not convert (`鸡蛋1盒` of
    `25元/30枚`), or one that comes to part of a unit of sale (`苹果两斤` of 3斤 portions), is
    not guessed at: the line is held.
    """
    if unit is None or unit in PORTION_WORDS or unit == product.sale_unit:
        return _qty_milli(qty), unit
    units = units_of_sale(qty, unit, product.sale_unit)
    word = sale_word(product.sale_unit)
    sold = f"{product.name}按{product.sale_unit}卖" if word == "份" else f"{product.name}按{word}卖"
    if units is None:
        return f"{sold}，{fmt_qty(_qty_milli(qty))}{unit}换算不了，请写几{word}"
    if units != units.to_integral_value():
        return f"{sold}，{fmt_qty(_qty_milli(qty))}{unit}不是整{word}，请写几{word}"
    return int(units) * 1000, "份"  # one unit of sale (shown as 盒, 把… in totals)


def draft_entry(
    state: RoundState, ident: str, entry: ParsedEntry, sender_name: str, prev: list[LineView]
) -> tuple[Draft, list[str]]:
    lines, flags, problems = draft_lines(state, entry, prev)
    name = entry.name
    if not name:
        name = sender_name
        if FLAG_NO_NAME not in flags:
            flags = sorted({*flags, FLAG_NO_NAME})
    return Draft(ident, entry, name, lines, flags), problems


def plan_post(
    state: RoundState,
    parsed: ParsedChain,
    sender: str,
    sender_name: str,
    *,
    title_matched: bool,
    authors: Mapping[int, tuple[str, str]] | None = None,
) -> PostPlan:
    """Decide what a chain post from `sender` does to `state`. Mutates nothing.

    `authors` (entry number → contact id and name) comes from WeChat's native 接龙, which
    says who wrote each entry; a new entry is then credited to its author, not the sender.
    """
    plan = PostPlan()
    idents = identities(parsed.entries)
    entries = state.entries
    known = [e for e in map(entries.get, idents) if e is not None]
    # Lines carried in a text they had before an edit: the copy is older than the edit. They
    # are those lines (present, never new orders), but say nothing about which version the
    # copy descends from beyond their position.
    stale = [f for i in idents if i not in entries and (f := state.former.get(i)) is not None]
    # The version the post descends from is the one that wrote its newest known line (in
    # the text the post carries: for an old text, the post that wrote that text).
    versions = [(e.pos, e.seen_mask) for e in known] + [(e.pos, m) for e, m in stale]
    mask = 0
    for pos, _ in versions:
        mask |= 1 << pos
    plan.seen_mask = mask
    parent_mask = max(versions, default=(0, 0))[1]
    from_others = any(e.poster != sender for e in (*known, *(e for e, _ in stale)))
    plan.full_copy = title_matched or from_others
    present = set(idents) | {e.identity for e, _ in stale}
    closed = state.status != "open"

    # Walk the post in order, keeping the previous line's order lines for 同上 / +1.
    previous: list[LineView] = []
    cancel_lines: list[tuple[str, ParsedEntry, bool]] = []
    new_drafts: list[Draft] = []
    last_known_index = -1
    for k in range(len(idents) - 1, -1, -1):
        found = entries.get(idents[k])
        if found is not None and found.status == "active":
            last_known_index = k
            break
    for index, (ident, entry) in enumerate(zip(idents, parsed.entries, strict=True)):
        seen = state.entries.get(ident)
        if FLAG_CANCEL in entry.flags:
            # A 取消 line acts once, when it is written: below every line still counted. Carried
            # in later copies it is history, and must not take the poster's next order with it.
            if ident not in state.former and index > last_known_index:
                cancel_lines.append((ident, entry, index == len(idents) - 1))
            continue
        if FLAG_CLOSING in entry.flags:
            continue  # `—— 截单！ ——` in a slot: the leader's word, no order (the post is kept)
        if seen is None and (old_text := state.former.get(ident)) is not None:
            edited = old_text[0]
            # A copy from before this line's edit: the edit stands. Its owner re-pasting the
            # old text may have meant to change it back, so they are asked (once).
            if edited.poster == sender and edited.active and not closed:
                plan.stale_own.append((edited, entry.raw))
            previous = list(edited.lines)
            continue
        if seen is not None:
            if (
                not seen.active
                and seen.poster == sender
                and index == len(idents) - 1
                and index > last_known_index
            ):
                if _stale_copy(entries, present, seen, sender):
                    # Carried in a copy older than lines others added since: not written
                    # again. Kept cancelled, and its owner is told how to bring it back.
                    plan.problems.append(Problem(entry.raw, REVIVE_HINT))
                else:
                    plan.reactivates.append(seen)  # its owner wrote it again as the newest line
            previous = list(seen.lines)
            continue
        author = authors.get(entry.seq) if authors and entry.seq is not None else None
        if author is not None and author[0] != sender:
            draft, problems = draft_entry(state, ident, entry, author[1], previous)
            draft.poster, draft.poster_name = author
        else:
            draft, problems = draft_entry(state, ident, entry, sender_name, previous)
        previous = draft.lines
        if closed:
            plan.late.append(draft)
            continue
        new_drafts.append(draft)
        plan.problems.extend(Problem(entry.raw, p) for p in problems)

    if closed:
        return plan

    # The poster's own lines that this post no longer carries. Certain: the version it was
    # copied from had them. Unsure: the line is newer than that version, but the post is the
    # line's own version (or older) — the poster deleted their newest line, or re-pasted an
    # old copy from the clipboard. Pure deletions and look-alike edits are taken as meant;
    # anything else keeps the line and asks its owner.
    own_missing: list[tuple[EntryView, bool]] = []
    if plan.full_copy:
        own = [e for e in entries.values() if e.poster == sender and e.status == "active"]
        for e in sorted(own, key=lambda e: e.pos):
            if e.identity in present:
                continue
            if (parent_mask >> e.pos) & 1:
                own_missing.append((e, True))
            elif (known or title_matched) and plan.seen_mask & ~e.seen_mask == 0:
                own_missing.append((e, False))
    adds_own_lines = bool(new_drafts)

    for old, certain in own_missing:
        if not certain and old.fork_noticed:
            # Someone else's fork already dropped this line, so the poster may simply have
            # copied that branch: keep it and ask rather than guess (even when a new line
            # of theirs looks like its edit: a kept line costs a question, a lost one an order).
            plan.unsure.append(old)
            continue
        partner = _edit_partner(old, new_drafts, strict=not certain)
        if partner is not None:
            new_drafts.remove(partner)
            plan.edits.append((old, partner))
            if not certain:
                plan.confirm_edits.append((old, partner))
        elif certain or not adds_own_lines:
            plan.cancels.append((old, "removed"))
        else:
            plan.unsure.append(old)
    plan.creates = new_drafts
    if plan.cancels or plan.edits or plan.unsure:
        # A post that drops the poster's own lines is a copy of some version, not a re-order:
        # a cancelled line in it is that version's, not written again.
        plan.reactivates = []

    _enforce_limits(state, plan)

    # Explicit 取消 lines withdraw the poster's own entry with that number or name.
    cancelled_ids = {e.id for e, _ in plan.cancels} | {e.id for e, _ in plan.edits}
    for ident, line, newest in cancel_lines:
        target = _own_entry(state, sender, line, exclude=cancelled_ids)
        if target is None:
            if newest and not line.items:  # their own 取消, written last: which line was it?
                plan.problems.append(Problem(line.raw, CANCEL_WHICH))
            continue
        if _takes_part(line, target):
            # `取消1份` of three: fewer, not none. The order stands as it was and this line is
            # held for the leader, its poster told to change their own line instead.
            draft, _ = draft_entry(state, ident, line, sender_name, [])
            draft.flags = sorted({*draft.flags, FLAG_CHANGE, FLAG_CANCEL, FLAG_REVIEW})
            new_drafts.append(draft)
            plan.problems.append(Problem(line.raw, doubt(draft.flags)))
            continue
        plan.cancels.append((target, "cancel_line"))
        plan.cancel_texts.append((target, ident))
        cancelled_ids.add(target.id)

    # Others' lines missing from a full copy: a fork. They stay; the group is told once.
    if plan.full_copy:
        dropped = [
            e
            for e in entries.values()
            if e.status == "active"
            and not e.fork_noticed
            and e.poster != sender
            and e.identity not in present
        ]
        plan.dropped = sorted(dropped, key=lambda e: e.pos)
    return plan


def units_milli(state: RoundState, line: LineView) -> int | None:
    """A line's quantity in thousandths of its product's unit of sale (None: not comparable)."""
    product = state.product(line.product_key)
    if product is None:
        return None
    units = units_of_sale(Decimal(line.qty_milli) / 1000, line.unit, product.sale_unit)
    return None if units is None else int(units * 1000)


def _enforce_limits(state: RoundState, plan: PostPlan) -> None:
    """Per-person limits and stock caps, checked line by line in posting order.

    A line over a limit is kept with what it asked for, held (out of every total, marked in
    the final list) until the leader accepts it (`确认`) or it is fixed, and its poster is told
    exactly what happened, once. Held lines do not use up a limit.
    "Per person" is per name as written: a neighbour ordered for (代接) has their own limit.
    """
    if not state.limits:
        return
    replaced = {e.id for e, _ in plan.cancels} | {old.id for old, _ in plan.edits}
    round_total: dict[str, int] = {}
    person_total: dict[tuple[str, str], int] = {}

    def count(who: str, lines: Sequence[LineView]) -> None:
        for ln in lines:
            u = units_milli(state, ln)
            if ln.product_key is None or u is None:
                continue
            round_total[ln.product_key] = round_total.get(ln.product_key, 0) + u
            pk = (who, ln.product_key)
            person_total[pk] = person_total.get(pk, 0) + u

    for e in state.active_entries():
        if e.id not in replaced and not e.held:
            count(e.name_key, e.lines)
    for d in [d for _, d in plan.edits] + plan.creates:
        who = name_key(d.name)
        reason: str | None = None
        flag = ""
        for ln in d.lines:
            limits = state.limits.get(ln.product_key or "")
            u = units_milli(state, ln)
            if limits is None or u is None or ln.product_key is None:
                continue
            mine = person_total.get((who, ln.product_key), 0)
            sold = round_total.get(ln.product_key, 0)
            product = state.product(ln.product_key)
            label = product.name if product else ln.product_key
            word = sale_word(product.sale_unit if product else None)
            if limits.limit_milli is not None and mine + u > limits.limit_milli:
                reason = f"超过每人限购{fmt_qty(limits.limit_milli)}{word}，这一行没有计入"
                flag = FLAG_OVER_LIMIT
            elif limits.stock_milli is not None and sold + u > limits.stock_milli:
                left = max(0, limits.stock_milli - sold)
                reason = f"{label}只剩{fmt_qty(left)}{word}，这一行没有计入"
                flag = FLAG_SOLD_OUT
            if reason:
                break
        if reason:
            d.flags = sorted({*d.flags, flag})
            plan.problems.append(Problem(d.parsed.raw, reason))
        elif not is_held(d.flags):
            count(who, d.lines)


def _edit_partner(old: EntryView, drafts: list[Draft], *, strict: bool) -> Draft | None:
    """The new line that replaces `old`: same written number, or same name.

    When unsure whether `old` was deliberately changed, both must agree.
    """
    same_seq = [d for d in drafts if d.parsed.seq is not None and d.parsed.seq == old.seq]
    same_name = [d for d in drafts if name_key(d.name) == old.name_key]
    if strict:
        both = [d for d in same_seq if d in same_name]
        return both[0] if both else None
    candidates = same_seq or same_name
    return candidates[0] if candidates else None


_COUNT_SAID = re.compile(r"\d|[一两二三四五六七八九十半][份个斤箱盒包袋瓶把只杯罐]")


def _takes_part(line: ParsedEntry, target: EntryView) -> bool:
    """The 取消 line names less than the entry holds (`取消1份` of 3份, one kind of two)."""
    if not line.items or not target.lines:
        return False
    named = sum(1 for it in line.items if it.item)
    if 0 < named < len(target.lines):
        return True  # `取消苹果` of 苹果 and 香蕉: the bananas stand
    said = strip_seq(line.raw).replace(line.name or "\x00", "", 1)
    if _COUNT_SAID.search(said) is None:
        return False  # `张三 取消` in a one-meal chain reads as one portion: none was written
    asked = sum(_qty_milli(it.qty) for it in line.items)
    return asked < sum(ln.qty_milli for ln in target.lines)


def _own_entry(
    state: RoundState, sender: str, line: ParsedEntry, *, exclude: set[int]
) -> EntryView | None:
    mine = [e for e in state.active_entries() if e.poster == sender and e.id not in exclude]
    if line.seq is not None:
        for e in mine:
            if e.seq == line.seq:
                return e
    key = name_key(line.name)
    if key:
        same_name = [e for e in mine if e.name_key == key]
        if len(same_name) > 1:  # an order, and a line of theirs held for review: the order
            same_name = [e for e in same_name if not is_held(e.flags)]
        if len(same_name) == 1:
            return same_name[0]
    if len(mine) == 1 and not line.name:
        return mine[0]
    return None
