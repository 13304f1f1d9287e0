"""Prompt contests: the contests, their entries and votes, and who may run them per guild."""

# SQL here is composed from constants only; every value goes in as a `?` parameter.
# ruff: noqa: S608

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from bot.storage.db import Database, Row, column_list

EntryRefusal = Literal["duplicate", "limit"]
VoteOutcome = Literal["replayed", "added", "removed", "budget"]


@dataclass(frozen=True, slots=True)
class ContestRow:
    id: int
    guild_id: int
    channel_id: int
    announcement_id: int | None
    thread_id: int | None
    results_message_id: int | None
    created_by: int
    theme: str
    max_entries: int
    vote_budget: int
    live_counts: bool
    starts_at: float
    submissions_end_at: float
    voting_end_at: float
    voting_announced_at: float | None
    closed_at: float | None
    cancelled_at: float | None

    @property
    def finished(self) -> bool:
        return self.closed_at is not None or self.cancelled_at is not None

    def next_deadline(self) -> float | None:
        """When the scheduler has something to do for this contest; None once it is over."""
        if self.finished:
            return None
        if self.voting_announced_at is None:
            return self.submissions_end_at
        return self.voting_end_at


@dataclass(frozen=True, slots=True)
class EntryRow:
    id: int
    contest_id: int
    video_id: str | None
    author_id: int
    prompt: str
    message_id: int | None
    created_at: float


@dataclass(frozen=True, slots=True)
class Standing:
    place: int  # 1-based; ties are broken by the earlier entry, so places never repeat
    entry: EntryRow
    votes: int


@dataclass(frozen=True, slots=True)
class Vote:
    outcome: VoteOutcome
    used: int  # the voter's votes in this contest after the click


_CONTEST = f"SELECT {column_list(ContestRow)} FROM contests"
_ENTRY = f"SELECT {column_list(EntryRow)} FROM contest_entries"
_OPEN = "closed_at IS NULL AND cancelled_at IS NULL"

_INSERT_CONTEST = (
    "INSERT INTO contests (guild_id, channel_id, created_by, theme, max_entries, vote_budget,"
    " live_counts, starts_at, submissions_end_at, voting_end_at)"
    f" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING {column_list(ContestRow)}"
)
_GET = f"{_CONTEST} WHERE id = ?"
_DELETE_CONTEST = "DELETE FROM contests WHERE id = ?"
_IN_GUILD = f"{_CONTEST} WHERE id = ? AND guild_id = ?"
# Open contests first (soonest deadline first), then the most recently finished.
_LIST_GUILD = (
    f"{_CONTEST} WHERE guild_id = ? AND (? = 0 OR {_OPEN})"
    " AND LOWER(theme) LIKE LOWER(?) ESCAPE '\\'"
    f" ORDER BY ({_OPEN}) DESC, CASE WHEN {_OPEN} THEN voting_end_at"
    " ELSE -COALESCE(closed_at, cancelled_at) END, id LIMIT ?"
)
_OPEN_CONTESTS = f"{_CONTEST} WHERE {_OPEN} ORDER BY voting_end_at, id"
_SET_ANNOUNCEMENT = "UPDATE contests SET announcement_id = ?, thread_id = ? WHERE id = ?"
_SET_RESULTS = "UPDATE contests SET results_message_id = ? WHERE id = ?"
# Closed, but the results never made it out (the bot stopped between the two).
_UNPUBLISHED = (
    f"{_CONTEST} WHERE closed_at IS NOT NULL AND results_message_id IS NULL"
    " AND cancelled_at IS NULL ORDER BY id"
)
# Taken for a contest closed and not yet published, when no claim is live: one poster at a time.
_CLAIM_RESULTS = (
    "INSERT INTO contest_result_claims (contest_id, holder, expires_at)"
    " SELECT id, ?, ? FROM contests WHERE id = ? AND closed_at IS NOT NULL"
    " AND results_message_id IS NULL AND cancelled_at IS NULL"
    " ON CONFLICT (contest_id) DO UPDATE SET holder = excluded.holder,"
    " expires_at = excluded.expires_at WHERE contest_result_claims.expires_at < ?"
    " RETURNING contest_id"
)
_RELEASE_RESULTS = "DELETE FROM contest_result_claims WHERE contest_id = ? AND holder = ?"
_MARK_VOTING = (
    f"UPDATE contests SET voting_announced_at = ? WHERE id = ? AND voting_announced_at IS NULL"
    f" AND {_OPEN}"
)
_CLOSE = f"UPDATE contests SET closed_at = ? WHERE id = ? AND {_OPEN}"
_CANCEL = f"UPDATE contests SET cancelled_at = ? WHERE id = ? AND {_OPEN}"

