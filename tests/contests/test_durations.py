from __future__ import annotations

import pytest

from bot.contests.durations import describe, parse_duration
from bot.errors import UserError


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90m", 90 * 60),
        ("2h", 2 * 3600),
        (" 3D ", 3 * 86_400),
        ("1d12h", 36 * 3600),
        ("1d 30m", 86_400 + 1800),
        ("1w", 7 * 86_400),
        ("5m", 300),
        ("60d", 60 * 86_400),
    ],
)
def test_durations_people_type(text: str, seconds: int) -> None:
    assert parse_duration(text, "submit_for") == seconds


@pytest.mark.parametrize("text", ["", "2", "2 hours", "h2", "-1h", "1.5h", "2x"])
def test_malformed_durations_say_what_is_expected(text: str) -> None:
    with pytest.raises(UserError, match=r"submit_for must be a duration like 90m, 2h, 3d"):
        parse_duration(text, "submit_for")


@pytest.mark.parametrize(("text", "shown"), [("4m", "4 min"), ("61d", "61 d"), ("9w", "63 d")])
def test_durations_out_of_bounds_are_refused(text: str, shown: str) -> None:
    with pytest.raises(UserError, match=f"between 5 min and 60 d; {text} is {shown}"):
        parse_duration(text, "vote_for")


def test_describe_keeps_the_two_largest_units() -> None:
    assert describe(90 * 60) == "1 h 30 min"
    assert describe(86_400 + 3600 + 60) == "1 d 1 h"
