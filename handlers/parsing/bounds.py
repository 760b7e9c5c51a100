"""Bounds on what the parser reads, so parsing time is linear in the message.

Several of the parser's patterns search for a number anywhere in a segment (`\\d+` then a
unit, a price, a head count). On a long run of digits each start position scans to the end
of the run: 16 KB of digits took seconds (quadratic). No quantity, price, phone or order
number is longer than 32 digits, so a run past that is cut for reading; runs of blanks are
squeezed the same way. The raw message is stored whole before this; what was cut is said to
the poster.
"""

from __future__ import annotations

import re

from handlers.parsing.segment import MAX_LINE

MAX_RUN = 32  # digits (or Chinese numerals) in a row that are read; the rest of the run is not
_NUMERAL = "0-9０-９零〇一二两俩三四五六七八九十百千万亿点.．"
_LONG_RUN = re.compile(rf"([{_NUMERAL}]{{{MAX_RUN}}})[{_NUMERAL}]+")
_LONG_BLANK = re.compile(r"[ \t\u3000\u00a0]{16,}")


def bound_for_parsing(text: str, max_text: int) -> tuple[str, list[str]]:
    """The text the parser reads, and what was cut from it (short Chinese notes for the
    poster; empty when nothing was). Every pattern here is linear: a fixed-length prefix
    then one greedy run."""
    notes: list[str] = []
    if len(text) > max_text:
        kept = text[:max_text]
        if "\n" in kept:
            kept = kept[: kept.rindex("\n")]
        dropped = text[len(kept) :].count("\n") + 1
        notes.append(f"消息太长，后面约 {dropped} 行没有读")
        text = kept
    text, runs = _LONG_RUN.subn(r"\1", text)
    if runs:
        notes.append(f"有 {runs} 串超过 {MAX_RUN} 位的数字只读了前 {MAX_RUN} 位")
    text = _LONG_BLANK.sub(" ", text)
    long_lines = sum(1 for line in text.split("\n") if len(line) > MAX_LINE)
    if long_lines:
        notes.append(f"有 {long_lines} 行超过 {MAX_LINE} 字，只读了开头")
    return text, notes
