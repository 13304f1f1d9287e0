from __future__ import annotations

import datetime

from bot.spending import periods


def utc(*parts: int) -> float:
    return datetime.datetime(*parts, tzinfo=datetime.UTC).timestamp()  # type: ignore[arg-type]


def test_the_utc_day_runs_from_midnight_to_midnight() -> None:
    day = periods.day(utc(2026, 12, 14, 23, 59, 59))
    assert (day.start, day.end) == (utc(2026, 12, 14), utc(2026, 12, 15))
    assert periods.day(utc(2026, 12, 15)).start == utc(2026, 12, 15)


def test_the_month_turns_at_the_first_utc_midnight() -> None:
    december = periods.month(utc(2026, 12, 31, 23, 59, 59))
    assert (december.start, december.end) == (utc(2026, 12, 1), utc(2027, 1, 1))
    assert periods.month(utc(2027, 1, 1)).start == utc(2027, 1, 1)
    february = periods.month(utc(2028, 2, 10))
    assert len(periods.days_of(february)) == 29  # a leap year
    assert periods.days_of(december)[0] == datetime.date(2026, 12, 1)
    assert periods.days_of(december)[-1] == datetime.date(2026, 12, 31)
