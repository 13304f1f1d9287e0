from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bot.storage import (
    ContestRepository,
    ContestRow,
    Database,
    EntryRow,
    IntegrityError,
    VideoRepository,
)

from .helpers import GUILD, OTHER_GUILD, OWNER, add_video

START = 1_700_000_100.0
HOUR = 3600.0
VOTER = 333


@pytest.fixture
def contests(db: Database) -> ContestRepository:
    return ContestRepository(db)


async def new_contest(contests: ContestRepository, **changes: Any) -> ContestRow:
    options: dict[str, Any] = {
        "guild_id": GUILD,
        "channel_id": 42,
        "created_by": OWNER,
        "theme": "cats in space",
        "max_entries": 1,
        "vote_budget": 2,
        "live_counts": False,
        "starts_at": START,
        "submissions_end_at": START + HOUR,
        "voting_end_at": START + 2 * HOUR,
    }
    return await contests.create(**(options | changes))


async def enter(
    contests: ContestRepository,
    videos: VideoRepository,
    contest: ContestRow,
    video_id: str,
    author_id: int = OWNER,
) -> EntryRow:
    await add_video(videos, video_id, owner_id=author_id)
    entry = await contests.add_entry(
        contest, video_id=video_id, author_id=author_id, prompt=f"prompt {video_id}", now=START
    )
    assert isinstance(entry, EntryRow)
    return entry


async def test_create_get_and_the_next_deadline(contests: ContestRepository) -> None:
    contest = await new_contest(contests, live_counts=True)
    assert await contests.get(contest.id) == contest
    assert contest.live_counts is True
    assert contest.next_deadline() == START + HOUR
    assert await contests.in_guild(contest.id, OTHER_GUILD) is None

    assert await contests.mark_voting_announced(contest.id, START + HOUR)
    assert not await contests.mark_voting_announced(contest.id, START + HOUR)
    announced = await contests.get(contest.id)
    assert announced is not None
    assert announced.next_deadline() == START + 2 * HOUR


async def test_times_must_run_in_order(contests: ContestRepository) -> None:
    with pytest.raises(IntegrityError, match=r"(?i)check"):
        await new_contest(contests, submissions_end_at=START + 3 * HOUR)


async def test_close_is_decided_once_among_racers(contests: ContestRepository) -> None:
    contest = await new_contest(contests)
    results = await asyncio.gather(*(contests.close(contest.id, START) for _ in range(5)))
    assert sorted(results) == [False, False, False, False, True]
    assert not await contests.cancel(contest.id, START)
    assert await contests.open_contests() == []


async def test_results_are_claimed_by_one_poster_until_its_claim_runs_out(
    contests: ContestRepository,
) -> None:
    contest = await new_contest(contests)
    end = START + 2 * HOUR
    assert not await contests.claim_results(contest.id, "a", end + 60, end)  # still open
    await contests.close(contest.id, end)
    claims = await asyncio.gather(
        *(contests.claim_results(contest.id, name, end + 60, end) for name in "abcde")
    )
    assert sorted(claims) == [False, False, False, False, True]
    # Its poster died: once the claim ran out another process may post them.
    assert not await contests.claim_results(contest.id, "f", end + 120, end + 59)
    assert await contests.claim_results(contest.id, "f", end + 121, end + 61)
    # Posting failed: released, to be tried again at once.
    await contests.release_results(contest.id, "f")
    assert await contests.claim_results(contest.id, "g", end + 122, end + 62)
    await contests.set_results_message(contest.id, 77)
    assert not await contests.claim_results(contest.id, "h", end + 999, end + 900)


async def test_list_puts_open_contests_first(contests: ContestRepository) -> None:
    finished = await new_contest(contests, theme="old one")
    await contests.cancel(finished.id, START)
    later = await new_contest(contests, voting_end_at=START + 5 * HOUR)
    sooner = await new_contest(contests, theme="dogs_100%")
    await new_contest(contests, guild_id=OTHER_GUILD)

    listed = await contests.list_for_guild(GUILD)
    assert [c.id for c in listed] == [sooner.id, later.id, finished.id]
    assert [c.id for c in await contests.list_for_guild(GUILD, open_only=True)] == [
        sooner.id,
        later.id,
    ]
    # LIKE wildcards in the search text are literal.
    assert [c.id for c in await contests.list_for_guild(GUILD, text="_100%")] == [sooner.id]


async def test_entries_refuse_duplicates_and_past_the_limit(
    contests: ContestRepository, videos: VideoRepository
) -> None:
    contest = await new_contest(contests, max_entries=2)
    first = await enter(contests, videos, contest, "video_1")
    assert first.prompt == "prompt video_1"
    assert first.message_id is None

    again = await contests.add_entry(
        contest, video_id="video_1", author_id=OWNER, prompt="x", now=START
    )
    assert again == "duplicate"
    await enter(contests, videos, contest, "video_2")
    await add_video(videos, "video_3")
    over = await contests.add_entry(
        contest, video_id="video_3", author_id=OWNER, prompt="x", now=START
    )
    assert over == "limit"
    assert [e.video_id for e in await contests.entries_by(contest.id, OWNER)] == [
        "video_1",
        "video_2",
    ]

    await contests.set_entry_message(first.id, 777)
    assert (await contests.entry(first.id)) == EntryRow(
        first.id, contest.id, "video_1", OWNER, "prompt video_1", 777, START
    )


