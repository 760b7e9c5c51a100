"""Building chain texts the way residents do: copy the latest version, append a line, repost."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

TRANSCRIPTS = Path(__file__).resolve().parent / "transcripts"
FRUIT_HEAD = (TRANSCRIPTS / "fruit_head.txt").read_text(encoding="utf-8").strip()


@dataclass(frozen=True)
class Chain:
    """An immutable chain version: `add` returns the next version, as a resident's copy."""

    head: str = FRUIT_HEAD
    lines: tuple[str, ...] = field(default_factory=tuple)

    def add(self, *contents: str) -> Chain:
        lines = list(self.lines)
        for c in contents:
            lines.append(f"{len(lines) + 1}. {c}")
        return Chain(self.head, tuple(lines))

    def without(self, content: str) -> Chain:
        """The chain with one line removed and the rest renumbered, as people do."""
        kept = [ln.split(". ", 1)[1] for ln in self.lines if ln.split(". ", 1)[1] != content]
        return Chain(self.head).add(*kept)

    def replace(self, old: str, new: str) -> Chain:
        return Chain(self.head, tuple(ln.replace(old, new) for ln in self.lines))

    @property
    def text(self) -> str:
        return self.head + "\n\n" + "\n".join(self.lines) if self.lines else self.head
