"""Quantities and units as residents write them, split off the product text.

`苹果2份` `香蕉x2` `苹果+1` `两份苹果` `2斤苹果` `一斤半` `1号×2` `2号1` `11*3` — the number may
be Arabic, full-width or Chinese (cn2an), before or after the item; what remains is the item as
written. Digits that belong to a specification (`600ml*24瓶`) are left to the caller, which
only asks for a quantity where one can stand.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from functools import lru_cache

import cn2an

UNITS = [
    "公斤",
    "千克",
    "斤",
    "克",
    "kg",
    "KG",
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
    "笼",
    "小时",  # `日常保洁 4小时`, `开荒 120平米`: services by the hour or the floor area
    "平米",
    "平方",
    "次",
    "两",  # `虾仁三两`, `五花肉8两`: a weight after a number (两斤 is still two 斤)
    # as written in traditional characters (`菠蘿包4個`, `雞翼10隻`)
    "個",
    "隻",
    "條",
    "塊",
    "雙",
    "張",
    "組",
    "對",
    "盤",
]
# Longest first, so `kg` is never read as `g`; the one-character units as one class, which
# the regex engine tests in one step where it would try fifty alternatives one by one.
_BY_LENGTH = sorted(UNITS, key=len, reverse=True)
UNIT_ALT = "|".join(
    [
        *(re.escape(u) for u in _BY_LENGTH if len(u) > 1),
        "[" + "".join(re.escape(u) for u in _BY_LENGTH if len(u) == 1) + "]",
    ]
)
_UNIT_ALT = UNIT_ALT
_CN_DIGITS = "零〇一二两兩俩三四五六七八九十百千"  # 兩 as written in traditional Chinese
NUM = rf"(?:\d+(?:\.\d+)?|[{_CN_DIGITS}]+(?:点[{_CN_DIGITS}]+)?|半)"
_HALF = r"(?:半)?"
_UNIT_ENDINGS = tuple(UNITS)

# Suffix forms, tried in order on the end of an item segment.
TIMES_SIGNS = "xX×*＊✖✕"  # `x2`, `×2`, `✖️2`: the signs written for "times"
_TIMES_SIGN = rf"(?:[{TIMES_SIGNS}]\ufe0f?|乘)"  # `✖️2`: the emoji sign, with its selector
_SUFFIX_MULT = re.compile(rf"\s*{_TIMES_SIGN}\s*(?P<num>{NUM})\s*(?P<unit>{_UNIT_ALT})?\s*$")
_SUFFIX_PLUS = re.compile(rf"\s*(?:\+|＋|再?加)\s*(?P<num>{NUM})\s*(?P<unit>{_UNIT_ALT})?\s*$")
_SUFFIX_UNIT = re.compile(rf"\s*(?P<num>{NUM})\s*(?P<unit>{_UNIT_ALT})(?P<half>{_HALF})\s*$")
_NOT_UNIT = (_SUFFIX_MULT, _SUFFIX_PLUS)
_SUFFIX_BARE = re.compile(r"(?<![\d.])\s*(?P<num>\d{1,4}(?:\.5)?)\s*$")  # `牛腩1.5`: half too
# `2x`: the count, then the times sign (as `x2` writes it the other way round).
COUNT_BEFORE_TIMES = re.compile(r"(?<![A-Za-z\d.])\s*(?P<num>\d{1,3})\s*[xX×]$")
_PREFIX_UNIT = re.compile(rf"^\s*(?P<num>{NUM})\s*(?P<unit>{_UNIT_ALT})(?P<half>{_HALF})\s*")
_PREFIX_MULT = re.compile(rf"^\s*(?P<num>\d+)\s*(?:[{TIMES_SIGNS}]\ufe0f?)\s*")
# What the patterns above need somewhere in the text: a × or + sign, or a number at the start.
_SIGN_HINT = re.compile(rf"[{TIMES_SIGNS}乘+＋加]")
_NUM_START = frozenset(_CN_DIGITS + "半")
_PURE_LAST = frozenset([*(u[-1] for u in UNITS), "半"])  # what a unit, or a half, ends with
# `苹果-3` and `苹果-3斤`: the sign is kept (with or without a unit) so the line is refused,
# never read as 3斤. Bounded: one run of digits, an optional unit, the end.
_NEGATIVE = re.compile(
    rf"(?<![\d\-－−])\s*[-－−]\s*(\d{{1,12}}(?:\.\d{{1,12}})?)\s*(?:{_UNIT_ALT})?\s*$"
)
QTY_STEP = Decimal("0.001")  # quantities are stored in thousandths (qty_milli)
# A menu number as an item: `1号`, `11`, `①`.
MENU_NUMBER = re.compile(r"^\s*(?:\d{1,3}\s*号?|[\u2460-\u2473])")


def to_number(text: str) -> Decimal | None:
    """`2` `2.5` `两` `十二` `半` `一点五` → Decimal; None when it is not a number."""
    text = text.strip()
    if not text:
        return None
    if text == "半":
        return Decimal("0.5")
    single = _CN_SINGLE.get(text)  # `两` `三` `十`: most Chinese quantities are one character
    if single is not None:
        return single
    try:
        if text[0].isdigit():
            return Decimal(text)
    except InvalidOperation:
        return None
    return _cn_number(text)


@lru_cache(maxsize=4096)
def _cn_number(text: str) -> Decimal | None:
    """cn2an's reading of a Chinese numeral (pure, and slow: memoised)."""
    try:
        value = cn2an.cn2an(text.replace("俩", "两").replace("兩", "两"), "smart")
    except (ValueError, KeyError, InvalidOperation, IndexError):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


