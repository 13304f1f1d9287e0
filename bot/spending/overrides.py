"""What `/limits set` (and the operator's `videobot limits`) accept for each limit, read into
a value with clear errors."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal

from bot.errors import UserError
from bot.spending.limits import NO_LIMIT_WORDS, LimitField
from bot.spending.money import MICROS_PER_USD, parse_usd, usd
from bot.storage import NO_LIMIT

DEFAULT_WORD: Final = "default"
# Typed input is quoted back shortened: an answer must stay within Discord's 2,000 characters.
QUOTED_CHARS: Final = 40
# ASCII digits only: "²" and other Unicode digits pass str.isdigit() but are no amount.
_WHOLE = re.compile(r"[0-9]+", re.ASCII)
# More digits than any limit has: refused before reading (a 5,000-digit int() raises).
_MAX_DIGITS: Final = 15


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


def quoted(text: str) -> str:
    """`text` as an answer quotes it: on one line, and shortened when long."""
    flat = " ".join(text.split())
    return repr(flat if len(flat) <= QUOTED_CHARS else flat[: QUOTED_CHARS - 1] + "…")


def parse(name: str, text: str) -> int | None:
    """The value `text` gives the limit `name`: None for "default", NO_LIMIT for "none".

    Raises UserError saying what is accepted.
    """
    knob = KNOBS.get(name)
    if knob is None:
        raise UserError(f"There is no limit called {quoted(name)}; pick one of {', '.join(KNOBS)}.")
    word = text.strip().lower()
    if word == DEFAULT_WORD:
        return None
    if word in NO_LIMIT_WORDS:
        return NO_LIMIT
    if "," in word:
        # "2,50" is $2.50 in much of the world and $250 in the rest: neither is guessed.
        raise UserError(
            f"{name}: {quoted(text)} is ambiguous. Write numbers without commas, with a dot "
            "for cents: 2.50, or 1000."
        )
    whole = word.removeprefix("$").strip().split(".")[0] if knob.unit == "usd" else word
    if _WHOLE.fullmatch(whole) and len(whole) > _MAX_DIGITS:
        raise UserError(f"{name} must be between {knob.amount(knob.low)} and {_high(knob)}.")
    whole_number = int(word) if _WHOLE.fullmatch(word) else None
    value = parse_usd(word) if knob.unit == "usd" else whole_number
    if value is None:
        raise UserError(f"{name} must be {_accepted(knob)}, not {quoted(text)}.")
    if not knob.low <= value <= knob.high:
        raise UserError(
            f"{name} must be between {knob.amount(knob.low)} and {_high(knob)}, "
            f"not {knob.amount(value)}."
        )
    return value


def under_ceiling(name: str, value: int | None, ceiling: int | None) -> int | None:
    """What a server's admin may store for the limit `name`: None (the ceiling) for both
    `default` and `none`, else a value no higher than the operator's ceiling."""
    if value is None or value == NO_LIMIT:
        return None
    if ceiling is not None and value > ceiling:
        knob = KNOBS[name]
        raise UserError(
            f"{name} can be at most {knob.amount(ceiling)} in this server: that is the "
            "ceiling the bot's operator set. A lower value, or `default` for the ceiling, works."
        )
    return value


def _high(knob: Knob) -> str:
    return knob.amount(knob.high)


def _accepted(knob: Knob) -> str:
    if knob.unit == "usd":
        what = "an amount in USD like 25 or 12.50 (at most 6 decimals)"
    elif knob.unit == "seconds":
        what = "a whole number of seconds like 120"
    else:
        what = "a whole number of jobs like 2"
    return f"{what}, or `default`"
