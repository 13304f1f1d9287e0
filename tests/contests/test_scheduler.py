from __future__ import annotations

import asyncio

from bot.contests.scheduler import ContestScheduler
from bot.simulator import ManualClock
from bot.storage import ContestRepository, ContestRow

from .rows import HOUR, contest


class Recorder:
    """A deadline handler that records what it was asked to do, as the service would mark it."""

    def __init__(self, contests: ContestRepository, clock: ManualClock) -> None:
        self.contests = contests
        self.clock = clock
        self.calls: list[tuple[str, int]] = []
        self.published: list[int] = []
        self.failing: set[int] = set()
        # Contests whose results another process is posting.
        self.elsewhere: set[int] = set()
        self.closed = asyncio.Event()

    async def open_voting(self, contest: ContestRow) -> None:
        self.calls.append(("open_voting", contest.id))
        await self.contests.mark_voting_announced(contest.id, self.clock())

    async def close(self, contest: ContestRow) -> bool:
        self.calls.append(("close", contest.id))
        if contest.id in self.failing:
            raise RuntimeError("Discord is down")
        closed = await self.contests.close(contest.id, self.clock())
        self.closed.set()
        if closed:
            await self.publish(contest)
        return closed

    async def publish(self, contest: ContestRow) -> bool:
        if contest.id in self.elsewhere:
            return False
        self.published.append(contest.id)
        await self.contests.set_results_message(contest.id, 1000 + contest.id)
        return True


async def test_each_deadline_is_acted_on_once_in_order(
    contests: ContestRepository, clock: ManualClock
) -> None:
    start = clock()
    first = await contest(contests, start, HOUR)
    second = await contest(contests, start, 3 * HOUR)
    handler = Recorder(contests, clock)
    scheduler = ContestScheduler(contests, handler, clock=clock)

    assert await scheduler.run_due() == start + HOUR
    assert handler.calls == []
    clock.advance(HOUR)
    assert await scheduler.run_due() == start + 2 * HOUR
    assert await scheduler.run_due() == start + 2 * HOUR
    assert handler.calls == [("open_voting", first.id)]
    # Down through every other deadline: the overdue contest closes without a voting notice.
    clock.advance(4 * HOUR)
    assert await scheduler.run_due() is None
    assert handler.calls[1:] == [("close", first.id), ("close", second.id)]
    assert handler.published == [first.id, second.id]


async def test_a_failing_contest_is_retried_later_and_blocks_no_other(
    contests: ContestRepository, clock: ManualClock
) -> None:
    start = clock()
    broken = await contest(contests, start - 3 * HOUR, HOUR)
    fine = await contest(contests, start - 3 * HOUR, HOUR)
    handler = Recorder(contests, clock)
    handler.failing.add(broken.id)
    scheduler = ContestScheduler(contests, handler, clock=clock, retry_delay=30)

    assert await scheduler.run_due() == start + 30
    assert handler.calls == [("close", broken.id), ("close", fine.id)]
    handler.failing.clear()
    assert await scheduler.run_due() is None
    assert handler.calls[-1] == ("close", broken.id)


async def test_the_first_pass_on_start_closes_what_is_overdue(
    contests: ContestRepository, clock: ManualClock
) -> None:
    overdue = await contest(contests, clock() - 5 * HOUR, HOUR)
    handler = Recorder(contests, clock)
    scheduler = ContestScheduler(contests, handler, clock=clock)
    scheduler.start()
    try:
        await asyncio.wait_for(handler.closed.wait(), 5)
    finally:
        await scheduler.stop()
    assert handler.calls == [("close", overdue.id)]


async def test_wake_looks_again_after_time_moved(
    contests: ContestRepository, clock: ManualClock
) -> None:
    handler = Recorder(contests, clock)
    scheduler = ContestScheduler(contests, handler, clock=clock)
    scheduler.start()
    try:
        later = await contest(contests, clock(), HOUR)
        clock.advance(3 * HOUR)
        scheduler.wake()
        await asyncio.wait_for(handler.closed.wait(), 5)
    finally:
        await scheduler.stop()
    assert handler.calls == [("close", later.id)]


async def test_results_lost_to_a_stop_after_closing_are_posted_on_the_next_pass(
    contests: ContestRepository, clock: ManualClock
) -> None:
    start = clock()
    closed = await contest(contests, start - 3 * HOUR, HOUR)
    # The previous process closed it, then stopped before posting the results.
    assert await contests.close(closed.id, clock())
    handler = Recorder(contests, clock)
    scheduler = ContestScheduler(contests, handler, clock=clock)
    await scheduler.run_due()
    await scheduler.run_due()
    assert handler.calls == []
    assert handler.published == [closed.id]


async def test_results_another_process_is_posting_are_looked_at_again_later(
    contests: ContestRepository, clock: ManualClock
) -> None:
    closed = await contest(contests, clock() - 3 * HOUR, HOUR)
    assert await contests.close(closed.id, clock())
    handler = Recorder(contests, clock)
    handler.elsewhere.add(closed.id)
    scheduler = ContestScheduler(contests, handler, clock=clock, retry_delay=30)
    # That process may die while posting: then this one posts them, once its claim ran out.
    assert await scheduler.run_due() == clock() + 30
    handler.elsewhere.clear()
    assert await scheduler.run_due() is None
    assert handler.published == [closed.id]
