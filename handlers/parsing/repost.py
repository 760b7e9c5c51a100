"""What the parser keeps of a chain's last reading, so that its next copy costs what it adds.

Residents repost a chain with their line added: the text starts with the previous post's lines
down to its last entry, then that entry, the new lines and the footer (moved down). The kept
reading covers the lines above the last entry (`prefix`): the segmentation, each entry as
settled, and the running counts behind the chain-wide decisions (its fields, kind and mode,
its shop labels, a roll call's answer). A later text that starts with `prefix` is read from
there on; where the lines it adds change one of the decisions, chain_parser reads it whole.

Bounded: KEPT_CHAINS readings, the oldest used dropped first; a repost's reading replaces
the one it continued, so one chain takes one place however often it is posted.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from handlers.parsing.entry import Context
from handlers.parsing.kinds import KindCounts
from handlers.parsing.segment import Resume
from handlers.parsing.tally import FieldCounts
from handlers.parsing.types import MenuLine, ParsedItem

KEPT_CHAINS = 32  # chains whose last reading is kept

# An entry as settled: seq, name, items, note, raw, flags; kept as a tuple, and each parse
# makes its own ParsedEntry from it.
Settled = tuple[int | None, str | None, tuple[ParsedItem, ...], str | None, str, tuple[str, ...]]


@dataclass(frozen=True, slots=True)
class Head:
    """The chain's head as read: the same in every copy that keeps its lines."""

    header: str
    menu: tuple[MenuLine, ...]
    ctx: Context  # before the entries add their fields
    known: tuple[str, ...]

    @property
    def has_menu(self) -> bool:
        return bool(self.menu or self.ctx.codes)


@dataclass(frozen=True, slots=True)
class Decisions:
    """What the entries as a population decided; a copy read on must decide the same."""

    fields: frozenset[str]
    kind: str
    mode: str
    labels: frozenset[str]
    answer: str | None


@dataclass(slots=True)
class Above:
    """The entries above the resume line: how they were settled, and the counts over them
    (None where the chain's decisions never read them)."""

    settled: list[Settled]
    fields: FieldCounts
    kinds: KindCounts | None  # None where the head's menu says it is an order
    named: int  # entries naming goods
    others: int  # entries ordering goods a one-product head does not offer
    labels: Counter[str] | None  # bracket labels over the head and the entries; multi only
    copied: dict[int, tuple[ParsedItem, ...]]  # `同上` entries' goods, as copied from above
    last_goods: tuple[ParsedItem, ...]  # the goods a `同上` below them would copy
    skipped: list[str]  # empty slots and format lines, raw


def nothing_above() -> Above:
    return Above([], FieldCounts(), KindCounts(), 0, 0, None, {}, (), [])


@dataclass(slots=True, eq=False)
class ChainState:
    prefix: str  # the text above the resume line, with the newline that ends it
    head: Head
    resume: Resume
    has_marker: bool  # in the lines above the resume line
    above: Above
    decisions: Decisions


_KEPT: list[ChainState] = []


def recall(text: str, known: tuple[str, ...]) -> ChainState | None:
    """The kept reading `text` continues (the longest), if any."""
    best: ChainState | None = None
    for state in _KEPT:
        if (
            (best is None or len(state.prefix) > len(best.prefix))
            and state.head.known == known
            and text.startswith(state.prefix)
        ):
            best = state
    return best


def remember(state: ChainState, replaces: ChainState | None) -> None:
    """Keep `state`, in place of the reading it continued, as the newest."""
    if replaces is not None and replaces in _KEPT:
        _KEPT.remove(replaces)
    while len(_KEPT) >= KEPT_CHAINS:
        del _KEPT[0]
    _KEPT.append(state)


def forget() -> None:
    _KEPT.clear()
