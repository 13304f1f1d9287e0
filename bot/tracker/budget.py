"""How many status requests the tracker may send now: the provider's budget, not a constant.

A token bucket refilled at the sustained rate (PROVIDER_REQUESTS_PER_MINUTE) holds a few
seconds' worth, so a cycle can send several pages at once. What the provider says overrides it:
`x-ratelimit-remaining-requests` caps what may go before `x-ratelimit-reset-requests`, none at
all when it reaches 0, and a 429's `Retry-After` stops every request until then. Time is passed
in, so the tracker's clock (a test's manual one) drives it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.videoapi.models import ResponseMeta

# A reset the provider did not say: OpenAI's request limits are per minute.
DEFAULT_WINDOW_SECONDS = 60.0


@dataclass(slots=True)
class RequestBudget:
    per_minute: float
    # How many seconds of the sustained rate may go in one burst.
    burst_seconds: float = 5.0
    _tokens: float = field(init=False)
    _refilled_at: float = field(default=0.0, init=False)
    _window_left: int | None = field(default=None, init=False)
    _window_ends: float = field(default=0.0, init=False)
    _blocked_until: float = field(default=0.0, init=False)

    def __post_init__(self) -> None:
        if self.per_minute <= 0:
            raise ValueError("per_minute must be above 0")
        self._tokens = self.capacity

    @property
    def rate(self) -> float:
        """Requests a second, sustained."""
        return self.per_minute / 60

    @property
    def capacity(self) -> float:
        return max(1.0, self.rate * self.burst_seconds)

    def available(self, now: float) -> int:
        """Requests that may be sent at `now`."""
        self._refill(now)
        if now < self._blocked_until:
            return 0
        allowed = int(self._tokens)
        if self._window_left is not None and now < self._window_ends:
            allowed = min(allowed, self._window_left)
        return allowed

    def try_spend(self, now: float) -> bool:
        """Take one request from the budget if there is one."""
        if self.available(now) < 1:
            return False
        self._tokens -= 1
        if self._window_left is not None:
            self._window_left -= 1
        return True

    def ready_at(self, now: float) -> float:
        """The earliest time the next request may go."""
        if self.available(now) >= 1:
            return now
        ready = max(now, self._blocked_until)
        if self._window_left is not None and self._window_left <= 0 and now < self._window_ends:
            ready = max(ready, self._window_ends)
        if self._tokens < 1:
            # A millisecond more, so the token is whole by then despite rounding.
            ready = max(ready, now + (1 - self._tokens) / self.rate + 1e-3)
        return ready

    def observe(self, meta: ResponseMeta, now: float) -> None:
        """Take in what a response said about the provider's own count."""
        if meta.retry_after_s is not None:
            self._blocked_until = max(self._blocked_until, now + meta.retry_after_s)
        if meta.ratelimit_remaining_requests is not None:
            reset = meta.ratelimit_reset_requests_s
            self._window_left = meta.ratelimit_remaining_requests
            self._window_ends = now + (DEFAULT_WINDOW_SECONDS if reset is None else reset)
            if self._window_left <= 0:
                self._blocked_until = max(self._blocked_until, self._window_ends)

    def _refill(self, now: float) -> None:
        if now > self._refilled_at:
            elapsed = now - self._refilled_at
            self._tokens = min(self.capacity, self._tokens + elapsed * self.rate)
            self._refilled_at = now
        if self._window_left is not None and now >= self._window_ends:
            self._window_left = None
