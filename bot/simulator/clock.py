"""The simulator's notion of now, so tests can move time instead of sleeping."""

from __future__ import annotations

from collections.abc import Callable

Clock = Callable[[], float]

# A fixed, plausible Unix time, so timestamps in tests are stable and readable.
DEFAULT_START = 1_760_000_000.0


class ManualClock:
    """A clock that only moves when told to."""

    def __init__(self, start: float = DEFAULT_START) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("time only moves forward")
        self.now += seconds