_ENTRY_GET = f"{_ENTRY} WHERE id = ?"
_ENTRIES = f"{_ENTRY} WHERE contest_id = ? ORDER BY id"
_ENTRIES_BY = f"{_ENTRY} WHERE contest_id = ? AND author_id = ? ORDER BY id"
_ENTRY_FOR_VIDEO = f"{_ENTRY} WHERE contest_id = ? AND video_id = ?"
_COUNT_BY = "SELECT COUNT(*) FROM contest_entries WHERE contest_id = ? AND author_id = ?"
_INSERT_ENTRY = (
    "INSERT INTO contest_entries (contest_id, video_id, author_id, prompt, created_at)"
    " VALUES (?, ?, ?, ?, ?) ON CONFLICT (contest_id, video_id) DO NOTHING"
    f" RETURNING {column_list(EntryRow)}"
)
_SET_ENTRY_MESSAGE = "UPDATE contest_entries SET message_id = ? WHERE id = ?"
_DELETE_ENTRY = "DELETE FROM contest_entries WHERE id = ?"

_CLAIM_CLICK = (
    "INSERT INTO contest_vote_clicks (interaction_id, contest_id) VALUES (?, ?)"
    " ON CONFLICT DO NOTHING"
)
_UNVOTE = "DELETE FROM contest_votes WHERE entry_id = ? AND voter_id = ?"
_VOTE = "INSERT INTO contest_votes (entry_id, voter_id, contest_id, created_at) VALUES (?, ?, ?, ?)"
_USED = "SELECT COUNT(*) FROM contest_votes WHERE contest_id = ? AND voter_id = ?"
_COUNT_VOTES = "SELECT COUNT(*) FROM contest_votes WHERE entry_id = ?"
_ENTRY_COLUMNS = ", ".join(f"e.{name}" for name in column_list(EntryRow).split(", "))
_STANDINGS = (
    f"SELECT {_ENTRY_COLUMNS}, COUNT(v.voter_id) AS votes"
    " FROM contest_entries AS e LEFT JOIN contest_votes AS v ON v.entry_id = e.id"
    " WHERE e.contest_id = ? GROUP BY e.id ORDER BY votes DESC, e.id"
)

_GET_ROLE = "SELECT manager_role_id FROM contest_settings WHERE guild_id = ?"
_SET_ROLE = (
    "INSERT INTO contest_settings (guild_id, manager_role_id) VALUES (?, ?)"
    " ON CONFLICT (guild_id) DO UPDATE SET manager_role_id = excluded.manager_role_id"
)


def _contest(row: Row) -> ContestRow:
    contest = ContestRow(*row)
    return replace(contest, live_counts=bool(contest.live_counts))  # stored as 0/1


def _entry(row: Row) -> EntryRow:
    return EntryRow(*row)


