"""How long to wait before trying again: capped, jittered exponential backoff, one rule for all.

The provider client's retries, the tracker's pauses and delivery's retries all grow the same way.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Backoff:
    """`base_delay` doubled per retry up to `max_delay`, less up to `jitter` of it at random.

    `sleep` is injectable so tests never wait.
    """

    base_delay: float = 0.5
    max_delay: float = 8.0
    # The share taken off at random: it spreads out clients that failed together, so they do
    # not retry together. 0 gives the bare doubling.
    jitter: float = 0.25
    # A server asking for longer than this is obeyed only up to it.
    max_retry_after: float = 60.0
    sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep)

    def delay(self, retry: int, asked: float | None = None) -> float:
        """Seconds to wait before retry number `retry` (0 for the first).

        `asked` is the wait the server asked for (Retry-After): obeyed instead, up to
        `max_retry_after`.
        """
        if asked is not None:
            return min(asked, self.max_retry_after)
        # The exponent is bounded: 2.0 ** 1024 overflows, and a delivery may fail that often.
        growth = 2.0 ** min(retry, 64)
        return min(self.max_delay, self.base_delay * growth) * (1 - self.jitter * random.random())
