"""A round in memory: its products, entries and lines, and what one post changes in it.

The database is the durable record; this is a cache of it, validated on every message by the
round's `version` (bumped under the row lock). A post is then one lock, a diff in memory and a
few bulk writes: the number of database round trips per message does not grow with the chain.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from handlers.parsing.chain_parser import parse_menu
from handlers.parsing.matching import Product, ProductMatcher
from handlers.parsing.types import ParsedEntry
from models.identity import normalise

# Flags that keep an entry out of totals until the leader decides (`确认`, or fixes the line):
# the parser was not sure of it ("review"), or an item names nothing on the menu.
FLAG_REVIEW = "review"
FLAG_UNMATCHED = "unmatched_item"
FLAG_ACCEPTED = "accepted"  # the leader accepted the line as read
FLAG_UNIT = "unit_mismatch"  # the quantity's unit does not convert to a whole unit of sale
FLAG_OVER_LIMIT = "over_limit"  # the per-person limit would be exceeded: not counted
FLAG_SOLD_OUT = "sold_out"  # the round's stock cap would be exceeded: not counted
HOLD_FLAGS = frozenset({FLAG_REVIEW, FLAG_UNMATCHED, FLAG_UNIT, FLAG_OVER_LIMIT, FLAG_SOLD_OUT})


def is_held(flags: Sequence[str]) -> bool:
    """Kept, listed for the leader, out of totals: unsure and not yet accepted."""
    return FLAG_ACCEPTED not in flags and any(f in HOLD_FLAGS for f in flags)


@dataclass(frozen=True, slots=True)
class LineView:
    """One ordered product of an entry: matched product key (or None), text, exact quantity."""

    product_key: str | None
    item_text: str | None
    qty_milli: int
    unit: str | None
    match_how: str | None = None
    amount_fen: int | None = None  # exact price in fen; None when it cannot be priced


@dataclass(frozen=True, slots=True)
class Limits:
    """A product's limits in thousandths of a unit of sale; None means no limit."""

    limit_milli: int | None = None  # per person
    stock_milli: int | None = None  # for the whole round
    min_milli: int | None = None  # 成团 minimum, decided at cutoff


@dataclass(slots=True)
class EntryView:
    id: int
    pos: int
    identity: str
    seq: int | None
    name: str
    poster: str
    poster_name: str
    status: str
    raw: str
    flags: list[str]
    fork_noticed: bool
    lines: tuple[LineView, ...] = ()
    seen_mask: int = 0  # bit n set: the post that wrote this line carried the entry at pos n
    # The texts this line had before its edits (`改`, or its owner's new copy): identity and
    # the seen_mask of the post that wrote that text. A stale copy that still carries one of
    # them shows this line (never a new order), and descends from that post's version.
    former: tuple[tuple[str, int], ...] = ()

    @property
    def active(self) -> bool:
        return self.status == "active"

    @property
    def name_key(self) -> str:
        return normalise(self.name)

    @property
    def held(self) -> bool:
        return is_held(self.flags)


@dataclass(slots=True)
class RoundState:
    id: int
    room: str
    title: str
    header: str
    status: str
    cutoff_at: datetime | None
    version: int
    products: tuple[Product, ...]
    matcher: ProductMatcher
    entries: dict[str, EntryView] = field(default_factory=dict)
    max_pos: int = 0
    pending_merge_id: int | None = None  # outbox row of a merged chain not yet sent
    limits: dict[str, Limits] = field(default_factory=dict)
    # an old text's identity → its line now, and the seen_mask of the post that wrote it
    former: dict[str, tuple[EntryView, int]] = field(default_factory=dict)
    deal_key: str | None = None  # the platform deal it was opened from
    # The deal's shared stock of each limited product: (left, stock) in thousandths, as last
    # read or taken by this process (models/store/stock.py holds the one counter).
    stock_left: dict[str, tuple[int, int]] = field(default_factory=dict)
    # Products that do not ship (未成团 at a close): their lines hold no shared stock, also
    # after 重开 (what they took went back at that close).
    unshipped: frozenset[str] = frozenset()

    def shared_stock(self, left: dict[str, tuple[int, int]]) -> dict[str, tuple[int, int]]:
        """The deal's counters this round takes from: those of products that ship."""
        return {k: v for k, v in left.items() if k not in self.unshipped}

    def index_former(self, entry: EntryView) -> None:
        """Remember the line's earlier texts (after a load or an edit)."""
        for ident, mask in entry.former:
            self.former[ident] = (entry, mask)

    def numbered(self) -> list[EntryView]:
        """The active lines as the bot shows them (merged chain, final list, 我的订单, 核对):
        line n is element n-1. Every command that takes a number reads it here."""
        return self.active_entries()

    def by_number(self, n: int | None) -> EntryView | None:
        shown = self.numbered()
        return shown[n - 1] if n is not None and 1 <= n <= len(shown) else None

    @property
    def title_key(self) -> str:
        # Trimmed again: a round opened before titles were trimmed still matches its copies.
        return normalise(trim_title(self.title))

    def product(self, key: str | None) -> Product | None:
        if key is None:
            return None
        return next((p for p in self.products if p.key == key), None)

    def active_entries(self) -> list[EntryView]:
        return sorted((e for e in self.entries.values() if e.active), key=lambda e: e.pos)


