"""The chain parser against real messages (tests/fixtures/jielong, from ../shared/samples) and
against every format in DESIGN.md (tests/fixtures/parse_cases.txt), plus a fuzz run."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handlers.parsing.chain_parser import parse_chain, parse_entry_line, parse_menu
from handlers.parsing.types import MAX_QTY

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SAMPLES = FIXTURES / "jielong"


def _expected() -> list[dict[str, object]]:
    with (SAMPLES / "expected.jsonl").open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


@pytest.mark.parametrize("case", _expected(), ids=lambda c: str(c["file"]))
def test_real_chain_messages_parse_as_annotated(case: dict[str, object]) -> None:
    text = (SAMPLES / str(case["file"])).read_text(encoding="utf-8")
    got = [
        {k: e[k] for k in ("seq", "name", "items", "raw")}
        for e in parse_chain(text).to_json()["entries"]
    ]
    assert got == case["entries"]


def _cases() -> list[tuple[str, str]]:
    rows = []
    for line in (FIXTURES / "parse_cases.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            given_, expected = line.split("=>")
            rows.append((given_.strip(), expected.strip()))
    return rows


def _dash(text: str) -> str | None:
    return None if text == "-" else text


@pytest.mark.parametrize(("line", "expected"), _cases(), ids=[c[0][:12] for c in _cases()])
def test_design_formats(line: str, expected: str) -> None:
    name, items, note, flags = (p.strip() for p in expected.split("|"))
    entry = parse_entry_line(line)
    assert entry.name == _dash(name)
    want_items = []
    for spec in filter(None, (s.strip() for s in items.split(";"))):
        if spec == "-":
            continue
        *item_words, qty, unit = spec.split(" ")
        want_items.append((_dash(" ".join(item_words)), Decimal(qty), _dash(unit)))
    assert [(i.item, i.qty, i.unit) for i in entry.items] == want_items
    assert entry.note == _dash(note)
    assert entry.flags == ([] if flags == "-" else flags.split(","))
    assert entry.raw == line


def test_design_example_chain_head_menu_and_placeholder() -> None:
    text = (Path(__file__).parent / "transcripts" / "fruit_head.txt").read_text("utf-8")
    chain = parse_chain(text + "\n例 张三 苹果1份\n\n1. 姓名+商品数量\n2. 张三 苹果2份")
    assert chain.has_marker
    assert [e.raw for e in chain.entries] == ["2. 张三 苹果2份"]
    assert "例 张三 苹果1份" in chain.header and chain.skipped == ["1. 姓名+商品数量"]
    menu = parse_menu(chain.header)
    assert [(m.code, m.name, m.price, m.sale_unit) for m in menu] == [
        ("1", "烟台苹果", Decimal("12.8"), "3斤"),
        ("2", "海南香蕉", Decimal("9.9"), "把"),
    ]


def test_numbered_menu_with_prices_above_entries_is_header() -> None:
    chain = parse_chain(
        "#接龙 面包团\n1. 肉松小贝一盒三个 16.9/盒\n2. 蛋挞 ¥25/盒\n\n1. 小王 1x2\n2. 小李 2"
    )
    assert [e.name for e in chain.entries] == ["小王", "小李"]
    assert [(m.name, m.price, m.sale_unit) for m in parse_menu(chain.header)] == [
        ("肉松小贝一盒三个", Decimal("16.9"), "盒"),
        ("蛋挞", Decimal("25"), "盒"),
    ]


def test_unnumbered_chain_and_glued_names() -> None:
    chain = parse_chain("#接龙 水果团\n张三 苹果2斤\n李四 香蕉1把\n请大家按时取货")
    assert [(e.seq, e.name) for e in chain.entries] == [(None, "张三"), (None, "李四")]
    assert "请大家按时取货" in chain.header
    glued = parse_entry_line("1. 张三苹果2份", ["烟台苹果", "海南香蕉"])
    assert (glued.name, glued.items[0].item, glued.items[0].qty) == ("张三", "苹果", 2)
    alone = parse_entry_line(
        "5. 苹果2份", ["烟台苹果", "海南香蕉"]
    )  # no name: the poster is the orderer
    assert (alone.name, alone.items[0].item, alone.flags) == (None, "苹果", ["no_name"])
    unknown = parse_entry_line("1. 张三榴莲2个")
    # 张三 + 榴莲2个, or 张三榴莲 + 2个? Without a menu it is a guess: flagged for review.
    assert "ambiguous_name" in unknown.flags and unknown.needs_review


def test_chat_that_is_not_a_chain() -> None:
    for text in ("好的谢谢", "收到+1", "明天几点到？", "", "   \n  "):
        chain = parse_chain(text)
        assert not chain.is_chain and chain.entries == []


def test_500_entry_chain_parses_quickly_enough_to_be_usable() -> None:
    """A functional bound (not a benchmark): the figure to beat lives in `groupbuy bench`."""
    lines = [f"{n}. 住户{n} 苹果{n % 5 + 1}份 香蕉x2" for n in range(1, 501)]
    text = (Path(__file__).parent / "transcripts" / "fruit_head.txt").read_text("utf-8")
    start = time.perf_counter()
    chain = parse_chain(text + "\n\n" + "\n".join(lines))
    assert time.perf_counter() - start < 5  # seconds: catches runaway regexes only
    assert len(chain.entries) == 500


hostile = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from(list("0123456789.、)）①＃#接龙+x×*份斤\n \u200b\u202e\u200d\ufe0f🌸-")),
    ),
    max_size=400,
)


@settings(max_examples=300, deadline=None)
@given(text=hostile)
def test_parser_never_crashes_and_drops_nothing(text: str) -> None:
    chain = parse_chain(text)
    kept = "\n".join([chain.header, chain.footer, *chain.skipped, *(e.raw for e in chain.entries)])
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if line.strip():
            assert line.strip() in kept
    for e in chain.entries:
        for item in e.items:
            assert item.qty <= MAX_QTY or "qty_out_of_range" in e.flags
            assert item.qty > 0 or "qty_out_of_range" in e.flags


def test_huge_and_deeply_punctuated_messages_finish() -> None:
    start = time.perf_counter()
    parse_chain("1. " + "苹果" * 50_000)
    parse_chain("（" * 20_000 + "1. 张三 苹果2份" + "）" * 20_000)
    parse_chain("\n".join(f"{n}. {'+' * 200}" for n in range(1, 300)))
    assert time.perf_counter() - start < 10


def test_a_single_line_is_read_against_the_rounds_menu_codes() -> None:
    """`改 3 2+4` in a round whose menu numbers its boxes: box 2 and box 4, nothing to ask."""
    boxes = parse_entry_line("3. 小鹿 2+4", ["芋泥麻薯", "芝士流心"], codes=["2", "4"])
    assert [(i.item, i.qty) for i in boxes.items] == [("2", 1), ("4", 1)]
    assert boxes.flags == [] and not boxes.needs_review
    unknown = parse_entry_line("3. 小鹿 2+4", ["芋泥麻薯", "芝士流心"])
    assert unknown.needs_review  # without the codes, bare numbers are a question
