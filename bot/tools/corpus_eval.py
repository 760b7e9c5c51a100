"""`groupbuy eval DIR`: score the chain parser on annotated chains, the way the leader would.

A corpus is a folder (searched recursively) holding `expected.jsonl` files beside the chain
messages they annotate, in the format of ../shared/samples/jielong/README.md. Each expected
entry ends in exactly one bucket:

- right: the parser found it, read seq, name, items (item, qty, unit) and cancelled as
  annotated, and did not flag it;
- flagged: the parser found it and flagged it for review (right or not: the leader looks);
- wrong: found, not flagged, and read differently (silently wrong: the defect);
- lost: not found at all (counted as silently wrong too: an order nobody sees).

Parsed entries that match nothing annotated are `extra` (flagged extras are noise, unflagged
ones are silent inventions). Texts are compared with runs of white space folded to one space.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from handlers.parsing.chain_parser import parse_chain

_SPACES = re.compile(r"\s+")


def _text(value: object) -> str | None:
    return None if value is None else _SPACES.sub(" ", str(value)).strip()


def _items_key(items: list[dict[str, Any]]) -> Counter[tuple[str | None, Decimal, str | None]]:
    return Counter(
        (_text(i.get("item")), Decimal(str(i.get("qty", 1))), _text(i.get("unit"))) for i in items
    )


@dataclass(slots=True)
class Miss:
    """One annotated entry the parser did not read right, for the per-file listing."""

    file: str
    bucket: str  # flagged | wrong | lost | extra
    raw: str
    want: str
    got: str

    def to_json(self) -> dict[str, str]:
        return {
            "file": self.file,
            "bucket": self.bucket,
            "raw": self.raw,
            "want": self.want,
            "got": self.got,
        }


@dataclass(slots=True)
class Score:
    entries: int = 0
    right: int = 0
    flagged: int = 0
    flagged_right: int = 0  # flagged, though the reading was right: review the bot asked for
    wrong: int = 0
    lost: int = 0
    extra: int = 0
    extra_flagged: int = 0
    files: int = 0
    kind_right: int = 0

    def add(self, other: Score) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def silent(self) -> int:
        return self.wrong + self.lost

    def to_json(self) -> dict[str, Any]:
        total = self.entries or 1
        return {
            "files": self.files,
            "kind_right": self.kind_right,
            "entries": self.entries,
            "right": self.right,
            "flagged": self.flagged,
            "flagged_right": self.flagged_right,
            "silently_wrong": self.silent,
            "lost": self.lost,
            "extra": self.extra,
            "extra_flagged": self.extra_flagged,
            "right_pct": round(100 * self.right / total, 2),
            "flagged_pct": round(100 * self.flagged / total, 2),
            "silent_pct": round(100 * self.silent / total, 2),
        }


@dataclass(slots=True)
class Report:
    overall: Score = field(default_factory=Score)
    by_kind: dict[str, Score] = field(default_factory=dict)
    misses: list[Miss] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "overall": self.overall.to_json(),
            "by_kind": {k: s.to_json() for k, s in sorted(self.by_kind.items())},
            "misses": [m.to_json() for m in self.misses],
        }


def _same(want: dict[str, Any], got: dict[str, Any]) -> bool:
    return (
        want.get("seq") == got.get("seq")
        and _text(want.get("name")) == _text(got.get("name"))
        and _items_key(want.get("items", [])) == _items_key(got.get("items", []))
        and bool(want.get("cancelled", False)) == bool(got.get("cancelled", False))
    )


def _show(entry: dict[str, Any]) -> str:
    items = "；".join(
        f"{i.get('item')}×{i.get('qty', 1)}{i.get('unit') or ''}" for i in entry.get("items", [])
    )
    cancelled = " 取消" if entry.get("cancelled") else ""
    return f"#{entry.get('seq')} [{entry.get('name')}] {items or '—'}{cancelled}"


def _match(
    want: list[dict[str, Any]], got: list[dict[str, Any]]
) -> list[tuple[dict[str, Any], dict[str, Any] | None]]:
    """Pair each annotated entry with the parsed one of the same raw text (in order)."""
    free = list(range(len(got)))
    pairs: list[tuple[dict[str, Any], dict[str, Any] | None]] = []
    for w in want:
        raw = _text(w.get("raw"))
        first = raw.split(" ")[0:3] if raw else []
        pick = next((k for k in free if _text(got[k]["raw"]) == raw), None)
        if pick is None:  # the same entry cut differently (a continuation line taken or not)
            pick = next(
                (
                    k
                    for k in free
                    if got[k]["seq"] == w.get("seq")
                    and (_text(got[k]["raw"]) or "").split(" ")[0:3] == first
                ),
                None,
            )
        if pick is not None:
            free.remove(pick)
        pairs.append((w, got[pick] if pick is not None else None))
    return pairs + [({}, got[k]) for k in free]


def score_file(name: str, text: str, expected: dict[str, Any], report: Report) -> None:
    parsed = parse_chain(text)
    kind = str(expected.get("kind") or "unlabelled")
    score = Score(files=1, kind_right=int(parsed.kind == kind))
    got = [
        {**e.to_json(), "cancelled": "cancel" in e.flags, "review": e.needs_review}
        for e in parsed.entries
    ]
    for want, have in _match(list(expected.get("entries", [])), got):
        if not want:
            assert have is not None
            score.extra += 1
            score.extra_flagged += int(bool(have["review"]))
            if not have["review"]:
                report.misses.append(
                    Miss(name, "extra", have["raw"], "（不是一条接龙）", _show(have))
                )
            continue
        score.entries += 1
        if have is None:
            score.lost += 1
            report.misses.append(
                Miss(name, "lost", str(want.get("raw")), _show(want), "（没读到）")
            )
            continue
        same = _same(want, have)
        if have["review"]:
            score.flagged += 1
            score.flagged_right += int(same)
            if not same:
                report.misses.append(
                    Miss(name, "flagged", str(want.get("raw")), _show(want), _show(have))
                )
        elif same:
            score.right += 1
        else:
            score.wrong += 1
            report.misses.append(
                Miss(name, "wrong", str(want.get("raw")), _show(want), _show(have))
            )
    report.overall.add(score)
    report.by_kind.setdefault(kind, Score()).add(score)


def evaluate(folder: Path) -> Report:
    """Score every annotated message below `folder`."""
    report = Report()
    for expected_file in sorted(folder.rglob("expected.jsonl")):
        for line in expected_file.read_text("utf-8").split("\n"):
            if not line.strip():
                continue
            expected = json.loads(line)
            path = expected_file.parent / expected["file"]
            rel = str(path.relative_to(folder))
            score_file(rel, path.read_text("utf-8"), expected, report)
    return report


def print_report(report: Report, *, show_misses: bool = True) -> None:
    if show_misses:
        by_file: dict[str, list[Miss]] = {}
        for m in report.misses:
            by_file.setdefault(m.file, []).append(m)
        for file, misses in by_file.items():
            print(f"\n{file}")
            for m in misses:
                print(f"  {m.bucket:<7} {m.raw.splitlines()[0][:60]}")
                print(f"          想要 {m.want}")
                print(f"          读到 {m.got}")
    print()
    print(
        f"{'':<9}{'files':>6}{'kind ok':>8}{'entries':>8}{'right':>14}{'flagged':>14}"
        f"{'silent':>14}{'lost':>6}{'extra(flagged)':>16}"
    )
    for label, s in [("overall", report.overall), *sorted(report.by_kind.items())]:
        total = s.entries or 1

        def cell(n: int, total: int = total) -> str:
            return f"{n:>6} {100 * n / total:>5.1f}%"

        print(
            f"{label:<9}{s.files:>6}{s.kind_right:>8}{s.entries:>8}"
            f"{cell(s.right)}{cell(s.flagged)}{cell(s.silent)}{s.lost:>6}"
            f"{s.extra:>9}({s.extra_flagged})"
        )
