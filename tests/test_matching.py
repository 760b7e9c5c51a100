"""Written items → the round's products, as a leader would check them by eye."""

from __future__ import annotations

from decimal import Decimal

import pytest

from handlers.parsing.chain_parser import parse_menu
from handlers.parsing.matching import Product, ProductMatcher

FRUIT = ProductMatcher(
    [
        Product("1", "烟台苹果", "1", ("红富士",), Decimal("12.8"), "3斤"),
        Product("2", "海南香蕉", "2", (), Decimal("9.9"), "把"),
        Product("3", "阳光玫瑰葡萄", "3"),
    ]
)
# The letter-coded menu of tests/fixtures/jielong/002.txt, read by the parser.
LETTERS = ProductMatcher(
    [
        Product.from_menu(m)
        for m in parse_menu("C：牛肋条\nD：鸡腿\nE：牛\nF：香肠\nH：三鲜\nJ：喜三鲜")
    ]
)


@pytest.mark.parametrize(
    ("written", "product", "how"),
    [
        ("烟台苹果", "烟台苹果", "exact"),
        ("红富士", "烟台苹果", "alias"),
        ("1号", "烟台苹果", "code"),
        ("１号", "烟台苹果", "code"),
        ("①", "烟台苹果", "code"),
        ("2", "海南香蕉", "code"),
        ("3号（大串）", "阳光玫瑰葡萄", "code"),
        ("苹果", "烟台苹果", "contains"),
        ("葡萄", "阳光玫瑰葡萄", "contains"),
        ("香焦", "海南香蕉", "pinyin"),  # a homophone typo
        ("平果", "烟台苹果", "pinyin"),
    ],
)
def test_fruit_menu(written: str, product: str, how: str) -> None:
    match = FRUIT.match(written)
    assert match is not None and (match.product.name, match.how) == (product, how)


@pytest.mark.parametrize(
    ("written", "product"),
    [
        ("C 牛肋条", "牛肋条"),
        ("C🐔🐮", "牛肋条"),
        ("D 烤牛", "鸡腿"),  # the code wins over the words after it
        ("E 🐮", "牛"),
        ("h三鲜", "三鲜"),
        ("喜三鲜", "喜三鲜"),
        ("三鲜", "三鲜"),  # exact beats 喜三鲜 containing it
    ],
)
def test_letter_menu(written: str, product: str) -> None:
    match = LETTERS.match(written)
    assert match is not None and match.product.name == product


@pytest.mark.parametrize("written", ["榴莲", "香菜", "12个", "9号", "水果"])
def test_unknown_or_ambiguous_items_match_nothing(written: str) -> None:
    assert FRUIT.match(written) is None


def test_implicit_item_only_in_a_single_product_chain() -> None:
    single = ProductMatcher([Product("1", "五常大米")])
    match = single.match(None)
    assert match is not None and match.how == "implicit"
    assert FRUIT.match(None) is None
    assert ProductMatcher([]).match("苹果") is None


def test_results_are_memoised_and_stable() -> None:
    first = FRUIT.match("平果")
    assert all(FRUIT.match("平果") is first for _ in range(100))
