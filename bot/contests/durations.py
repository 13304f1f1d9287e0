"""Durations as people type them: `90m`, `2h`, `3d`, `1d12h`, `1w`."""

from __future__ import annotations

import re
from typing import Final

from bot.errors import UserError

UNITS: Final = {"m": 60, "h": 3600, "d": 86_400, "w": 604_800}
MIN_SECONDS: Final = 5 * 60
MAX_SECONDS: Final = 60 * 86_400

_PART = re.compile(r"(\d{1,5})\s*([mhdw])")
_WHOLE = re.compile(rf"(?:\s*{_PART.pattern}\s*)+")


def parse_duration(text: str, what: str) -> int:
    """Seconds in `text`; `what` names the option in the error ("submit_for must ...")."""
    cleaned = text.strip().lower()
    if not _WHOLE.fullmatch(cleaned):
        raise UserError(
            f"{what} must be a duration like 90m, 2h, 3d or 1d12h (m = minutes, h = hours, "
            f"d = days, w = weeks), not {text.strip()[:30]!r}."
        )
    seconds = sum(int(number) * UNITS[unit] for number, unit in _PART.findall(cleaned))
    if not MIN_SECONDS <= seconds <= MAX_SECONDS:
        raise UserError(
            f"{what} must be between {describe(MIN_SECONDS)} and {describe(MAX_SECONDS)}; "
            f"{text.strip()} is {describe(seconds)}."
        )
    return seconds


def describe(seconds: int) -> str:
    """`90m` -> "1 h 30 min": the largest units, at most two of them."""
    parts = []
    for name, size in (("d", 86_400), ("h", 3600), ("min", 60)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count} {name}")
    return " ".join(parts[:2]) or "0 min"