# cn2an's own answers for the single characters, read once at import.
_CN_SINGLE: dict[str, Decimal] = {ch: v for ch in _CN_DIGITS if (v := _cn_number(ch)) is not None}
_cn_number.cache_clear()


def _with_half(num: Decimal, half: str | None) -> Decimal:
    return num + Decimal("0.5") if half else num


@lru_cache(maxsize=65536)
def split_quantity(segment: str) -> tuple[str, Decimal | None, str | None]:
    """Split one item segment into (item text, quantity or None, unit or None).

    Memoised: item words (`苹果2份`, `x2`, `2号1`) recur across a chain's lines, and the
    answer is immutable."""
    text = segment.strip()
    if not text:
        return text, None, None
    # Each pattern is tried only where it can match: _SUFFIX_UNIT on text ending in a unit (and
    # 半), the ×/+ forms on text holding their sign, the prefix forms on text starting with a
    # number, the bare suffix on text ending in a digit. Most words fail every test cheaply.
    ends_in_unit = (text[:-1] if text.endswith("半") else text).endswith(_UNIT_ENDINGS)
    signed = _SIGN_HINT.search(text) is not None
    if ends_in_unit or signed:
        patterns = (_SUFFIX_MULT, _SUFFIX_PLUS, _SUFFIX_UNIT) if ends_in_unit else _NOT_UNIT
        for pattern in patterns:
            m = pattern.search(text)
            if (
                m
                and pattern is _SUFFIX_PLUS
                and text[m.start() :].lstrip()[:1] == "再"
                and split_quantity(text[: m.start()])[1] is not None
            ):
                continue  # `西红柿3斤再加1斤`: one more on a count, for the leader to add
            if m:
                num = to_number(m["num"])
                if num is not None:
                    half = m.groupdict().get("half")
                    return text[: m.start()].strip(), _with_half(num, half), m["unit"]
    lead = text[0]
    if lead.isdecimal() or lead in _NUM_START:
        m = _PREFIX_UNIT.match(text)
        if m and m.end() < len(text):
            num = to_number(m["num"])
            if num is not None:
                return text[m.end() :].strip(), _with_half(num, m["half"]), m["unit"]
        m = _PREFIX_MULT.match(text)
        if m and m.end() < len(text):
            return text[m.end() :].strip(), Decimal(m["num"]), None
    if text[-1] in "xX×" and (after := COUNT_BEFORE_TIMES.search(text)) is not None:
        return text[: after.start()].strip(), Decimal(after["num"]), None  # `沃柑2x`, `2x`
    m = _SUFFIX_BARE.search(text) if text[-1].isdecimal() else None
    if m and m.start() > 0:
        head = text[: m.start()].strip()
        # `2号1` → item 2号 qty 1; `苹果2` → 苹果 qty 2. A bare menu number (`11`) has none.
        if head and not head[-1].isdigit():
            return head, Decimal(m["num"]), None
    return text, None, None


def is_negative(segment: str) -> tuple[str, Decimal] | None:
    """`苹果-3` → ("苹果", -3): kept as written so the engine can refuse it with a reason."""
    m = _NEGATIVE.search(segment) if "-" in segment else None
    if m is None:
        return None
    return segment[: m.start()].strip(), -Decimal(m.group(1))


def is_storable(qty: Decimal) -> bool:
    """A quantity finer than a thousandth (`0.0001份`) would be stored as 0 or rounded: it is
    flagged instead, so the poster is asked and nothing is silently changed."""
    return qty % QTY_STEP == 0


def pure_quantity(segment: str) -> tuple[Decimal, str | None] | None:
    """`4箱`, `x2`, `+1`, `两份` alone: a quantity for the item before it. Only a text ending
    in a unit (or 半) or holding a sign can be one (split_quantity's first test): the others,
    names and door numbers (`12栋302`) among them, are spared the split."""
    if segment.rstrip()[-1:] not in _PURE_LAST and _SIGN_HINT.search(segment) is None:
        return None
    item, qty, unit = split_quantity(segment)
    if qty is not None and not item:
        return qty, unit
    return None


def has_quantity(segment: str) -> bool:
    return split_quantity(segment)[1] is not None


def clear_caches() -> None:
    """Forget memoised quantities (for measuring a cold parse)."""
    split_quantity.cache_clear()
    _cn_number.cache_clear()
