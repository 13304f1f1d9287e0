"""One task that sleeps until the earliest contest deadline and hands each due contest on.

The contests table is the queue: every pass reads the open contests, acts on those whose next
deadline has passed (submissions end: voting opens; voting ends: the contest closes) and sleeps
until the next one, or until `wake()` says a contest was created, ended or cancelled. A bot that
was down at a deadline acts on it in its first pass, so a restart loses nothing.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from bot.contests.clock import Clock
from bot.storage import ContestRepository, ContestRow
from bot.timing.tasks import cancel_and_wait
from bot.timing.waits import wait_event

log = logging.getLogger(__name__)


class DeadlineHandler(Protocol):
    async def open_voting(self, contest: ContestRow) -> None: ...

    async def close(self, contest: ContestRow) -> bool: ...

    async def publish(self, contest: ContestRow) -> bool:
        """Post a closed contest's results; False while another process is posting them."""
        ...


class ContestScheduler:
    def __init__(
        self,
        contests: ContestRepository,
        handler: DeadlineHandler,
        *,
        clock: Clock,
        max_sleep: float = 600.0,
        retry_delay: float = 60.0,
    ) -> None:
        self._contests = contests
        self._handler = handler
        self._clock = clock
        # Bounded sleeps notice a wall clock that jumped (a suspended host) within minutes.
        self._max_sleep = max_sleep
        self._retry_delay = retry_delay
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="videobot-contests")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None

    def wake(self) -> None:
        """Look at the deadlines again now: a contest was created, ended or cancelled."""
        self._wakeup.set()

    async def run_due(self) -> float | None:
        """Act on every contest whose deadline has passed; the next deadline, if any.

        A contest whose handler fails is left for the next pass, and the others still run.
        """
        now = self._clock()
        upcoming: list[float] = []
        failed = False
        for contest in await self._contests.unpublished():
            try:
                if not await self._handler.publish(contest):
                    # Another process is posting them, and may die doing it: look again later.
                    failed = True
            except Exception:
                log.exception("posting the results of contest %d failed", contest.id)
                failed = True
        for contest in await self._contests.open_contests():
            deadline = contest.next_deadline()
            if deadline is None:
                continue
            if deadline > now:
                upcoming.append(deadline)
                continue
            try:
                if now >= contest.voting_end_at:
                    await self._handler.close(contest)
                else:
                    await self._handler.open_voting(contest)
                    upcoming.append(contest.voting_end_at)
            except Exception:
                log.exception("handling the deadline of contest %d failed", contest.id)
                failed = True
        if failed:
            upcoming.append(now + self._retry_delay)
        return min(upcoming, default=None)

    async def _run(self) -> None:
        while True:
            # Cleared before the pass, so a wake() during it leads to another pass at once.
            self._wakeup.clear()
            try:
                next_deadline = await self.run_due()
            except Exception:  # the database itself failed: try again later, never end the loop
                log.exception("contest scheduler pass failed")
                next_deadline = self._clock() + self._retry_delay
            wait = self._max_sleep
            if next_deadline is not None:
                wait = min(wait, max(0.0, next_deadline - self._clock()))
            await wait_event(self._wakeup, wait)
