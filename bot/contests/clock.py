"""What time it is for contests.

Deadlines are compared with an injected `Clock`, never with time.time() directly: the wiring
hands the contest service time.time, and a test hands every bot it starts, restarts included,
one manual clock, so they see the same moved time without sleeping through days of a contest.
"""

from __future__ import annotations

from collections.abc import Callable

Clock = Callable[[], float]
