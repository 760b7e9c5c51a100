"""Written items → the round's products, as a leader would check them by eye.

Most cases live in tests/fixtures/matching_cases.txt, one menu at a time; the real chains in
tests/fixtures/jielong show the matcher working on what the parser reads from real messages.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handlers.parsing.chain_parser import parse_menu
from handlers.parsing.matching import Match, Product, ProductMatcher
from handlers.parsing.types import MenuLine

FIXTURES = Path(__file__).parent / "fixtures"


@dataclass(frozen=True)
class Case:
    menu: str
    written: str
    product: str | None  # name or key; None: no match
    how: str | None
    line: int


def read_cases() -> tuple[dict[str, list[Product]], list[Case]]:
    """Menus and cases from the readable fixture (its header explains the format)."""
    menus: dict[str, list[Product]] = {}
    cases: list[Case] = []
    title = ""
    path = FIXTURES / "matching_cases.txt"
    for n, raw in enumerate(path.read_text("utf-8").splitlines(), 1):
        text = raw.split(" #", 1)[0].strip() if not raw.startswith("#") else ""
        if not text:
            continue
        if text.startswith("=="):
            title = text[2:].strip()
            menus[title] = []
        elif "=>" in text:
            written, _, expected = (part.strip() for part in text.partition("=>"))
            product, _, how = expected.partition(" ")
            cases.append(Case(title, written, None if product == "-" else product, how or None, n))
        else:
            menus[title].append(_menu_product(text, menus[title]))
    return menus, cases


def _menu_product(text: str, earlier: list[Product]) -> Product:
    """`1 烟台苹果 别名 红富士`: keyed by code like the chain engine does (`1`, then `1~2`)."""
    head, _, aliases = text.partition(" 别名 ")
    code, _, name = head.partition(" ")
    code_or_none = None if code == "-" else code
    key = code_or_none or name
    taken = {p.key for p in earlier}
    n = 2
    while key in taken:
        key = f"{code_or_none}~{n}"
        n += 1
    names = tuple(a.strip() for a in aliases.split(",") if a.strip())
    return Product(key, name.strip(), code_or_none, names)


MENUS, CASES = read_cases()
MATCHERS = {title: ProductMatcher(products) for title, products in MENUS.items()}


@pytest.mark.parametrize("case", CASES, ids=[f"{c.menu}:{c.written}" for c in CASES])
def test_written_item_reads_as_the_leader_would(case: Case) -> None:
    match = MATCHERS[case.menu].match(case.written)
    if case.product is None:
        assert match is None, f"line {case.line}: {case.written!r} should match nothing"
        return
    assert match is not None, f"line {case.line}: {case.written!r} matched nothing"
    assert case.product in (match.product.name, match.product.key), f"line {case.line}"
    assert match.how == case.how, f"line {case.line}"
    assert 0 < match.score <= 100


def test_fixture_covers_every_rule() -> None:
    assert {c.how for c in CASES} >= {"exact", "alias", "code", "contains", "fuzzy", "pinyin"}


# Real chains: what the parser reads from the samples, on the menu their leader posted.
def _expected_items(file: str) -> Iterator[str]:
    for line in (FIXTURES / "jielong" / "expected.jsonl").read_text("utf-8").splitlines():
        record = json.loads(line)
        if record["file"] == file:
            for entry in record["entries"]:
                for item in entry["items"]:
                    if item["item"] is not None:
                        yield item["item"]


def _sample_matcher(file: str) -> ProductMatcher:
    menu = parse_menu((FIXTURES / "jielong" / file).read_text("utf-8"))
    return ProductMatcher([Product.from_menu(line) for line in menu])


def test_every_order_in_the_002_chain_finds_its_letter() -> None:
    matcher = _sample_matcher("002.txt")
    got = {
        item: m.product.key if (m := matcher.match(item)) else None
        for item in _expected_items("002.txt")
    }
    assert got == {
        "E 🐮": "E",
        "C 牛肋条": "C",
        "C🐔🐮": "C",
        "喜三鲜": "J",
        "D 烤牛": "D",
        "E 牛": "E",
        "H 三鲜": "H",
        "h三鲜": "H",
    }


def test_the_design_chain_head_reads_its_own_orders() -> None:
    head = "#接龙\n11月23日 水果团 截单：今晚22:00\n1号 烟台苹果 12.8元/3斤\n2号 海南香蕉 9.9元/把"
    matcher = ProductMatcher([Product.from_menu(line) for line in parse_menu(head)])
    written = ["苹果", "香蕉", "1号", "2号", "１号", "平果", "榴莲"]
    got = [m.product.key if (m := matcher.match(w)) else None for w in written]
    assert got == ["1", "2", "1", "2", "1", "1", None]


def test_the_001_chain_on_the_003_menu_flags_only_what_is_not_on_it() -> None:
    matcher = _sample_matcher("003.txt")
    got = {
        item: m.product.key if (m := matcher.match(item)) else None
        for item in _expected_items("001.txt")
    }
    assert got == {
        "麦辣鸡腿堡": None,  # McDonald's orders go under I (自选): the leader assigns them
        "麦辣鸡翅": None,
        "桃气醒醒气泡美式": None,
        "e 烤🐔": "E",
        "J 鸡胸球": "J",
        "J 三文鱼": "J",
        "凤梨板烧四件套": None,
        "L 🍤芦笋🥚": "L",
        "L🦐": "L",
        "k🐮": "K",
        "J 鸡胸": "J",
    }


FRUIT = MATCHERS["水果团 (1号 烟台苹果 12.8元/3斤 …)"]


@pytest.mark.parametrize("written", [None, "", "  ", "🎉", "。"])
def test_nothing_written_means_the_only_product(written: str | None) -> None:
    single = ProductMatcher([Product("米", "五常大米")])
    match = single.match(written)
    assert match is not None and (match.product.name, match.how) == ("五常大米", "implicit")
    assert FRUIT.match(written) is None  # several products: the leader must ask
    assert ProductMatcher([]).match(written) is None


def test_nothing_on_offer_matches_nothing() -> None:
    empty = ProductMatcher([])
    assert empty.products == ()
    assert [empty.match(t) for t in ("苹果", "1号", "C", "平果")] == [None] * 4


def test_product_from_a_menu_line_keeps_code_price_and_unit() -> None:
    line = MenuLine("1", "烟台苹果", Decimal("12.8"), "3斤", "1号 烟台苹果 12.8元/3斤")
    product = Product.from_menu(line)
    assert product == Product("1", "烟台苹果", "1", (), Decimal("12.8"), "3斤")
    uncoded = Product.from_menu(MenuLine(None, "五常大米", None, None, "五常大米"))
    assert (uncoded.key, uncoded.code) == ("五常大米", None)
    assert ProductMatcher([product]).products == (product,)


def test_a_text_seen_before_is_answered_from_memory() -> None:
    matcher = ProductMatcher(MENUS["牛气餐厅 (002.txt)"])
    first = matcher.match("西三鲜")
    assert first is not None
    assert all(matcher.match("西三鲜") is first for _ in range(100))


def test_memory_is_bounded_and_forgetting_changes_nothing() -> None:
    matcher = ProductMatcher(MENUS["牛气餐厅 (002.txt)"], cache_size=8)
    texts = [f"{c} {i}" for i in range(50) for c in "CDEFHJ"]
    first = [matcher.match(t) for t in texts]
    assert len(matcher._cache) <= 8
    assert [matcher.match(t) for t in texts] == first
    assert ProductMatcher(MENUS["牛气餐厅 (002.txt)"], cache_size=0).match("c") == first[0]


# Properties: no coin flips, and nothing a resident types makes the matcher fail.
ALL_PRODUCTS = [p for products in MENUS.values() for p in products]
WRITTEN = [c.written for c in CASES]
cjk = st.characters(min_codepoint=0x4E00, max_codepoint=0x4FFF)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(list(MENUS)), st.randoms(use_true_random=False), st.data())
def test_the_order_of_the_menu_never_changes_the_answer(
    title: str, rnd: random.Random, data: st.DataObject
) -> None:
    products = list(MENUS[title])
    shuffled = products[:]
    rnd.shuffle(shuffled)
    written = data.draw(st.sampled_from(WRITTEN) | st.text(max_size=8))

    def key(m: Match | None) -> tuple[str, str] | None:
        return (m.product.key, m.how) if m else None

    assert key(ProductMatcher(products).match(written)) == key(
        ProductMatcher(shuffled).match(written)
    )


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=20))
def test_any_text_gets_an_answer_and_the_same_one_twice(written: str) -> None:
    matcher = ProductMatcher(ALL_PRODUCTS)
    first = matcher.match(written)
    assert first is None or first.product in ALL_PRODUCTS
    assert ProductMatcher(ALL_PRODUCTS).match(written) == first


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(cjk, min_size=2, max_size=6), min_size=1, max_size=12, unique=True))
def test_every_product_answers_to_its_name_and_its_number(names: list[str]) -> None:
    products = [Product(str(i), name, str(i)) for i, name in enumerate(names, 1)]
    matcher = ProductMatcher(products)
    for p in products:
        by_name, by_code = matcher.match(p.name), matcher.match(f"{p.code}号")
        assert by_name is not None and (by_name.product, by_name.how) == (p, "exact")
        assert by_code is not None and (by_code.product, by_code.how) == (p, "code")
