"""Limits a leader writes in their own chain head, read as the deals file's are (pure).

`每人限2盒` / `限购2份` (per person), `限量20盒` / `仅20份` (the whole round), `满10份成团` /
`10份成团` (the 成团 minimum). Written on a menu line, a term is that product's; on another
line of the head it is every product's (the 已开团 confirmation says so, so the leader sees
what was understood). Quantities are converted to units of sale like orders are; a term whose
unit does not convert is reported back rather than guessed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from handlers.parsing.matching import Product
from models.money import fmt_qty, sale_word, units_of_sale
from models.rounds import Limits

_NUM = r"(\d+(?:\.\d+)?|[一二两三四五六七八九十]+)"
_UNIT = r"\s*([^\d\s，,。；;！!）)（(、]{0,2}?)"
TERMS = (
    (
        "limit_milli",
        re.compile(rf"(?:每人)?限购?\s*{_NUM}{_UNIT}(?=$|[\s，,。；;！!）)（(、]|份|盒)"),
    ),
    (
        "stock_milli",
        re.compile(rf"(?:限量|仅|只有|共)\s*{_NUM}{_UNIT}(?=$|[\s，,。；;！!）)（(、])"),
    ),
    ("min_milli", re.compile(rf"满?\s*{_NUM}{_UNIT}\s*成团")),
)
_CN = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


def _number(text: str) -> Decimal | None:
    if text[0].isdigit():
        return Decimal(text)
    if text == "十":
        return Decimal(10)
    tens, _, ones = text.partition("十")
    if "十" in text:
        return (
            Decimal(_CN.get(tens, 1) * 10 + _CN.get(ones, 0))
            if all(c in _CN for c in tens + ones)
            else None
        )
    return Decimal(_CN[text]) if text in _CN else None


@dataclass(frozen=True, slots=True)
class HeadTerms:
    limits: dict[str, Limits]
    unread: list[str]  # terms seen whose quantity does not convert to a unit of sale


def _terms_in(text: str) -> list[tuple[str, Decimal, str | None, str]]:
    found: list[tuple[str, Decimal, str | None, str]] = []
    taken: list[tuple[int, int]] = []
    for field, pattern in sorted(TERMS, key=lambda t: t[0] != "min_milli"):  # 满10份成团 first
        for m in pattern.finditer(text):
            if any(a < m.end() and m.start() < b for a, b in taken):
                continue
            if field == "limit_milli" and not m.group(0).startswith(("每人", "限购")):
                continue  # a bare `限2` is too loose; `限量` is stock
            if field == "limit_milli" and m.group(0).startswith("限量"):
                continue
            qty = _number(m.group(1))
            if qty is None:
                continue
            taken.append((m.start(), m.end()))
            found.append((field, qty, m.group(2) or None, m.group(0)))
    return found


def read_terms(header: str, products: Sequence[Product]) -> HeadTerms:
    """The limits a head sets, by product key."""
    limits: dict[str, Limits] = {}
    unread: list[str] = []
    own: set[tuple[str, str]] = set()  # (product, term) set on the product's own line
    lines = [(ln, [p for p in products if p.name and p.name in ln]) for ln in header.splitlines()]
    # A product's own line first: a general `每人限3份` does not override `每人限2盒` beside it.
    for line, on_line in sorted(lines, key=lambda t: not t[1]):
        for field, qty, unit, said in _terms_in(line):
            for p in on_line or products:
                if not on_line and (p.key, field) in own:
                    continue
                if on_line:
                    own.add((p.key, field))
                units = units_of_sale(qty, unit, p.sale_unit)
                if units is None and unit == sale_word(p.sale_unit):
                    units = qty
                if units is None:
                    unread.append(said.strip())
                    continue
                milli = int(units * 1000)
                limits[p.key] = replace(limits.get(p.key, Limits()), **{field: milli})
    return HeadTerms(limits, sorted(set(unread)))


def describe(products: Sequence[Product], limits: dict[str, Limits]) -> str:
    """`草莓 每人限2盒、限量20盒、满10盒成团` for the 已开团 confirmation."""
    parts: list[str] = []
    for p in products:
        lim = limits.get(p.key)
        if lim is None:
            continue
        word = sale_word(p.sale_unit)
        said = []
        if lim.limit_milli is not None:
            said.append(f"每人限{fmt_qty(lim.limit_milli)}{word}")
        if lim.stock_milli is not None:
            said.append(f"限量{fmt_qty(lim.stock_milli)}{word}")
        if lim.min_milli is not None:
            said.append(f"满{fmt_qty(lim.min_milli)}{word}成团")
        parts.append(f"{p.name} " + "、".join(said))
    return "；".join(parts)