def _like_substring(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class ContestRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    # -- contests ------------------------------------------------------------------------------

    async def create(
        self,
        *,
        guild_id: int,
        channel_id: int,
        created_by: int,
        theme: str,
        max_entries: int,
        vote_budget: int,
        live_counts: bool,
        starts_at: float,
        submissions_end_at: float,
        voting_end_at: float,
    ) -> ContestRow:
        params = (
            guild_id,
            channel_id,
            created_by,
            theme,
            max_entries,
            vote_budget,
            int(live_counts),
            starts_at,
            submissions_end_at,
            voting_end_at,
        )
        row = await self._db.fetch_one(_INSERT_CONTEST, params)
        assert row is not None  # RETURNING answers with the new row
        return _contest(row)

    async def delete(self, contest_id: int) -> None:
        """Forget a contest whose announcement could not be posted: it never started."""
        await self._db.execute(_DELETE_CONTEST, (contest_id,))

    async def get(self, contest_id: int) -> ContestRow | None:
        row = await self._db.fetch_one(_GET, (contest_id,))
        return _contest(row) if row else None

    async def in_guild(self, contest_id: int, guild_id: int) -> ContestRow | None:
        """The contest if it belongs to this guild: ids from elsewhere look unknown."""
        row = await self._db.fetch_one(_IN_GUILD, (contest_id, guild_id))
        return _contest(row) if row else None

    async def list_for_guild(
        self, guild_id: int, *, open_only: bool = False, text: str = "", limit: int = 25
    ) -> list[ContestRow]:
        """Open contests (soonest deadline first), then the most recently finished."""
        params = (guild_id, int(open_only), _like_substring(text), limit)
        return [_contest(row) for row in await self._db.fetch_all(_LIST_GUILD, params)]

    async def open_contests(self) -> list[ContestRow]:
        """Every contest not yet closed or cancelled, in every guild: the scheduler's queue."""
        return [_contest(row) for row in await self._db.fetch_all(_OPEN_CONTESTS)]

    async def unpublished(self) -> list[ContestRow]:
        """Closed contests whose results were never posted: the scheduler posts them."""
        return [_contest(row) for row in await self._db.fetch_all(_UNPUBLISHED)]

    async def set_announcement(self, contest_id: int, message_id: int, thread_id: int) -> None:
        await self._db.execute(_SET_ANNOUNCEMENT, (message_id, thread_id, contest_id))

    async def set_results_message(self, contest_id: int, message_id: int) -> None:
        await self._db.execute(_SET_RESULTS, (message_id, contest_id))

    async def claim_results(self, contest_id: int, holder: str, until: float, now: float) -> bool:
        """True for the one process that may post the results of this closed contest now.

        False once they are posted, or while another process's claim lasts.
        """
        row = await self._db.fetch_one(_CLAIM_RESULTS, (holder, until, contest_id, now))
        return row is not None

    async def release_results(self, contest_id: int, holder: str) -> None:
        """Posting failed: the results are free for the next pass of any process."""
        await self._db.execute(_RELEASE_RESULTS, (contest_id, holder))

    async def mark_voting_announced(self, contest_id: int, now: float) -> bool:
        """True for the one caller that gets to announce that voting is open."""
        return await self._db.execute(_MARK_VOTING, (now, contest_id)) == 1

    async def close(self, contest_id: int, now: float) -> bool:
        """End an open contest. True for exactly one caller, however many race: that one posts
        the results."""
        return await self._db.execute(_CLOSE, (now, contest_id)) == 1

    async def cancel(self, contest_id: int, now: float) -> bool:
        """True if this call cancelled it; False if it had already closed or been cancelled."""
        return await self._db.execute(_CANCEL, (now, contest_id)) == 1

    # -- entries -------------------------------------------------------------------------------

    async def add_entry(
        self,
        contest: ContestRow,
        *,
        video_id: str,
        author_id: int,
        prompt: str,
        now: float,
    ) -> EntryRow | EntryRefusal:
        """Enter a video; refused when it is already in, or its author has used every entry.

        Counting and inserting share one transaction, so two quick submits cannot both squeeze
        under the limit.
        """
        async with self._db.transaction():
            if await self._count(_COUNT_BY, (contest.id, author_id)) >= contest.max_entries:
                existing = await self._db.fetch_one(_ENTRY_FOR_VIDEO, (contest.id, video_id))
                return "duplicate" if existing else "limit"
            params = (contest.id, video_id, author_id, prompt, now)
            row = await self._db.fetch_one(_INSERT_ENTRY, params)
        # The conflict clause returns no row when the video is already in.
        return _entry(row) if row else "duplicate"

    async def entry(self, entry_id: int) -> EntryRow | None:
        row = await self._db.fetch_one(_ENTRY_GET, (entry_id,))
        return _entry(row) if row else None

    async def entries(self, contest_id: int) -> list[EntryRow]:
        """Every entry, in the order they came in."""
        return [_entry(row) for row in await self._db.fetch_all(_ENTRIES, (contest_id,))]

    async def entries_by(self, contest_id: int, author_id: int) -> list[EntryRow]:
        params = (contest_id, author_id)
        return [_entry(row) for row in await self._db.fetch_all(_ENTRIES_BY, params)]

    async def entry_for_video(self, contest_id: int, video_id: str) -> EntryRow | None:
        row = await self._db.fetch_one(_ENTRY_FOR_VIDEO, (contest_id, video_id))
        return _entry(row) if row else None

    async def set_entry_message(self, entry_id: int, message_id: int) -> None:
        await self._db.execute(_SET_ENTRY_MESSAGE, (message_id, entry_id))

    async def remove_entry(self, entry_id: int) -> bool:
        """Withdraw an entry (its votes go with it); True if this call removed it."""
        return await self._db.execute(_DELETE_ENTRY, (entry_id,)) == 1

    # -- votes ---------------------------------------------------------------------------------

    async def toggle_vote(
        self, entry: EntryRow, voter_id: int, *, budget: int, interaction_id: int, now: float
    ) -> Vote:
        """A press of an entry's Vote button: adds the voter's vote, or withdraws it if there.

        A replayed press (same interaction id) changes nothing. Adding is refused once the voter
        has `budget` votes in the contest. One transaction, so racing presses stay consistent.
        """
        async with self._db.transaction():
            claimed = await self._db.execute(_CLAIM_CLICK, (interaction_id, entry.contest_id))
            outcome: VoteOutcome
            if claimed == 0:
                outcome = "replayed"
            elif await self._db.execute(_UNVOTE, (entry.id, voter_id)) == 1:
                outcome = "removed"
            elif await self._count(_USED, (entry.contest_id, voter_id)) >= budget:
                outcome = "budget"
            else:
                await self._db.execute(_VOTE, (entry.id, voter_id, entry.contest_id, now))
                outcome = "added"
            used = await self._count(_USED, (entry.contest_id, voter_id))
        return Vote(outcome, used)

    async def votes_used(self, contest_id: int, voter_id: int) -> int:
        return await self._count(_USED, (contest_id, voter_id))

    async def vote_count(self, entry_id: int) -> int:
        return await self._count(_COUNT_VOTES, (entry_id,))

    async def standings(self, contest_id: int) -> list[Standing]:
        """Every entry ranked by votes; among equals the earlier entry ranks first."""
        rows = await self._db.fetch_all(_STANDINGS, (contest_id,))
        return [
            Standing(place, EntryRow(*list(row)[:-1]), int(row[-1]))
            for place, row in enumerate(rows, start=1)
        ]

    # -- settings ------------------------------------------------------------------------------

    async def manager_role(self, guild_id: int) -> int | None:
        row = await self._db.fetch_one(_GET_ROLE, (guild_id,))
        return None if row is None or row[0] is None else int(row[0])

    async def set_manager_role(self, guild_id: int, role_id: int | None) -> None:
        await self._db.execute(_SET_ROLE, (guild_id, role_id))

    async def _count(self, sql: str, params: tuple[object, ...]) -> int:
        row = await self._db.fetch_one(sql, params)
        assert row is not None  # COUNT(*) always answers
        return int(row[0])
