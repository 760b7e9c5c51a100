"""A chain reads the same however the residents' phones wrote it out.

Every real order chain of the corpus is rewritten the ways WeChat and residents rewrite chains
(`1、` or `1）` for `1.`, blank lines between entries, trailing spaces, Windows line ends, the
`#` of `#接龙` dropped), and must give the same kind, entries, names, goods and doubts."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from handlers.parsing.chain_parser import parse_chain
from handlers.parsing.types import ParsedChain
from tests.real_orders import order_chains

_SEQ = re.compile(r"(?m)^(\s*)(\d{1,3})\.\s?")


def _order_chains() -> list[str]:
    return [text for text, _ in order_chains() if "\n" in text.strip()]


def _marks(sep: str) -> Callable[[str], str]:
    return lambda text: _SEQ.sub(lambda m: f"{m.group(1)}{m.group(2)}{sep}", text)


REWRITES: dict[str, Callable[[str], str]] = {
    "numbered 1、": _marks("、"),
    "numbered 1）": _marks("）"),
    "blank lines": lambda text: re.sub(r"\n(?=\s*\d{1,3}\.)", "\n\n", text),
    "trailing spaces": lambda text: re.sub(r"(?m)$", "  ", text),
    "CRLF": lambda text: text.replace("\n", "\r\n"),
    "no # before 接龙": lambda text: text.replace("#接龙", "接龙"),
}


def _reading(chain: ParsedChain) -> tuple[object, ...]:
    return (
        chain.kind,
        [
            (e.seq, e.name, [(i.item, i.qty, i.unit) for i in e.items], e.needs_review)
            for e in chain.entries
        ],
    )


@pytest.mark.parametrize("rewrite", sorted(REWRITES))
def test_every_real_order_chain_reads_the_same_rewritten(rewrite: str) -> None:
    chains = _order_chains()
    assert len(chains) >= 40
    changed = []
    for text in chains:
        if _reading(parse_chain(REWRITES[rewrite](text))) != _reading(parse_chain(text)):
            changed.append(text.split("\n", 1)[0])
    assert changed == []
