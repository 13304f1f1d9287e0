from __future__ import annotations

from bot.contests.phases import Phase, phase_of
from bot.simulator import ManualClock
from bot.storage import ContestRepository

from .rows import HOUR, contest


async def test_the_phase_follows_the_times_and_the_marks(
    contests: ContestRepository, clock: ManualClock
) -> None:
    row = await contest(contests, clock())
    start = clock()
    assert phase_of(row, start) is Phase.SUBMISSIONS
    assert phase_of(row, start + HOUR) is Phase.VOTING
    assert phase_of(row, start + 2 * HOUR) is Phase.CLOSING

    await contests.close(row.id, start + 2 * HOUR)
    closed = await contests.get(row.id)
    assert closed is not None
    assert phase_of(closed, start) is Phase.CLOSED

    other = await contest(contests, start)
    await contests.cancel(other.id, start)
    cancelled = await contests.get(other.id)
    assert cancelled is not None
    assert phase_of(cancelled, start + HOUR) is Phase.CANCELLED
