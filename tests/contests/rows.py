"""Contest rows for tests that need one in the database and nothing else."""

from __future__ import annotations

from bot.storage import ContestRepository, ContestRow

HOUR = 3600.0


async def contest(
    contests: ContestRepository, start: float, submit_for: float = HOUR
) -> ContestRow:
    """A contest starting at `start`, open for entries `submit_for`, then an hour of voting."""
    return await contests.create(
        guild_id=1,
        channel_id=2,
        created_by=3,
        theme="t",
        max_entries=1,
        vote_budget=3,
        live_counts=False,
        starts_at=start,
        submissions_end_at=start + submit_for,
        voting_end_at=start + submit_for + HOUR,
    )
