"""Quantities and units as residents write them, found inside one item's text.

`苹果2份` `香蕉x2` `苹果+1` `两份苹果` `2斤苹果` `一斤半` `1号×2` `2号1` `11*3` — the number may be
Arabic or Chinese (cn2an), before or after the product. Callers pass text that is already
NFKC-folded (full-width digits become ASCII) and get back *spans*, so they can cut the
product and the unit out of the text exactly as it was written.

Digits that belong to a specification stay with the product: `上海盐汽水600ml*24瓶` and
`青岛清爽24罐装` carry no quantity of their own. Every pattern is anchored or guarded by a
look-behind, so the cost stays linear however long and strange the input is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache

import cn2an

# Measure words people write after a number. `两` (50 g) is left out on purpose: it is far
# more often the numeral 2. Volumes (`ml`, `L`) are specifications, not units of sale.
UNITS: tuple[str, ...] = (
    "公斤",
    "千克",
    "斤",
    "克",
    "kg",
    "KG",
    "Kg",
    "㎏",
    "g",
    "箱",
    "包",
    "袋",
    "盒",
    "份",
    "个",
    "只",
    "瓶",
    "罐",
    "听",
    "串",
    "把",
    "颗",
    "粒",
    "块",
    "条",
    "根",
    "桶",
    "提",
    "件",
    "套",
    "杯",
    "碗",
    "打",
    "支",
    "束",
    "盆",
    "人",
    "位",
    "张",
    "枚",
    "片",
    "对",
    "双",
    "组",
    "板",
    "盘",
    "捆",
    "筐",
    "兜",
    "扎",
    "卷",
    "副",
    "台",
    "本",
    "斗",
    "篮",
    "筒",
    "客",
    "碟",
    "排",
    "节",
    "株",
    "棵",
    "朵",
    "枝",
    "盅",
    "壶",
    "尾",
)
UNIT_SET = frozenset(UNITS)

_UNIT = "(?:" + "|".join(re.escape(u) for u in sorted(UNITS, key=len, reverse=True)) + ")"
_CN_CHARS = "零〇一二两俩三四五六七八九十百千万亿"
# A number: Arabic (never starting inside another number), Chinese (never starting inside
# another Chinese numeral), or 半. Bounded repeats keep backtracking linear.
_NUM = (
    r"(?:(?<![0-9.])[0-9]+(?:\.[0-9]+)?"
    rf"|(?<![{_CN_CHARS}])[{_CN_CHARS}]{{1,12}}(?:点[零〇一二三四五六七八九]{{1,6}})?"
    r"|半)"
)
_SP = r"\s{0,4}"
_TAIL = rf"{_SP}(?P<unit>{_UNIT})?(?P<half>半)?{_SP}$"

# Suffix forms, tried in this order on the end of a segment.
_MULT = re.compile(rf"(?:(?<![A-Za-z])[xX]|[×*✖]\ufe0f?|乘){_SP}(?P<num>{_NUM}){_TAIL}")
_PLUS = re.compile(rf"(?:\+|加){_SP}(?P<num>{_NUM}){_TAIL}")
_NEG = re.compile(
    rf"(?<![0-9A-Za-z\-])-{_SP}(?P<num>[0-9]+(?:\.[0-9]+)?){_SP}(?P<unit>{_UNIT})?{_SP}$"
)
_UNIT_SUFFIX = re.compile(rf"(?P<num>{_NUM}){_SP}(?P<unit>{_UNIT})(?P<half>半)?{_SP}$")
_BARE = re.compile(r"(?<![0-9.A-Za-z])(?P<num>[0-9]+(?:\.[0-9]+)?)\s{0,4}$")
# Prefix forms: `两份苹果`, `2斤苹果`, `一斤半香蕉`, `2x苹果`.
_UNIT_PREFIX = re.compile(rf"^\s{{0,4}}(?P<num>{_NUM}){_SP}(?P<unit>{_UNIT})(?P<half>半)?{_SP}")
_MULT_PREFIX = re.compile(r"^\s{0,4}(?P<num>[0-9]{1,4})\s{0,4}[xX×*]\s{0,4}(?=[^\s0-9])")
# A word that is nothing but a quantity: `2份` `x2` `×2` `+1` `加1` `两箱` `半斤` `2` `-3`.
_PURE = re.compile(
    rf"^\s{{0,4}}(?P<op>[xX×*✖]\ufe0f?|\+|加|乘|-)?{_SP}(?P<num>{_NUM}){_TAIL}"
)
# `600ml*24`: a size right before the multiplier makes the whole a specification; so does a
# counted unit when the multiplier carries one too (`500g*4袋`), while `苹果2斤x2` is 2 × 2斤.
_SIZE_BEFORE = re.compile(r"[0-9]\s{0,2}(?:ml|mL|ML|l|L|g|G|kg|KG|毫升|升|克|cm|mm|寸)\s{0,2}$")
_COUNT_BEFORE = re.compile(rf"[0-9]\s{{0,2}}{_UNIT}\s{{0,2}}$")
_SPEC_OPERATOR = re.compile(r"[*×xX/]\s{0,2}$")
# After a prefix quantity: `5斤装苹果` or `2斤/袋` are specifications, not quantities.
_SPEC_AFTER = re.compile(r"\s{0,2}(?:装|[*×/])")  # used with match(pos): no ^
# A menu number as an item, with nothing else: `1号`, `11`, `①`.
MENU_NUMBER = re.compile(r"^\s{0,4}(?:[0-9]{1,3}\s{0,2}号?|[\u2460-\u2473])\s{0,4}$")
_CN_NUMERAL = re.compile(f"[{_CN_CHARS}半]")

HALF = Decimal("0.5")


@dataclass(frozen=True, slots=True)
class Quantity:
    """A quantity found in a segment; spans index the segment the caller passed in.

    `start:end` is the whole quantity expression (to cut out of the product text);
    `unit_start:unit_end` is the measure word, empty when none was written.
    """

    qty: Decimal
    start: int
    end: int
    unit_start: int = 0
    unit_end: int = 0
    explicit: bool = True  # False for a bare trailing number (`苹果2`), which names can end in

    @property
    def has_unit(self) -> bool:
        return self.unit_end > self.unit_start


@lru_cache(maxsize=4096)
def to_number(text: str) -> Decimal | None:
    """`2` `2.5` `两` `十二` `半` `一点五` → Decimal; None when it is not a number.

    Arabic digits never reach cn2an (the fast path); Chinese numerals are memoised because
    the same few (`一` `两` `三`) recur on every line of a chain.
    """
    text = text.strip()
    if not text:
        return None
    if text == "半":
        return HALF
    if text[0].isascii():
        try:
            return Decimal(text)
        except InvalidOperation:
            return None
    try:
        value = cn2an.cn2an(text.replace("俩", "两"), "smart")
        return Decimal(str(value))
    except (ValueError, KeyError, IndexError, TypeError, AttributeError, ArithmeticError):
        return None


def _build(m: re.Match[str], negative: bool = False, explicit: bool = True) -> Quantity | None:
    num = to_number(m["num"])
    if num is None:
        return None
    groups = m.groupdict()
    if groups.get("half"):
        num += HALF
    if negative:
        num = -num
    if groups.get("unit"):
        us, ue = m.span("unit")
    else:
        us = ue = 0
    return Quantity(num, m.start(), m.end(), us, ue, explicit)


def _mult_is_spec(before: str, m: re.Match[str]) -> bool:
    """`600ml*24瓶`, `500g*4袋`: the multiplier is part of how the product is packed."""
    if _SIZE_BEFORE.search(before):
        return True
    return bool(m["unit"]) and _COUNT_BEFORE.search(before) is not None


def _is_spec(segment: str, at: int) -> bool:
    """Digits right after `*` or `/` (`600ml*24瓶`, `2斤/袋`) belong to a specification."""
    return _SPEC_OPERATOR.search(segment[:at]) is not None


@lru_cache(maxsize=16384)
def find_quantity(segment: str) -> Quantity | None:
    """The quantity written in one item segment (NFKC text), suffix forms first."""
    if not segment or len(segment) > 400:
        return None
    m = _MULT.search(segment)
    if m and not _mult_is_spec(segment[: m.start()], m):
        return _build(m)
    m = _PLUS.search(segment)
    if m:
        return _build(m)
    m = _NEG.search(segment)
    if m:
        return _build(m, negative=True)
    m = _UNIT_SUFFIX.search(segment)
    if m and not _is_spec(segment, m.start()):
        return _build(m)
    m = _UNIT_PREFIX.match(segment)
    if m and m.end() < len(segment) and not _SPEC_AFTER.match(segment, m.end()):
        return _build(m)
    m = _MULT_PREFIX.match(segment)
    if m:
        return _build(m)
    m = _BARE.search(segment)
    if m and segment[: m.start()].strip() and not _bare_is_label(segment[: m.start()]):
        return _build(m, explicit=False)
    return None


def _bare_is_label(head: str) -> bool:
    """`麻薯的1` is flavour + menu number 1, `4-7` a range, `600ml*24` a spec: not quantities."""
    head = head.rstrip()
    return head.endswith(("的", "-", "/", "*", "×", "x", "X", ".", "#"))


@lru_cache(maxsize=4096)
def pure_quantity(word: str) -> Quantity | None:
    """A word that is only a quantity (`4箱`, `x2`, `+1`, `两份`, `2`): it belongs to the
    item before it."""
    if not word or len(word) > 40:
        return None
    m = _PURE.match(word)
    if m is None:
        return None
    if m["num"] == "半" and not m["unit"]:
        return None  # `半` alone is more often a word than half of something
    return _build(m, negative=m["op"] == "-")


def has_chinese_numeral(text: str) -> bool:
    """Whether cn2an could be needed at all: the fast path skips lines without numerals."""
    return _CN_NUMERAL.search(text) is not None


def is_menu_number(text: str) -> bool:
    """`1号`, `11`, `①` standing alone: an order by menu number."""
    return MENU_NUMBER.match(text) is not None
