"""A repost read on from the chain's kept reading says exactly what reading it whole says.

The parser keeps, per chain, what it read above the last entry (handlers/parsing/repost.py)
and reads a later copy from there on. Every chain of the corpus is grown line by line, with
other chains posted in between, and each copy compared with a cold parse of it; chains whose
new lines flip the kind, the mode or the fields, move the footer or fork are checked too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from handlers.parsing import chain_parser
from handlers.parsing.segment import Line, Resume, Segments
from handlers.parsing.types import ParsedChain

TESTS = Path(__file__).resolve().parent
CHAINS = sorted((TESTS / "corpus").rglob("*.txt")) + sorted(
    (TESTS / "fixtures" / "jielong").glob("*.txt")
)


def _whole(chain: ParsedChain) -> dict[str, Any]:
    """Everything a parse says, beyond the JSON contract too."""
    out = chain.to_json()
    out.update(
        menu=chain.menu, has_marker=chain.has_marker, skipped=chain.skipped, is_chain=chain.is_chain
    )
    return out


def _cold(text: str) -> dict[str, Any]:
    chain_parser.clear_caches()
    return _whole(chain_parser.parse_chain(text))


class _Spy:
    """Counts the copies read whole (a repost read on from a kept reading is not), and the
    lines each copy read on was segmented from."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.whole = 0
        self.tails: list[int] = []
        read_whole = chain_parser._parse_whole
        segment_tail = chain_parser.segment_tail

        def counted(*args: Any) -> ParsedChain:
            self.whole += 1
            return read_whole(*args)

        def tail(lines: list[Line], resume: Resume) -> Segments | None:
            self.tails.append(len(lines))
            return segment_tail(lines, resume)

        monkeypatch.setattr(chain_parser, "_parse_whole", counted)
        monkeypatch.setattr(chain_parser, "segment_tail", tail)


def _grown(lines: list[str], between: str | None = None) -> list[tuple[str, dict[str, Any]]]:
    """Each copy of the chain as it grows by a line, parsed warm (`between` posted after
    each), next to its cold parse."""
    warm: list[tuple[str, dict[str, Any]]] = []
    chain_parser.clear_caches()
    for n in range(1, len(lines) + 1):
        text = "\n".join(lines[:n])
        warm.append((text, _whole(chain_parser.parse_chain(text))))
        if between is not None:
            chain_parser.parse_chain(between)
    return warm


@pytest.mark.parametrize("path", CHAINS, ids=lambda p: p.name)
def test_corpus_chain_grown_line_by_line(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lines = path.read_text("utf-8").split("\n")
    other = CHAINS[(CHAINS.index(path) + 1) % len(CHAINS)].read_text("utf-8")
    spy = _Spy(monkeypatch)
    warm = _grown(lines, between=other)
    read_whole = spy.whole
    for text, got in warm:
        assert got == _cold(text), text
    # copies of a numbered chain are read on, not whole (the other chain is read whole)
    numbered = sum(1 for _, got in warm if got["entries"] and got["entries"][0]["seq"])
    if numbered >= 3:
        assert read_whole < 2 * len(warm)


FLIPS = [
    "#接龙 周末",
    "1. 张三",
    "2. 李四",
    "3. 王五 苹果2斤",  # goods: a sign-up turns into an order (in which 苹果 is a note)
    "4. 赵六 香蕉3斤",  # most entries name goods: several goods, not one
    "5. 孙七 uni",
    "6. 周八 苹果1斤 uni",  # `uni` after goods in two entries of six: a field, not goods
    "7. 吴九 香蕉2斤 uni",
    "8. 郑十 同上",  # the goods of the entry above
]


def test_lines_that_flip_the_chain_wide_decisions() -> None:
    warm = _grown(FLIPS)
    kinds = [got["kind"] for _, got in warm[1:]]
    assert kinds[:2] == ["signup", "signup"] and kinds[2:] == ["order"] * (len(kinds) - 2)
    notes = [got["entries"][2]["note"] for _, got in warm[3:]]
    assert notes[0] == "苹果" and notes[1] is None  # one product, then several
    assert [it["item"] for it in warm[5][1]["entries"][4]["items"]] == ["uni"]
    assert warm[6][1]["entries"][4]["items"] == [] and warm[6][1]["entries"][4]["note"] == "uni"
    assert warm[8][1]["entries"][7]["items"] == warm[8][1]["entries"][6]["items"]
    for text, got in warm:
        assert got == _cold(text), text


FOOTER = "\n\n截单时间：今晚8点\n请大家准时自提"


def test_repost_with_the_footer_moved_down(monkeypatch: pytest.MonkeyPatch) -> None:
    head = "#接龙\n11月23日 水果团\n1号 烟台苹果 12.8元/3斤\n2号 海南香蕉 9.9元/把\n"
    entries = [f"{k}. 住户{k} 苹果{k % 3 + 1}份" for k in range(1, 30)]
    chain_parser.clear_caches()
    spy = _Spy(monkeypatch)
    for n in range(1, len(entries) + 1):
        text = head + "\n".join(entries[:n]) + FOOTER
        assert _whole(chain_parser.parse_chain(text)) == _cold(text)
    assert spy.whole == 2 * len(entries) - (len(entries) - 1)  # the cold parses, and the first
    # each copy is read on from the one before it: its last entry, the new one, the footer
    assert spy.tails == [2 + FOOTER.count("\n")] * (len(entries) - 1)


def test_forks_and_an_edited_last_line() -> None:
    head = "#接龙 拼单\n"
    base = [f"{k}. 邻居{k} 2号{k % 4 + 1}" for k in range(1, 12)]
    chain_parser.clear_caches()
    chain_parser.parse_chain(head + "\n".join(base))
    copies = [
        [*base, "12. 小王 2号1"],
        [*base, "12. 小李 取消"],  # another resident reposted the same copy
        [*base[:-1], "11. 邻居11 2号3 改", "12. 小赵 1"],  # the last entry edited
        [*base, "1. 新的一轮 苹果1"],  # a new list: the entries above are no longer entries
        [*base, "", "明天到货"],  # a footer, no new entry
    ]
    for lines in copies:
        text = head + "\n".join(lines)
        got = _whole(chain_parser.parse_chain(text))
        assert got == _cold(text)
        chain_parser.parse_chain(head + "\n".join(base))  # warm again from the same copy
