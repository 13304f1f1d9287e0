"""What `/limits set` accepts for each limit, read into a server's override with clear errors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from bot.errors import UserError
from bot.spending.limits import NO_LIMIT_WORDS
from bot.spending.money import MICROS_PER_USD, parse_usd, usd
from bot.storage import NO_LIMIT

LimitField = Literal[
    "jobs_per_user",
    "jobs_per_guild",
    "daily_seconds_per_user",
    "daily_seconds_per_guild",
    "monthly_budget_micros",
]
DEFAULT_WORD: Final = "default"


@dataclass(frozen=True, slots=True)
class Knob:
    field: LimitField
    label: str
    unit: Literal["jobs", "seconds", "usd"]
    low: int  # in the unit's integer form: jobs, seconds, micro-dollars
    high: int

    def amount(self, value: int) -> str:
        if self.unit == "usd":
            return usd(value)
        if self.unit == "seconds":
            return f"{value:,} s"
        return f"{value:,}"

    def shown(self, value: int | None) -> str:
        if value is None:
            return "no limit"
        return self.amount(value) + (" at once" if self.unit == "jobs" else "")


# The names people type in `/limits set`, in the order `/limits show` lists them.
KNOBS: Final[dict[str, Knob]] = {
    "seconds_per_member_per_day": Knob(
        "daily_seconds_per_user", "Seconds per member per day", "seconds", 0, 1_000_000
    ),
    "seconds_per_server_per_day": Knob(
        "daily_seconds_per_guild", "Seconds in the server per day", "seconds", 0, 100_000_000
    ),
    "monthly_budget": Knob(
        "monthly_budget_micros", "Monthly budget", "usd", 0, 1_000_000 * MICROS_PER_USD
    ),
    "jobs_per_member": Knob("jobs_per_user", "Unfinished jobs per member", "jobs", 1, 50),
    "jobs_per_server": Knob("jobs_per_guild", "Unfinished jobs in the server", "jobs", 1, 500),
}


def parse(name: str, text: str) -> int | None:
    """The override `text` sets for the limit `name`: None for "default", NO_LIMIT for "none".

    Raises UserError saying what is accepted.
    """
    knob = KNOBS.get(name)
    if knob is None:
        raise UserError(f"There is no limit called {name!r}; pick one of {', '.join(KNOBS)}.")
    word = text.strip().lower()
    if word == DEFAULT_WORD:
        return None
    if word in NO_LIMIT_WORDS:
        return NO_LIMIT
    value = parse_usd(word) if knob.unit == "usd" else (int(word) if word.isdigit() else None)
    if value is None:
        raise UserError(f"{name} must be {_accepted(knob)}, not {text.strip()!r}.")
    if not knob.low <= value <= knob.high:
        raise UserError(
            f"{name} must be between {knob.amount(knob.low)} and {knob.amount(knob.high)}, "
            f"not {knob.amount(value)}."
        )
    return value


def _accepted(knob: Knob) -> str:
    if knob.unit == "usd":
        what = "an amount in USD like 25 or 12.50 (at most 6 decimals)"
    elif knob.unit == "seconds":
        what = "a whole number of seconds like 120"
    else:
        what = "a whole number of jobs like 2"
    return f"{what}, `none` for no limit, or `default`"
