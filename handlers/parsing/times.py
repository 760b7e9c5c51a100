"""Cutoff (截单) times as leaders write them in a chain head.

`截单：今晚22:00`, `今晚9点截单`, `截单时间 明天上午10点`, `截止 21:30`, `晚上十点截单`,
`11月23日 22:00截单`, `周五晚9点截单`, `下周一中午12点截止`. The result is aware, in the
clock's zone, never in the past relative to the head's own time unless the head names a date
that has passed.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

import cn2an

_CUTOFF_WORD = re.compile(r"截单|截止|截团|结束接龙|停止接龙")
_CN_NUM = "零〇一二两三四五六七八九十"
_TIME = re.compile(
    r"(?:(?P<month>\d{1,2})月(?P<day>\d{1,2})[日号]\s*)?"
    r"(?:(?P<next>下)?(?:本|这)?(?:周|星期|礼拜)(?P<weekday>[一二三四五六日天])\s*)?"
    r"(?P<rel>今天|今日|今晚|明天|明日|明晚|后天)?\s*"
    r"(?P<part>凌晨|早上|上午|中午|下午|傍晚|晚上|夜里|晚|早|夜)?\s*"
    rf"(?P<hour>\d{{1,2}}|[{_CN_NUM}]{{1,3}})\s*(?:[:：点時时]\s*(?P<minute>\d{{1,2}}|半|[{_CN_NUM}]{{1,3}}分?)?)"
)
_PM_PARTS = {"下午", "傍晚", "晚上", "夜里", "晚", "夜"}
_WEEKDAYS = "一二三四五六日"  # 周一 … 周日 (周天 is 周日)
_WINDOW = 24  # characters around the cutoff word searched for a time


def _num(text: str) -> int:
    if text.isdigit():
        return int(text)
    return int(cn2an.cn2an(text.rstrip("分"), "smart"))


def _resolve(m: re.Match[str], base: datetime) -> datetime | None:
    try:
        hour = _num(m["hour"])
        minute_txt = m["minute"]
        minute = 30 if minute_txt == "半" else (_num(minute_txt) if minute_txt else 0)
    except ValueError:
        return None
    part, rel = m["part"], m["rel"]
    if (part in _PM_PARTS or rel in {"今晚", "明晚"}) and hour < 12:
        hour += 12
    if part == "中午" and hour < 6:
        hour += 12
    if not (0 <= hour <= 24 and 0 <= minute < 60):
        return None
    day: date = base.date()
    if m["month"] and m["day"]:
        try:
            day = date(base.year, int(m["month"]), int(m["day"]))
        except ValueError:
            return None
    elif m["weekday"]:  # `周五晚9点`: the coming Friday (today, if today is Friday)
        wanted = _WEEKDAYS.index(m["weekday"].replace("天", "日"))
        if m["next"]:  # `下周一`: Monday of next week, whatever day this is
            day = day + timedelta(days=7 - day.weekday() + wanted)
        else:
            day = day + timedelta(days=(wanted - day.weekday()) % 7)
    elif rel in {"明天", "明日", "明晚"}:
        day = day + timedelta(days=1)
    elif rel == "后天":
        day = day + timedelta(days=2)
    if hour == 24:
        hour, day = 0, day + timedelta(days=1)
    when = datetime.combine(day, time(hour, minute), tzinfo=base.tzinfo)
    if m["weekday"] and not m["next"] and when <= base:
        when += timedelta(days=7)  # `周一 9点截单` posted Monday at 10: next Monday
    elif not (m["month"] or rel or m["weekday"]) and when <= base:
        # "22:00截单" posted after 22:00 means tomorrow's 22:00.
        when += timedelta(days=1)
    return when


def find_cutoff(header: str, base: datetime) -> datetime | None:
    """The cutoff named in `header`, resolved against `base` (the head's post time), or None."""
    for word in _CUTOFF_WORD.finditer(header):
        line_start = header.rfind("\n", 0, word.start()) + 1
        line_end = header.find("\n", word.end())
        line_end = len(header) if line_end < 0 else line_end
        lo = max(line_start, word.start() - _WINDOW)
        hi = min(line_end, word.end() + _WINDOW)
        window = header[lo:hi]
        offset = word.start() - lo
        best: tuple[int, datetime] | None = None
        for m in _TIME.finditer(window):
            when = _resolve(m, base)
            if when is None:
                continue
            dist = abs(m.start() - offset)
            if best is None or dist < best[0]:
                best = (dist, when)
        if best is not None:
            return best[1]
    return None


def default_cutoff(base: datetime, at: time) -> datetime:
    """The configured daily cutoff (22:00 by default) on the head's day, or the next day's."""
    when = datetime.combine(base.date(), at, tzinfo=base.tzinfo)
    return when if when > base else when + timedelta(days=1)
