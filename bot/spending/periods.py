"""The periods limits count in: the UTC day and the UTC calendar month, as unix seconds."""

from __future__ import annotations

import datetime
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Period:
    start: float  # included
    end: float  # excluded: when the next period starts, and the limit resets

    @property
    def start_date(self) -> datetime.date:
        return _utc(self.start).date()


def _utc(unix: float) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(unix, datetime.UTC)


def day(now: float) -> Period:
    start = _utc(now).replace(hour=0, minute=0, second=0, microsecond=0)
    return Period(start.timestamp(), (start + datetime.timedelta(days=1)).timestamp())


def month(now: float) -> Period:
    start = _utc(now).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    following = (start + datetime.timedelta(days=32)).replace(day=1)
    return Period(start.timestamp(), following.timestamp())


def days_of(period: Period) -> list[datetime.date]:
    """Every UTC date in the period, in order."""
    first, last = _utc(period.start).date(), _utc(period.end).date()
    return [first + datetime.timedelta(days=n) for n in range((last - first).days)]
