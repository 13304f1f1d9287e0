from __future__ import annotations

import pytest

from bot.errors import UserError
from bot.spending.limits import Limits
from bot.spending.overrides import KNOBS, parse
from bot.storage import NO_LIMIT


@pytest.mark.parametrize(
    ("name", "text", "value"),
    [
        ("monthly_budget", "25", 25_000_000),
        ("monthly_budget", "$12.50", 12_500_000),
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
        ("jobs_per_member", "1.5", "a whole number of jobs like 2, `none` for no limit"),
        ("seconds_per_member_per_day", "-1", "a whole number of seconds like 120"),
        ("seconds_per_member_per_day", "2000000", "between 0 s and 1,000,000 s"),
        ("nonsense", "1", "There is no limit called 'nonsense'"),
    ],
)
def test_refused_values_say_what_is_accepted(name: str, text: str, message: str) -> None:
    with pytest.raises(UserError, match=message.replace("$", r"\$").replace(".", r"\.")):
        parse(name, text)


def test_every_knob_names_a_limit_field() -> None:
    assert {knob.field for knob in KNOBS.values()} == set(Limits.__dataclass_fields__)
