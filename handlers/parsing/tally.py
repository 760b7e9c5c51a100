"""The words a chain's entries repeat, counted over entries, and the fields they make.

A Latin word most entries end with (`uni`, `paypal`) or a place word standing after the names
(`云谷`) is a field of the chain, a note and not goods (chain_parser.py reads the entries again
with them). The counts are sums over entries, so a repost adds the entries it brings to the
counts kept from the post before it instead of reading every entry again; the decision reads
only the counts, and the names once for each place word.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from operator import attrgetter

from handlers.parsing.entry import WORN_SIZE, Context, Reading
from handlers.parsing.vocab import PORTION_SIZE, is_note_token

_CJK_WORD = re.compile(r"[\u4e00-\u9fff]{2,4}(?=$|[\s，,\d一两二三四五六七八九十])")
_FIELD_WORD = re.compile(r"[A-Za-z][A-Za-z'’.]+")
_LATIN = re.compile(r"[A-Za-z]")
_REST = attrgetter("rest")
_NAME = attrgetter("name")
FIELD_SHARE = 0.25  # a word in at least this share of entries (and two) may be a field
_WORN = re.compile(WORN_SIZE, re.IGNORECASE)
PLACE_MIN = 3  # entries a place word stands alone in, at least


@dataclass(slots=True)
class FieldCounts:
    """Per Latin word (folded): the entries holding it, those where only notes follow it, and
    those where it is the first Latin word with something before it; per Chinese word, the
    entries it opens (after the name); and the entries' names, where places are glued."""

    n: int = 0
    seen: Counter[str] = field(default_factory=Counter)
    trailing: Counter[str] = field(default_factory=Counter)
    after_goods: Counter[str] = field(default_factory=Counter)
    standalone: Counter[str] = field(default_factory=Counter)
    names: list[str | None] = field(default_factory=list)
    # A place word met: whether some name counted ends with it (and is longer); kept, and
    # brought up to date as names are added, so a repost looks only at its new names.
    placed: dict[str, bool] = field(default_factory=dict)

    def add(self, read: Sequence[Reading]) -> None:
        self.n += len(read)
        names = list(map(_NAME, read))
        self.names += names
        for word, found in self.placed.items():
            if not found:
                self.placed[word] = _ends_with(names, word)
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
            self.names.copy(),
            self.placed.copy(),
        )

    def fields(self, ctx: Context) -> frozenset[str]:
        """Latin words the entries repeat after their goods (`uni`, `aven`): a pickup spot or
        a payment, not a product. A word counts where, in most of its entries, only notes
        follow it, and at least once goods come before it."""
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
            and _WORN.fullmatch(w) is None  # `XL`, `L码`: a size the goods come in
        }
        return frozenset(latin | self.places(ctx))

    def places(self, ctx: Context) -> set[str]:
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
            and PORTION_SIZE.fullmatch(word) is None  # `小份`: the size ordered, no place
        ]
        new = [w for w in words if w not in self.placed]
        if new:
            # The names joined, each closed by a NUL (no line keeps one: prepare removes it):
            # a name ending with the word after more of it is one search, made in C.
            joined = "\x00".join(filter(None, self.names)) + "\x00"
            self.placed.update((w, _ends_a_name(w, joined)) for w in new)
        return {w for w in words if self.placed[w]}


def _ends_a_name(word: str, joined: str) -> bool:
    """Some name in `joined` (names each closed by a NUL) ends with `word` and is longer."""
    end = word + "\x00"
    at = joined.find(end)
    while at >= 0:
        if at > 0 and joined[at - 1] != "\x00":
            return True
        at = joined.find(end, at + 1)
    return False


def _ends_with(names: list[str | None], word: str) -> bool:
    return any(name and name.endswith(word) and len(name) > len(word) for name in names)
