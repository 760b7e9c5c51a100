"""What an order line costs, exactly: quantity in units of sale × price, in integer fen.

A menu line `1号 烟台苹果 12.8元/3斤` sells by the portion of 3斤 at 12.80: `苹果2份`, `1号x2` and
`苹果6斤` are all two portions (25.60). `2号 海南香蕉 9.9元/把` sells by the 把: `香蕉1把` is
9.90. `咸鸭蛋 18元/盒（12个）` sells boxes: `鸭蛋24个` is two. A unit that cannot be converted
(`苹果2箱`), or that comes to part of a unit of sale (`苹果两斤`), has no amount: the line is held
and its poster told (handlers/chain_plan.py).
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

from handlers.parsing.matching import Product

# `3斤`, `把`, `盒（12个）`, `箱(10斤)`: a size, the word sold by, and what one of them holds.
_SALE_UNIT = re.compile(
    r"^\s*(\d+(?:\.\d+)?)?\s*([^\d\s（(]+?)\s*"
    r"(?:[（(]\s*(\d+(?:\.\d+)?)\s*([^\d\s)）]+?)\s*[)）])?\s*$"
)
# Weights convert among themselves; everything else only to itself.
_GRAMS = {
    "斤": Decimal(500),
    "公斤": Decimal(1000),
    "千克": Decimal(1000),
    "kg": Decimal(1000),
    "KG": Decimal(1000),
    "克": Decimal(1),
    "g": Decimal(1),
    "两": Decimal(50),
}
PORTION_WORDS = frozenset({"份"})


def to_fen(amount: Decimal) -> int:
    """Yuan → integer fen, rounding half up (how a cashier rounds)."""
    return int((amount * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _as(qty: Decimal, unit: str, size: Decimal, word: str) -> Decimal | None:
    """`qty unit` in multiples of `size word`, when the two measure the same thing."""
    if unit == word:
        return qty / size
    if unit in _GRAMS and word in _GRAMS:
        return qty * _GRAMS[unit] / (size * _GRAMS[word])
    return None


def units_of_sale(qty: Decimal, unit: str | None, sale_unit: str | None) -> Decimal | None:
    """How many units of sale `qty unit` is, or None when the units do not convert.

    The menu says how: `12.8元/3斤` sells 3斤 portions (6斤 is two), `18元/盒（12个）` sells
    boxes of 12 (12个 is one box), `25元/30枚` sells 30 at a time.
    """
    if unit is None or unit in PORTION_WORDS or unit == sale_unit:
        return qty
    m = _SALE_UNIT.match(sale_unit or "")
    if m is None:
        return None
    size = Decimal(m.group(1)) if m.group(1) else Decimal(1)
    units = _as(qty, unit, size, m.group(2))
    if units is None and m.group(3):
        units = _as(qty, unit, Decimal(m.group(3)), m.group(4))
    return units


def sale_word(sale_unit: str | None) -> str:
    """How one unit of sale is called: `把` for 9.9元/把, `盒` for 18元/盒（12个）, and `份` for
    12.8元/3斤 (a portion of 3斤)."""
    m = _SALE_UNIT.match(sale_unit or "")
    if m is None or m.group(1):
        return "份"
    return m.group(2)


def line_amount_fen(product: Product | None, qty_milli: int, unit: str | None) -> int | None:
    """The exact price of one order line in fen, or None when it cannot be priced."""
    if product is None or product.price is None:
        return None
    units = units_of_sale(Decimal(qty_milli) / 1000, unit, product.sale_unit)
    if units is None:
        return None
    return to_fen(units * product.price)


def fen_str(fen: int) -> str:
    """Integer fen as the exact decimal string the tally contract promises ("25.60")."""
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{fen // 100}.{fen % 100:02d}"


def commission_fen(amount_fen: int, rate: Decimal) -> int:
    """The leader's commission on a group's sales: the group's rate, rounded to the fen."""
    return to_fen(Decimal(amount_fen) / 100 * rate)


def fmt_qty(qty_milli: int) -> str:
    """Thousandths of a unit as people write them: 2, 0.5, 1.5."""
    q = Decimal(qty_milli) / 1000
    return str(int(q)) if q == q.to_integral_value() else format(q.normalize(), "f")


def qty_number(qty_milli: int) -> int | float:
    """Thousandths back to the JSON number people wrote (2, 0.5, 1.5)."""
    return qty_milli // 1000 if qty_milli % 1000 == 0 else qty_milli / 1000


def yuan(fen: int) -> Decimal:
    """Integer fen as an exact Decimal of yuan (for spreadsheets)."""
    return Decimal(fen) / 100
