"""What time it is for contests.

Deadlines are compared with `now()`, never with time.time() directly: a test points `source` at
a manual clock before the bot starts, and every bot of that test, restarts included, then sees
the same moved time without sleeping through days of a contest.
"""

from __future__ import annotations

import time
from collections.abc import Callable

Clock = Callable[[], float]

source: Clock = time.time


def now() -> float:
    return source()