async def test_concurrent_entries_stay_within_the_limit(
    contests: ContestRepository, videos: VideoRepository
) -> None:
    contest = await new_contest(contests)
    for n in range(4):
        await add_video(videos, f"video_{n}")
    results = await asyncio.gather(
        *(
            contests.add_entry(
                contest, video_id=f"video_{n}", author_id=OWNER, prompt="p", now=START
            )
            for n in range(4)
        )
    )
    assert sum(isinstance(r, EntryRow) for r in results) == 1
    assert results.count("limit") == 3


async def test_a_vote_toggles_and_a_replay_changes_nothing(
    contests: ContestRepository, videos: VideoRepository
) -> None:
    contest = await new_contest(contests)
    entry = await enter(contests, videos, contest, "video_1")

    def press(interaction_id: int) -> Any:
        return contests.toggle_vote(
            entry, VOTER, budget=2, interaction_id=interaction_id, now=START
        )

    assert (await press(1)).outcome == "added"
    replay = await press(1)
    assert (replay.outcome, replay.used) == ("replayed", 1)
    assert await contests.vote_count(entry.id) == 1
    assert (await press(2)).outcome == "removed"
    assert await contests.vote_count(entry.id) == 0
    assert (await press(2)).outcome == "replayed"
    assert await contests.vote_count(entry.id) == 0


async def test_the_budget_is_per_contest(
    contests: ContestRepository, videos: VideoRepository
) -> None:
    contest = await new_contest(contests)
    other = await new_contest(contests)
    entries = [
        await enter(contests, videos, contest, f"video_{n}", author_id=OWNER + n) for n in range(3)
    ]
    elsewhere = await enter(contests, videos, other, "video_x")
    clicks = iter(range(100, 200))

    async def press(entry: EntryRow) -> str:
        vote = await contests.toggle_vote(
            entry, VOTER, budget=2, interaction_id=next(clicks), now=START
        )
        return vote.outcome

    assert [await press(e) for e in entries] == ["added", "added", "budget"]
    assert await contests.votes_used(contest.id, VOTER) == 2
    assert await press(elsewhere) == "added"
    assert await press(entries[0]) == "removed"
    assert await press(entries[2]) == "added"


async def test_one_row_per_vote(
    contests: ContestRepository, videos: VideoRepository, db: Database
) -> None:
    contest = await new_contest(contests)
    entry = await enter(contests, videos, contest, "video_1")
    sql = (
        "INSERT INTO contest_votes (entry_id, voter_id, contest_id, created_at) VALUES (?, ?, ?, ?)"
    )
    await db.execute(sql, (entry.id, VOTER, contest.id, START))
    with pytest.raises(IntegrityError, match=r"(?i)unique"):
        await db.execute(sql, (entry.id, VOTER, contest.id, START))


async def test_standings_rank_by_votes_then_the_earlier_entry(
    contests: ContestRepository, videos: VideoRepository
) -> None:
    contest = await new_contest(contests, vote_budget=3)
    first, second, third = [
        await enter(contests, videos, contest, f"video_{n}", author_id=OWNER + n) for n in range(3)
    ]
    clicks = iter(range(1000, 2000))
    for entry, voters in ((first, [1]), (second, [1, 2]), (third, [2, 3])):
        for voter in voters:
            await contests.toggle_vote(
                entry, voter, budget=3, interaction_id=next(clicks), now=START
            )

    standings = await contests.standings(contest.id)
    assert [(s.place, s.entry.id, s.votes) for s in standings] == [
        (1, second.id, 2),
        (2, third.id, 2),
        (3, first.id, 1),
    ]


async def test_withdrawing_an_entry_takes_its_votes(
    contests: ContestRepository, videos: VideoRepository
) -> None:
    contest = await new_contest(contests)
    entry = await enter(contests, videos, contest, "video_1")
    await contests.toggle_vote(entry, VOTER, budget=2, interaction_id=1, now=START)
    assert await contests.remove_entry(entry.id)
    assert not await contests.remove_entry(entry.id)
    assert await contests.votes_used(contest.id, VOTER) == 0
    assert await contests.standings(contest.id) == []


async def test_manager_role_set_and_cleared(contests: ContestRepository) -> None:
    assert await contests.manager_role(GUILD) is None
    await contests.set_manager_role(GUILD, 555)
    assert await contests.manager_role(GUILD) == 555
    assert await contests.manager_role(OTHER_GUILD) is None
    await contests.set_manager_role(GUILD, None)
    assert await contests.manager_role(GUILD) is None


async def test_an_unstarted_contest_can_be_forgotten(contests: ContestRepository) -> None:
    contest = await new_contest(contests)
    await contests.delete(contest.id)
    assert await contests.get(contest.id) is None
