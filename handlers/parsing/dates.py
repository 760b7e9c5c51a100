"""Days and months as people type them in commands (pure): `2026-11-23`, `11月23日`,
`12月4号`, `2026年12月4日`, `11-23`; months `2026-11`, `2026年12月`, `12月`.

A date without a year is the latest such day that is not more than a month ahead of today:
in January, `12月4日` is last December's.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, timedelta

_DAY = re.compile(r"^(?:(\d{4})\s*[-/.年]\s*)?(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?$")
_MONTH = re.compile(r"^(?:(\d{4})\s*[-/.年]\s*)?(\d{1,2})\s*月?$")
AHEAD = timedelta(days=31)


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip()


def parse_day(text: str, today: date) -> date | None:
    """The day `text` names, or None when it names none (`2026-13-45`, `明天`)."""
    m = _DAY.match(_fold(text))
    if m is None:
        return None
    year, month, day = (int(g) if g else None for g in m.groups())
    assert month is not None and day is not None
    for y in [year] if year is not None else [today.year, today.year - 1]:
        try:
            found = date(y, month, day)
        except ValueError:
            return None
        if year is not None or found <= today + AHEAD:
            return found
    return None


def parse_month(text: str, today: date) -> tuple[int, int] | None:
    """(year, month) that `text` names, or None. A bare `12` needs its `月` unless a year
    is written (`2026-12`), so a stray number is not taken for a month."""
    folded = _fold(text)
    m = _MONTH.match(folded)
    if m is None or (m.group(1) is None and not folded.endswith("月")):
        return None
    month = int(m.group(2))
    if not 1 <= month <= 12:
        return None
    if m.group(1) is not None:
        return int(m.group(1)), month
    year = today.year if month <= today.month + 1 else today.year - 1
    return year, month