# A title ends where the head's first line goes on to the cutoff, pickup or delivery:
# `11月23日 水果团 截单：今晚22:00 自提：…` is called `11月23日 水果团`.
_TITLE_END = re.compile(
    r"[\s，,；;。|｜]+(?=[^\s，,；;。|｜]*(?:截单|截止|自提|取货|提货|到货|配送|送货|发货))"
)
MAX_TITLE = 40


def trim_title(line: str) -> str:
    """The name part of a head's first line (unchanged when nothing is left after trimming)."""
    m = _TITLE_END.search(line)
    short = line[: m.start()].strip() if m else line.strip()
    return (short if normalise(short) else line.strip())[:MAX_TITLE]


def title_of(header: str) -> str:
    """What a chain is called: its head's first line with words, #接龙, cutoff and pickup
    removed (`11月23日 水果团`)."""
    for line in header.splitlines():
        text = line.replace("#接龙", "").replace("＃接龙", "").strip()
        if normalise(text):
            return trim_title(text)
    return ""


class RoundCache:
    """Round states by id, least recently used evicted first."""

    def __init__(self, capacity: int = 2000) -> None:
        self.capacity = capacity
        self._states: OrderedDict[int, RoundState] = OrderedDict()

    def get(self, round_id: int) -> RoundState | None:
        state = self._states.get(round_id)
        if state is not None:
            self._states.move_to_end(round_id)
        return state

    def put(self, state: RoundState) -> None:
        self._states[state.id] = state
        self._states.move_to_end(state.id)
        while len(self._states) > self.capacity:
            self._states.popitem(last=False)

    def drop(self, round_id: int) -> None:
        self._states.pop(round_id, None)

    def clear(self) -> None:
        self._states.clear()


@dataclass(slots=True)
class Draft:
    """A chain line as it will be stored."""

    identity: str
    parsed: ParsedEntry
    name: str
    lines: list[LineView]
    flags: list[str]
    poster: str | None = None  # who wrote it, when not the message's sender (native 接龙)
    poster_name: str | None = None


@dataclass(slots=True)
class Problem:
    """Something a person must look at: shown once, in one reply per post."""

    raw: str
    reason: str


@dataclass(slots=True)
class PostPlan:
    creates: list[Draft] = field(default_factory=list)
    edits: list[tuple[EntryView, Draft]] = field(default_factory=list)
    cancels: list[tuple[EntryView, str]] = field(default_factory=list)
    reactivates: list[EntryView] = field(default_factory=list)
    dropped: list[EntryView] = field(default_factory=list)  # others' lines missing: kept
    problems: list[Problem] = field(default_factory=list)
    late: list[Draft] = field(default_factory=list)
    full_copy: bool = False
    seen_mask: int = 0  # the known entries this post carries (bit n = pos n)
    confirm_edits: list[tuple[EntryView, Draft]] = field(default_factory=list)
    unsure: list[EntryView] = field(default_factory=list)  # own lines missing, kept: ask
    # The poster's own lines that came back in their old text (a copy from before an edit):
    # the edit stands, and its owner is told once.
    stale_own: list[tuple[EntryView, str]] = field(default_factory=list)
    # The 取消 lines that withdrew an entry, by the identity of their text: remembered as that
    # entry's texts, so a later copy carrying them withdraws nothing more.
    cancel_texts: list[tuple[EntryView, str]] = field(default_factory=list)

    @property
    def changes_orders(self) -> bool:
        return bool(self.creates or self.edits or self.cancels or self.reactivates)


def products_for_head(header: str, catalogue: Sequence[Product]) -> tuple[Product, ...]:
    """A round's products: the head's own menu when it has one, else the configured catalogue."""
    menu = parse_menu(header)
    if not menu:
        return tuple(catalogue)
    products: list[Product] = []
    seen: set[str] = set()
    for line in menu:
        p = Product.from_menu(line)
        pack = _pack(line.raw, p.sale_unit)
        if pack:
            p = replace(p, sale_unit=f"{p.sale_unit}（{pack}）")
        key = p.key
        n = 2
        while key in seen:  # two menu lines with one code: keep both, distinct keys
            key = f"{p.key}~{n}"
            n += 1
        seen.add(key)
        products.append(
            Product(
                key=key,
                name=p.name,
                code=p.code,
                aliases=p.aliases,
                price=p.price,
                sale_unit=p.sale_unit,
            )
        )
    return tuple(products)


_PACK = re.compile(r"[（(]\s*(\d+(?:\.\d+)?\s*[^\d\s)）]{1,3}?)\s*[)）]")


def _pack(raw: str, sale_unit: str | None) -> str | None:
    """What one unit of sale holds when the menu line says so: `18元/盒（12个）` → `12个`.

    The parser keeps the word sold by (`盒`); the bracket after it is how residents' other
    counts convert (12个 is one 盒, 20斤 of `箱（10斤）` two), so it stays with the unit.
    """
    if not sale_unit or any(ch.isdigit() for ch in sale_unit):
        return None
    at = raw.find("/" + sale_unit)
    if at < 0:
        return None
    m = _PACK.match(raw, at + 1 + len(sale_unit))
    return m.group(1).replace(" ", "") if m else None
