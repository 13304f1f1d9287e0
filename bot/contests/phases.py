"""A contest's phase, read from its stored times and marks at the moment it is needed."""

from __future__ import annotations

from enum import StrEnum

from bot.storage import ContestRow


class Phase(StrEnum):
    SUBMISSIONS = "open for entries"
    VOTING = "voting"
    # The voting deadline passed and the scheduler has yet to close it: no more votes.
    CLOSING = "closing"
    CLOSED = "closed"
    CANCELLED = "cancelled"


def phase_of(contest: ContestRow, now: float) -> Phase:
    if contest.cancelled_at is not None:
        return Phase.CANCELLED
    if contest.closed_at is not None:
        return Phase.CLOSED
    if now < contest.submissions_end_at:
        return Phase.SUBMISSIONS
    if now < contest.voting_end_at:
        return Phase.VOTING
    return Phase.CLOSING
