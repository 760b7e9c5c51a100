"""What residents add after their order (paid, pickup, thanks, a smile) is a note: the goods
read the same with it. Every real order line of the corpus that names its goods or their count
is read again with each of these words after it."""

from __future__ import annotations

import pytest

from tests.real_orders import order_chains, reading

ADDED = [
    " 已付",
    " 自提",
    " 谢谢",
    " 放门口",
    " 微信已付",
    " 🙏",
    "（已转）",
    "，谢谢团长",
    " 5号楼",
]


def _ordering_lines() -> list[tuple[str, str]]:
    """(chain text, entry line) for one-line entries read right and unflagged that write what
    they order: a bare name (`申佳-D1`) followed by a word is a name or a note, and is left out."""
    found = []
    for text, entries in order_chains():
        for want in entries:
            raw = want.get("raw") or ""
            items = want.get("items") or []
            written = any(i.get("item") or i.get("qty", 1) != 1 or i.get("unit") for i in items)
            if (
                written
                and "\n" not in raw
                and text.count(raw) == 1
                and raw.count("(") + raw.count("（") < 2
            ):
                got = reading(text).get(raw.strip())
                if got is not None and not got[1]:
                    found.append((text, raw))
    return found


@pytest.mark.parametrize("added", ADDED, ids=[f"note{k}" for k in range(len(ADDED))])
def test_every_real_order_reads_the_same_with_a_note_after_it(added: str) -> None:
    lines = _ordering_lines()
    assert len(lines) >= 300
    changed = []
    for text, raw in lines:
        longer = raw.rstrip() + added
        if reading(text.replace(raw, longer, 1)).get(longer.strip()) != reading(text)[raw.strip()]:
            changed.append(raw)
    assert changed == []
