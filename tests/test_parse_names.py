"""Who ordered: the name as residents write it before their goods, whatever its shape.

Each real order chain of the corpus is also read again with every entry's name swapped for
other shapes residents use, and the goods must read the same."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from handlers.parsing.chain_parser import parse_chain
from tests.real_orders import order_chains, reading

_MARK = re.compile(r"^(\s*\d{1,3}\s*[.、．)）]\s*)")
# Names residents write, one of each shape: a building-room before the name (with an area,
# glued or apart), an English name with the Chinese one, a kinship title, emoji.
SHAPES = [
    "3-1-201 王姐",
    "3-1-201王姐",
    "B区12栋 小周",
    "A区3栋 王姐",
    "5栋2单元301 刘",
    "12栋302 李姐",
    "5#301刘",
    "老王-2号楼",
    "Lily wang",
    "Coco 李",
    "陈 阿姨",
    "🌸小雨🌸",
    "Mia🐱",
]


def test_a_building_room_or_a_chinese_name_before_the_goods_is_the_name() -> None:
    chain = parse_chain(
        "#接龙 水果团\n1. Amy 王芳 苹果2斤\n2. Coco 李 香蕉1把\n3. B区12栋 小周 苹果3斤\n"
        "4. A区3栋 王姐 苹果1斤\n5. Amy 苹果 2斤\n6.3-1-201 王姐 五斤西瓜"
    )
    assert [(e.seq, e.name, [(i.item, i.qty, i.unit) for i in e.items]) for e in chain.entries] == [
        (1, "Amy 王芳", [("苹果", 2, "斤")]),
        (2, "Coco 李", [("香蕉", 1, "把")]),
        (3, "B区12栋 小周", [("苹果", 3, "斤")]),
        (4, "A区3栋 王姐", [("苹果", 1, "斤")]),
        (5, "Amy", [("苹果", 2, "斤")]),  # before a bare count the word is the goods
        (6, "3-1-201 王姐", [("西瓜", Decimal(5), "斤")]),  # `6.3-1-201`: entry 6, not 6.3
    ]
    assert not any(e.needs_review for e in chain.entries)


def _entries_with_a_plain_name() -> list[tuple[str, str, str]]:
    """(chain text, entry line, its name) for one-line entries whose name is followed by a
    space: there a name of another shape can stand."""
    found = []
    for text, entries in order_chains():
        for want in entries:
            raw, name = want.get("raw") or "", want.get("name")
            mark = _MARK.match(raw)
            if (
                name
                and mark
                and "\n" not in raw
                and text.count(raw) == 1
                and raw[mark.end() :].startswith(name + " ")
                and not want.get("ambiguous")
            ):
                found.append((text, raw, name))
    return found


@pytest.mark.parametrize("shape", SHAPES, ids=[f"shape{k}" for k in range(len(SHAPES))])
def test_every_real_order_reads_the_same_under_a_name_of_another_shape(shape: str) -> None:
    entries = _entries_with_a_plain_name()
    assert len(entries) >= 150
    changed = []
    for text, raw, name in entries:
        before = reading(text)[raw.strip()]
        if before[2] != name:
            continue  # the name itself is misread there: nothing to compare the goods with
        mark = _MARK.match(raw)
        assert mark is not None
        swapped = raw[: mark.end()] + shape + raw[mark.end() + len(name) :]
        after = reading(text.replace(raw, swapped)).get(swapped.strip())
        if after != (before[0], before[1], shape):
            changed.append(raw)
    assert changed == []
