"""Written item text → one of the round's products.

Order of trust: implicit (a single-product chain), exact name, alias, menu code (`1号`, `C`,
`C 牛肋条`, `h三鲜`), containment (`苹果` → 烟台苹果), fuzzy (rapidfuzz) and pinyin homophones
(`平果` → 苹果). Anything ambiguous returns None: the engine flags it for the leader rather
than guess.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from pypinyin import lazy_pinyin
from rapidfuzz import fuzz, process

from handlers.parsing.types import MenuLine

FUZZY_MIN = 80.0  # WRatio below this is a different product (香蕉 vs 香菜 scores ~50)
FUZZY_MARGIN = 8.0  # the best must beat the runner-up by this much, else it is a guess
CACHE_LIMIT = 4096

_CIRCLED = {chr(0x2460 + i): str(i + 1) for i in range(20)}
# A menu code at the start of the item: `1号`, `12`, `C`, `c` followed by a non-letter.
_LEADING_CODE = re.compile(r"^\s*(?:(\d{1,3})\s*号?|([A-Za-z])(?![A-Za-z]))")


def _fold(text: str) -> str:
    """Comparison form: NFKC, casefold, letters/digits/CJK only (emoji and marks dropped)."""
    text = "".join(_CIRCLED.get(ch, ch) for ch in text)
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in folded if ch.isalnum())


def _pinyin(text: str) -> str:
    return "".join(lazy_pinyin(text))


@dataclass(frozen=True, slots=True)
class Product:
    """A product on offer in a round."""

    key: str
    name: str
    code: str | None = None
    aliases: tuple[str, ...] = ()
    price: Decimal | None = None
    sale_unit: str | None = None

    @classmethod
    def from_menu(cls, line: MenuLine) -> Product:
        return cls(
            key=line.code or line.name,
            name=line.name,
            code=line.code,
            price=line.price,
            sale_unit=line.sale_unit,
        )


@dataclass(frozen=True, slots=True)
class Match:
    product: Product
    how: str
    score: float


class ProductMatcher:
    """Built once per round; `match` is called for every order line and memoised."""

    def __init__(self, products: Sequence[Product]) -> None:
        self._products = tuple(products)
        self._by_name: dict[str, list[Product]] = {}
        self._by_code: dict[str, Product] = {}
        self._names: list[tuple[str, Product]] = []  # every folded name and alias
        for p in self._products:
            for label in (p.name, *p.aliases):
                f = _fold(label)
                if f:
                    self._by_name.setdefault(f, []).append(p)
                    self._names.append((f, p))
            if p.code:
                self._by_code.setdefault(_fold(p.code), p)
        self._choices = [f for f, _ in self._names]
        self._pinyins = [(_pinyin(f), p) for f, p in self._names]
        self._cache: dict[str | None, Match | None] = {}

    @property
    def products(self) -> tuple[Product, ...]:
        return self._products

    def match(self, item: str | None) -> Match | None:
        if item in self._cache:
            return self._cache[item]
        result = self._match(item)
        if len(self._cache) < CACHE_LIMIT:
            self._cache[item] = result
        return result

    def _match(self, item: str | None) -> Match | None:
        if not self._products:
            return None
        folded = _fold(item or "")
        if not folded:
            if len(self._products) == 1:
                return Match(self._products[0], "implicit", 100.0)
            return None
        exact = self._unique(self._by_name.get(folded, []))
        if exact is not None:
            how = "exact" if _fold(exact.name) == folded else "alias"
            return Match(exact, how, 100.0)
        coded = self._by_code_prefix(item or "")
        if coded is not None:
            return coded
        return self._contains(folded) or self._fuzzy(folded) or self._by_pinyin(folded)

    @staticmethod
    def _unique(products: list[Product]) -> Product | None:
        distinct = {p.key: p for p in products}
        return next(iter(distinct.values())) if len(distinct) == 1 else None

    def _by_code_prefix(self, item: str) -> Match | None:
        text = "".join(_CIRCLED.get(ch, ch) for ch in unicodedata.normalize("NFKC", item))
        m = _LEADING_CODE.match(text)
        if m is None:
            return None
        code = (m.group(1) or m.group(2) or "").casefold()
        product = self._by_code.get(code)
        if product is None:
            return None
        rest = _fold(text[m.end() :])
        name = _fold(product.name)
        annotated = text[m.end() :].strip().startswith(("（", "("))
        if m.group(1) and rest and not annotated and rest not in name and name not in rest:
            # `3号 香蕉` names another product: the number is not trusted over the name.
            named = self._contains(rest)
            if named is not None and named.product.key != product.key:
                return None
        return Match(product, "code", 100.0)

    def _contains(self, folded: str) -> Match | None:
        hits = {p.key: p for f, p in self._names if folded in f or (len(f) >= 2 and f in folded)}
        if len(hits) == 1:
            return Match(next(iter(hits.values())), "contains", 90.0)
        if len(hits) > 1:
            # `三鲜` is in both 三鲜 and 喜三鲜: the exact one wins; otherwise the longest name
            # contained in the text (`烟台苹果礼盒` → 烟台苹果礼盒 over 烟台苹果).
            inner = [(len(f), p) for f, p in self._names if f in folded]
            inner.sort(key=lambda t: t[0], reverse=True)
            if inner and (len(inner) == 1 or inner[0][0] > inner[1][0]):
                return Match(inner[0][1], "contains", 85.0)
        return None

    def _fuzzy(self, folded: str) -> Match | None:
        scored = process.extract(folded, self._choices, scorer=fuzz.WRatio, limit=5)
        return self._best([(s, self._names[i][1]) for _, s, i in scored], "fuzzy")

    def _by_pinyin(self, folded: str) -> Match | None:
        py = _pinyin(folded)
        scored = [(fuzz.partial_ratio(py, p_py), p) for p_py, p in self._pinyins if p_py]
        return self._best(scored, "pinyin")

    @staticmethod
    def _best(scored: list[tuple[float, Product]], how: str) -> Match | None:
        best: dict[str, tuple[float, Product]] = {}
        for score, p in scored:
            if score > best.get(p.key, (-1.0, p))[0]:
                best[p.key] = (score, p)
        ranked = sorted(best.values(), key=lambda t: t[0], reverse=True)
        if not ranked or ranked[0][0] < FUZZY_MIN:
            return None
        if len(ranked) > 1 and ranked[0][0] - ranked[1][0] < FUZZY_MARGIN:
            return None
        return Match(ranked[0][1], how, float(ranked[0][0]))
