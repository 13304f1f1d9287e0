from __future__ import annotations

import pytest

from bot.errors import UserError
from bot.spending.limits import LIMIT_FIELDS
from bot.spending.overrides import KNOBS, QUOTED_CHARS, parse, under_ceiling
from bot.storage import NO_LIMIT


@pytest.mark.parametrize(
    ("name", "text", "value"),
    [
        ("monthly_budget", "25", 25_000_000),
        ("monthly_budget", "$12.50", 12_500_000),
        ("monthly_budget", "2.50", 2_500_000),
        ("monthly_budget", "0", 0),
        ("seconds_per_member_per_day", "120", 120),
        ("seconds_per_server_per_day", " 0 ", 0),
        ("jobs_per_member", "50", 50),
        ("jobs_per_server", "1", 1),
        ("jobs_per_server", "None", NO_LIMIT),
        ("monthly_budget", "off", NO_LIMIT),
        ("monthly_budget", "default", None),
    ],
)
def test_accepted_values(name: str, text: str, value: int | None) -> None:
    assert parse(name, text) == value


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("monthly_budget", "lots", "monthly_budget must be an amount in USD like 25 or 12.50"),
        ("monthly_budget", "-5", "monthly_budget must be an amount in USD"),
        ("monthly_budget", "2000000", "between $0.00 and $1,000,000.00, not $2,000,000.00"),
        ("jobs_per_member", "0", "jobs_per_member must be between 1 and 50, not 0"),
        ("jobs_per_member", "51", "between 1 and 50, not 51"),
        ("jobs_per_member", "1.5", "a whole number of jobs like 2, or `default`, not '1.5'"),
        # Decimal reads an exponent, then overflows multiplying it into micro-dollars.
        ("monthly_budget", "1e999999", "must be an amount in USD like 25 or 12.50"),
        # int() refuses more than 4,300 digits with a ValueError of its own.
        ("monthly_budget", "9" * 5000, "must be between $0.00 and $1,000,000.00."),
        ("seconds_per_member_per_day", "9" * 5000, "must be between 0 s and 1,000,000 s."),
        # A Unicode digit passes str.isdigit() and fails int().
        ("jobs_per_member", "²", "a whole number of jobs like 2, or `default`, not '²'"),
        ("seconds_per_member_per_day", "٣", "a whole number of seconds"),
        # $2.50 or $250, depending on the reader: neither is guessed.
        ("monthly_budget", "2,50", "'2,50' is ambiguous. Write numbers without commas"),
        ("seconds_per_member_per_day", "1,000", "is ambiguous"),
        ("seconds_per_member_per_day", "-1", "a whole number of seconds like 120"),
        ("seconds_per_member_per_day", "2000000", "between 0 s and 1,000,000 s"),
        ("nonsense", "1", "There is no limit called 'nonsense'"),
    ],
)
def test_refused_values_say_what_is_accepted(name: str, text: str, message: str) -> None:
    with pytest.raises(UserError, match=message.replace("$", r"\$").replace(".", r"\.")):
        parse(name, text)


def test_every_knob_names_a_limit_field() -> None:
    assert {knob.field for knob in KNOBS.values()} == set(LIMIT_FIELDS)


@pytest.mark.parametrize("length", [6_000, 10_000])
def test_long_input_is_quoted_shortened(length: int) -> None:
    text = "x" * length
    with pytest.raises(UserError) as raised:
        parse("monthly_budget", text)
    message = str(raised.value)
    assert len(message) < 300
    assert "'" + "x" * (QUOTED_CHARS - 1) + "…'" in message
    with pytest.raises(UserError) as raised:
        parse("monthly_budget", "1," + text)
    assert len(str(raised.value)) < 300


@pytest.mark.parametrize(
    ("name", "value", "ceiling", "stored"),
    [
        # `none` and `default` both mean the operator's ceiling.
        ("monthly_budget", NO_LIMIT, 50_000_000, None),
        ("monthly_budget", None, 50_000_000, None),
        ("monthly_budget", 50_000_000, 50_000_000, 50_000_000),
        ("monthly_budget", 400_000, 50_000_000, 400_000),
        # No ceiling: anything within the knob's range.
        ("jobs_per_server", 400, None, 400),
    ],
)
def test_a_server_may_lower_a_limit_under_the_ceiling(
    name: str, value: int | None, ceiling: int | None, stored: int | None
) -> None:
    assert under_ceiling(name, value, ceiling) == stored


@pytest.mark.parametrize(
    ("name", "value", "ceiling", "message"),
    [
        ("monthly_budget", 1_000_000_000_000, 50_000_000, "monthly_budget can be at most $50.00"),
        ("monthly_budget", 50_000_001, 50_000_000, "at most $50.00 in this server"),
        ("seconds_per_member_per_day", 121, 120, "at most 120 s"),
        ("jobs_per_member", 3, 2, "jobs_per_member can be at most 2"),
    ],
)
def test_a_server_cannot_raise_a_limit_over_the_ceiling(
    name: str, value: int, ceiling: int, message: str
) -> None:
    with pytest.raises(UserError, match=message.replace("$", r"\$").replace(".", r"\.")):
        under_ceiling(name, value, ceiling)
