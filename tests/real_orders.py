"""The real order chains of the corpus, for tests that read each of them again, changed the
way residents change what they write, and compare."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from handlers.parsing.chain_parser import parse_chain

REAL = Path(__file__).resolve().parent / "corpus" / "real"


@cache
def order_chains() -> tuple[tuple[str, tuple[dict[str, Any], ...]], ...]:
    """(chain text, its annotated entries) for every real order chain."""
    found = []
    for expected in sorted(REAL.glob("*/expected.jsonl")):
        for line in filter(None, expected.read_text(encoding="utf-8").split("\n")):
            row = json.loads(line)
            if row.get("kind") == "order":
                text = (expected.parent / row["file"]).read_text(encoding="utf-8")
                found.append((text, tuple(row["entries"])))
    return tuple(found)


@cache
def reading(text: str) -> dict[str, tuple[object, ...]]:
    """Each entry's goods, whether it is held, and its name, by the entry's text."""
    return {
        e.raw: (tuple((i.item, i.qty, i.unit) for i in e.items), e.needs_review, e.name)
        for e in parse_chain(text).entries
    }
