"""The parser's output types, shared by the chain engine and the `groupbuy parse` contract.

Quantities are Decimal so money computed from them stays exact; `to_json` renders them as
JSON numbers (int when whole) because that is the published contract.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

# Flags a parsed entry can carry. The leader sees flagged lines in the review list.
FLAG_UNREADABLE = "unreadable"  # no name and no item could be read from the line
FLAG_SAME_AS_ABOVE = "same_as_above"  # 同上 / 同楼上: copy the previous entry's items
FLAG_CANCEL = "cancel"  # the line itself says 取消 (the writer withdraws it)
FLAG_QTY_OUT_OF_RANGE = "qty_out_of_range"  # absurd or negative quantity, clamped/kept raw
FLAG_NO_NAME = "no_name"  # items but no name: attributed to the poster
FLAG_UNSPLIT = "unsplit"  # name and item run together and could not be told apart
FLAG_CONTROL_CHARS = "control_chars"  # control / zero-width characters were removed
FLAG_UNKNOWN_CODE = "unknown_code"  # a number where the menu has codes, but no such code
FLAG_BIG_NUMBER = "big_number"  # a long number (a door, an order number) read as an item
FLAG_LEFTOVER = "leftover"  # words after the goods that are neither an item nor a known note
FLAG_CONTINUED = "continued"  # the entry runs over several lines: read as one
FLAG_GLUED = "glued"  # two goods or a name and goods written without a space between
FLAG_NOT_ON_MENU = "not_on_menu"  # an item that names nothing on the chain's own menu
FLAG_AMBIGUOUS_NAME = "ambiguous_name"  # where the name ends is a guess
FLAG_BARE_NUMBER = "bare_number"  # a number where a product should be, and no menu numbers
FLAG_CHANGE = "change"  # `-3份`, `+2份炒饭`: a change to an earlier order, not an order
FLAG_MANY_COUNTS = "many_counts"  # several quantities in a one-product entry: which is the total?
FLAG_CLOSING = "closing"  # the slot only closes the list (`—— 截单！ ——`): no order, no doubt
FLAG_AUTHOR = "other_author"  # a native-chain entry claims another author: kept as the sender's
FLAG_NOTICE = (
    "notice"  # a sign-up's slot holds the organiser's words (`由于下雨，场地改成…`): no one
)
FLAG_ARRANGING = "arranging"  # a named sign-up arranging the meeting (`6点在门口集合`): coming?
FLAG_WITHDRAWING = "withdrawing"  # a sign-up saying sorry, next time (`不好意思，改去玩水啦`): out?

# Below this confidence an entry is kept for the leader's review and out of the totals.
REVIEW_BELOW = 0.75

# How much each doubt costs. An entry starts sure (1.0) and each flag multiplies it down; the
# weights say how often, in the real corpus, an entry carrying the flag was read wrong.
FLAG_WEIGHT: dict[str, float] = {
    FLAG_UNREADABLE: 0.0,
    FLAG_QTY_OUT_OF_RANGE: 0.0,
    FLAG_UNSPLIT: 0.3,
    FLAG_UNKNOWN_CODE: 0.4,
    FLAG_BIG_NUMBER: 0.4,
    FLAG_LEFTOVER: 0.6,
    FLAG_GLUED: 0.8,
    FLAG_CONTINUED: 0.85,
    FLAG_NOT_ON_MENU: 0.6,
    FLAG_AMBIGUOUS_NAME: 0.6,
    FLAG_CHANGE: 0.4,
    FLAG_BARE_NUMBER: 0.5,
    FLAG_MANY_COUNTS: 0.6,
    FLAG_AUTHOR: 0.0,
    FLAG_ARRANGING: 0.6,
    FLAG_WITHDRAWING: 0.6,
}

KINDS = ("order", "signup", "checkin", "report", "other")

# Quantities above this are almost certainly typos (99999999斤); they are flagged and kept.
MAX_QTY = Decimal(9999)


def qty_json(q: Decimal) -> int | float:
    """A quantity as the JSON number the contract promises (int when whole)."""
    if q == q.to_integral_value():
        return int(q)
    return float(q)


@dataclass(frozen=True, slots=True)
class ParsedItem:
    """One ordered product as written: `item` is the product text without quantity or unit."""

    item: str | None
    qty: Decimal = Decimal(1)
    unit: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"item": self.item, "qty": qty_json(self.qty), "unit": self.unit}


@dataclass(slots=True)
class ParsedEntry:
    """One participant line of a chain."""

    seq: int | None
    name: str | None
    items: list[ParsedItem]
    note: str | None
    raw: str
    flags: list[str] = field(default_factory=list)

    @property
    def confidence(self) -> float:
        """How sure the reading is, 0..1: the product of the flags' weights."""
        sure = 1.0
        for f in self.flags:
            sure *= FLAG_WEIGHT.get(f, 1.0)
        return round(sure, 3)

    @property
    def needs_review(self) -> bool:
        """Kept, shown to the leader and its poster, and out of totals until decided."""
        return self.confidence < REVIEW_BELOW

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "name": self.name,
            "items": [i.to_json() for i in self.items],
            "note": self.note,
            "raw": self.raw,
            "flags": list(self.flags),
            "confidence": self.confidence,
        }


@dataclass(frozen=True, slots=True)
class MenuLine:
    """A product offered in a chain head, e.g. `1号 烟台苹果 12.8元/3斤` or `C：牛肋条`.

    `code` is the menu number or letter as written without 号 ("1", "C"); `price` is the price
    of one unit of sale; `sale_unit` is what one unit of sale is ("3斤", "把", "盒").
    """

    code: str | None
    name: str
    price: Decimal | None
    sale_unit: str | None
    raw: str


@dataclass(slots=True)
class ParsedChain:
    """A whole message read as a chain: header text, menu found in it, and entries."""

    header: str
    entries: list[ParsedEntry]
    menu: list[MenuLine] = field(default_factory=list)
    has_marker: bool = False  # the message carries #接龙 (or the WeChat tool's marker)
    kind: str = "order"  # order | signup | checkin | report | other (KINDS)
    footer: str = ""  # the leader's text after the last entry
    skipped: list[str] = field(default_factory=list)  # empty slots and format lines, kept

    @property
    def is_chain(self) -> bool:
        """Worth handing to the chain engine: marked as a chain or carrying entries."""
        return self.has_marker or bool(self.entries)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "header": self.header,
            "footer": self.footer,
            "entries": [e.to_json() for e in self.entries],
        }
