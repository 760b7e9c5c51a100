"""Cutoffs as leaders write them in a chain head, read against the time the head was posted
(Monday 2026-11-23, 08:00, Asia/Shanghai). A wrong cutoff closes a round early and turns away
the orders after it, so each way of writing one is pinned here."""

from __future__ import annotations

from datetime import datetime

import pytest

from handlers.parsing.times import find_cutoff
from tests.conftest import TZ

MONDAY_8 = datetime(2026, 11, 23, 8, 0, tzinfo=TZ)


@pytest.mark.parametrize(
    ("head", "cutoff"),
    [
        ("截单：今晚22:00", "11-23 22:00"),
        ("今晚9点截单", "11-23 21:00"),
        ("晚9点截单", "11-23 21:00"),
        ("明晚8点截单", "11-24 20:00"),
        ("截单时间 明天上午10点", "11-24 10:00"),
        ("11月25日 22:00截单", "11-25 22:00"),
        ("22:00截单", "11-23 22:00"),
        ("早8点截单", "11-24 08:00"),  # 08:00 has come: tomorrow's
        ("周五晚9点截单", "11-27 21:00"),
        ("截单时间 周五 21:00", "11-27 21:00"),
        ("星期三下午3点截单", "11-25 15:00"),
        ("礼拜天晚上8点截单", "11-29 20:00"),
        ("周一 7点截单", "11-30 07:00"),  # this Monday's 07:00 has gone: next Monday
        ("下周一中午12点截止", "11-30 12:00"),
        ("下周五晚8点截单", "12-04 20:00"),
    ],
)
def test_cutoffs_as_leaders_write_them(head: str, cutoff: str) -> None:
    found = find_cutoff(head, MONDAY_8)
    assert found is not None and found.strftime("%m-%d %H:%M") == cutoff


def test_next_weeks_day_is_counted_from_any_day_of_this_week() -> None:
    wednesday = datetime(2026, 11, 25, 8, 0, tzinfo=TZ)
    found = find_cutoff("下周一中午12点截止", wednesday)
    assert found is not None and found.strftime("%m-%d %H:%M") == "11-30 12:00"
