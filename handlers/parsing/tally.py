"""The words a chain's entries repeat, counted over entries, and the fields they make.

A Latin word most entries end with (`uni`, `paypal`) or a place word standing after the names
(`云谷`) is a field of the chain, a note and not goods (chain_parser.py reads the entries again
with them). The counts are sums over entries, so a repost adds the entries it brings to the
counts kept from the post before it instead of reading every entry again; the decision reads
only the counts (and, when some place word is frequent, the names).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from operator import attrgetter

from handlers.parsing.entry import Context, Reading
from handlers.parsing.vocab import is_note_token

_CJK_WORD = re.compile(r"[\u4e00-\u9fff]{2,4}(?=$|[\s，,\d一两二三四五六七八九十])")
_FIELD_WORD = re.compile(r"[A-Za-z][A-Za-z'’.]+")
_LATIN = re.compile(r"[A-Za-z]")
_REST = attrgetter("rest")
_NAME = attrgetter("name")
FIELD_SHARE = 0.25  # a word in at least this share of entries (and two) may be a field
PLACE_MIN = 3  # entries a place word stands alone in, at least


@dataclass(slots=True)
class FieldCounts:
    """Per Latin word (folded): the entries holding it, those where only notes follow it, and
    those where it is the first Latin word with something before it; per Chinese word, the
    entries it opens (after the name)."""

    n: int = 0
    seen: Counter[str] = field(default_factory=Counter)
    trailing: Counter[str] = field(default_factory=Counter)
    after_goods: Counter[str] = field(default_factory=Counter)
    standalone: Counter[str] = field(default_factory=Counter)

    def add(self, read: Sequence[Reading]) -> None:
        self.n += len(read)
        rests = Counter(map(_REST, read))  # entries repeat their goods: read each text once
        for rest, times in rests.items():
            first = _CJK_WORD.match(rest)
            if first:
                self.standalone[first.group(0)] += times
            if not _LATIN.search(rest):
                continue
            words = _FIELD_WORD.findall(rest)
            for key in {w.casefold() for w in words}:
                self.seen[key] += times
            for k, w in enumerate(words):
                tail = rest[rest.find(w) + len(w) :]
                if all(
                    is_note_token(t) or _FIELD_WORD.fullmatch(t)
                    for t in re.split(r"[\s，,]+", tail)
                    if t
                ):
                    self.trailing[w.casefold()] += times
                if rest.find(w) > 0 and k == 0:
                    self.after_goods[w.casefold()] += times

    def copy(self) -> FieldCounts:
        return FieldCounts(
            self.n,
            self.seen.copy(),
            self.trailing.copy(),
            self.after_goods.copy(),
            self.standalone.copy(),
        )

    def fields(self, ctx: Context, names: Iterable[str | None]) -> frozenset[str]:
        """Latin words the entries repeat after their goods (`uni`, `aven`): a pickup spot or
        a payment, not a product. A word counts where, in most of its entries, only notes
        follow it, and at least once goods come before it. `names` (the entries' names) are
        read only when some Chinese word is frequent enough to be a place."""
        if self.n < 2:
            return frozenset()
        products = {p.casefold() for p in ctx.products}
        latin = {
            w
            for w, c in self.seen.items()  # a word's count is the entries holding it
            if c >= 2
            and c >= FIELD_SHARE * self.n
            and 2 * self.trailing[w] >= c
            and self.after_goods[w] > 0
            and w not in products
            and w.upper() not in ctx.letters
        }
        return frozenset(latin | self._places(ctx, names))

    def _places(self, ctx: Context, names: Iterable[str | None]) -> set[str]:
        """Chinese place words the entries repeat (`云谷`): a word that stands alone after the
        name in three entries or more, and that some resident joins to their name with a dash
        or glues after it (`张鑫-云谷`, `sisy云谷`), which is how places are written, never
        goods."""
        words = [
            word
            for word, count in self.standalone.items()
            if count >= PLACE_MIN
            and word not in ctx.addons
            and not any(word in p or p in word for p in ctx.products)
        ]
        out: set[str] = set()
        if not words:
            return out
        ends = tuple(words)
        for name in names:  # one pass over the names for all the words
            if name and name.endswith(ends):
                out.update(w for w in words if name.endswith(w) and len(name) > len(w))
                if len(out) == len(words):
                    break
        return out


def names_of(read: Iterable[Reading]) -> Iterable[str | None]:
    return map(_NAME, read)
