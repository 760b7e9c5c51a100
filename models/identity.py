"""An entry's identity is its normalised content, not its number: people renumber and reorder.

Two copies of the same line (`23. 张三 苹果2斤` and `24．张三  苹果2斤`) have one identity; any
real change in name, items or note gives a new one.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

from handlers.parsing.types import FLAG_SAME_AS_ABOVE, ParsedEntry

# Leading sequence marks as people write them: 1. 1、 1) (1) ① １． and friends.
SEQ_PREFIX = re.compile(r"^\s*[\(（]?\s*\d{1,4}\s*[\.、\)）:：,，]?\s*|^\s*[\u2460-\u2473]\s*")
# Everything that is not a letter, digit or CJK ideograph is noise for identity purposes,
# except emoji, which people use as names (🌸小雨🌸) and are kept.
_DROP_CATEGORIES = frozenset(
    {"Zs", "Zl", "Zp", "Cc", "Cf", "Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po"}
)


def normalise(text: str) -> str:
    """Fold width, case, spaces, punctuation and invisible characters away."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in folded if unicodedata.category(ch) not in _DROP_CATEGORIES)


@lru_cache(maxsize=65536)
def content_key(raw: str) -> str:
    """The identity of one chain line, its sequence number removed."""
    first, *rest = raw.split("\n", 1)
    body = SEQ_PREFIX.sub("", first, count=1)
    return normalise(body + ("\n" + rest[0] if rest else ""))[:400]


def strip_seq(raw: str) -> str:
    """A chain line without its old number, for renumbered lists."""
    first, *rest = raw.split("\n", 1)
    body = SEQ_PREFIX.sub("", first, count=1).strip()
    return body + ("\n" + rest[0] if rest else "")


def name_key(name: str | None) -> str:
    return normalise(name or "")


def identities(entries: Iterable[ParsedEntry]) -> list[str]:
    """Identities for a post's entries, in order.

    A second identical line in the same post is a second order (`赵六 +1` twice), so repeats
    get `#2`, `#3`. `同上` means "same as the line above", so its identity includes that line.
    """
    seen: dict[str, int] = {}
    out: list[str] = []
    prev = ""
    for entry in entries:
        key = content_key(entry.raw)
        if FLAG_SAME_AS_ABOVE in entry.flags:
            key = f"{key}@{prev}"
        n = seen.get(key, 0) + 1
        seen[key] = n
        ident = key if n == 1 else f"{key}#{n}"
        out.append(ident)
        prev = ident
    return out
