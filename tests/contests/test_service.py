"""The contest rules, on a real database and a manual clock: what may be entered when, votes and
their budget, who sees the standings. Posting to Discord is the e2e tests' part (tests/e2e)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pytest

from bot.contests.phases import Phase
from bot.contests.poster import ContestPoster
from bot.contests.service import ALREADY_ENTERED, THEME_MAX, ContestService, plan
from bot.errors import UserError, VideoNotFound
from bot.simulator import ManualClock
from bot.storage import ContestRepository, ContestRow, Database, SqliteDatabase, VideoRepository
from tests.storage.helpers import GUILD, MEMBER, OTHER_GUILD, OWNER, add_video

HOUR = 3600
VOTER = 333


def build(db: Database, clock: ManualClock) -> ContestService:
    """The one place a test builds the service, alone on its database and with nothing posted."""
    contests = ContestRepository(db)
    # Nothing here posts: the poster's client and session are never reached.
    nobody = cast(Any, None)
    return ContestService(
        contests, VideoRepository(db), ContestPoster(nobody, contests, nobody), clock=clock
    )


@dataclass
class Voter:
    """The part of a Discord user that voting reads."""

    id: int
    bot: bool = False


@dataclass
class World:
    service: ContestService
    contests: ContestRepository
    videos: VideoRepository
    clock: ManualClock

    async def contest(self, **changes: Any) -> ContestRow:
        """A contest in GUILD starting now: an hour for entries, then an hour of voting."""
        now = self.clock()
        fields: dict[str, Any] = {
            "guild_id": GUILD,
            "channel_id": 5,
            "created_by": OWNER,
            "theme": "the sea",
            "max_entries": 1,
            "vote_budget": 2,
            "live_counts": False,
            "starts_at": now,
            "submissions_end_at": now + HOUR,
            "voting_end_at": now + 2 * HOUR,
        }
        return await self.contests.create(**(fields | changes))

    async def finished_video(self, video_id: str, **changes: Any) -> str:
        """A completed video of OWNER made here after the contest started."""
        done: dict[str, Any] = {"status": "completed", "progress": 100}
        made = {"created_at": int(self.clock()) + 1}
        return (await add_video(self.videos, video_id, **(done | made | changes))).id

    async def entry(self, contest: ContestRow, author_id: int) -> int:
        """An entry of `author_id`'s video `video_<author_id>`, as a submit would have added it."""
        video_id = await self.finished_video(f"video_{author_id}", owner_id=author_id)
        added = await self.contests.add_entry(
            contest, video_id=video_id, author_id=author_id, prompt="p", now=self.clock()
        )
        assert not isinstance(added, str)
        return added.id


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with await SqliteDatabase.open(tmp_path / "videobot.sqlite3") as db:
        clock = ManualClock()
        yield World(build(db, clock), ContestRepository(db), VideoRepository(db), clock)


def refused(text: str) -> pytest.RaisesExc[UserError]:
    """The UserError with exactly `text`."""
    return pytest.raises(UserError, match=f"^{re.escape(text)}$")


# -- planning ------------------------------------------------------------------------------------


def test_a_plan_tidies_the_theme_and_reads_the_durations() -> None:
    chosen = plan("  the   sea\n at night ", "2h", "1d", max_entries=2, vote_budget=5)
    assert chosen.theme == "the sea at night"
    assert (chosen.submit_seconds, chosen.vote_seconds) == (2 * HOUR, 24 * HOUR)
    assert (chosen.max_entries, chosen.vote_budget, chosen.live_counts) == (2, 5, False)


@pytest.mark.parametrize("theme", ["ab", "   ab   ", "x" * (THEME_MAX + 1)])
def test_a_theme_too_short_or_too_long_is_refused(theme: str) -> None:
    with refused(f"The theme must be 3 to {THEME_MAX} characters long."):
        plan(theme, "1h", "1h")


def test_a_duration_that_is_not_one_is_refused() -> None:
    with pytest.raises(UserError):
        plan("the sea", "soon", "1h")


# -- finding and phases --------------------------------------------------------------------------


async def test_a_contest_is_found_only_in_its_own_server(world: World) -> None:
    contest = await world.contest()
    assert await world.service.find(contest.id, GUILD) == contest
    with refused("I can't find that contest in this server. Pick one from the list."):
        await world.service.find(contest.id, OTHER_GUILD)


async def test_the_phase_follows_the_clock(world: World) -> None:
    contest = await world.contest()
    assert world.service.phase(contest) is Phase.SUBMISSIONS
    world.clock.advance(HOUR)
    assert world.service.phase(contest) is Phase.VOTING
    world.clock.advance(HOUR)
    assert world.service.phase(contest) is Phase.CLOSING


# -- entering ------------------------------------------------------------------------------------


async def test_only_a_finished_video_of_ones_own_made_here_since_the_start_enters(
    world: World,
) -> None:
    contest = await world.contest()
    service = world.service
    theirs = await world.finished_video("theirs", owner_id=MEMBER)
    elsewhere = await world.finished_video("elsewhere", guild_id=None)
    failed = await world.finished_video("failed", status="failed")
    running = await world.finished_video("running", status="in_progress", progress=50)
    older = await world.finished_video("older", created_at=int(world.clock()) - 1)

    async def submit(video_id: str) -> None:
        await service.submit(contest, user_id=OWNER, video_id=video_id, upload_limit=1 << 20)

    with pytest.raises(VideoNotFound):
        await submit("video_nobody_made")
    with refused(f"Only your own videos can be entered; that one is <@{MEMBER}>'s."):
        await submit(theirs)
    with refused("Entries must be made in this server; that video was made elsewhere."):
        await submit(elsewhere)
    with refused("That video failed, so there is nothing to enter."):
        await submit(failed)
    with refused("That video is not finished yet; enter it once it is done."):
        await submit(running)
    start = int(contest.starts_at)
    with refused(
        f"Only videos made after the contest started (<t:{start}:R>) can be entered; that one "
        "is older. Make a new one with `/video`."
    ):
        await submit(older)


async def test_an_entered_video_and_a_full_quota_are_refused_before_any_copy(world: World) -> None:
    contest = await world.contest()
    video_id = await world.finished_video("kite")
    await world.contests.add_entry(
        contest, video_id=video_id, author_id=OWNER, prompt="p", now=world.clock()
    )
    with refused(ALREADY_ENTERED):
        await world.service.submit(contest, user_id=OWNER, video_id=video_id, upload_limit=1)
    another = await world.finished_video("owl")
    with refused(
        "You have already entered 1 of the 1 videos allowed per member. Withdraw one with "
        "`/contest withdraw` to enter another."
    ):
        await world.service.submit(contest, user_id=OWNER, video_id=another, upload_limit=1)


async def test_no_entries_once_voting_started_or_the_contest_was_cancelled(world: World) -> None:
    contest = await world.contest()
    video_id = await world.finished_video("kite")
    world.clock.advance(HOUR)
    closed_at = int(contest.submissions_end_at)
    with refused(
        f"Entries for contest #{contest.id} closed <t:{closed_at}:R>; you can still vote."
    ):
        await world.service.submit(contest, user_id=OWNER, video_id=video_id, upload_limit=1)

    cancelled = await world.contest()
    await world.contests.cancel(cancelled.id, world.clock())
    cancelled = await world.service.find(cancelled.id, GUILD)
    with refused(f"Contest #{cancelled.id} is cancelled, so it takes no entries."):
        await world.service.submit(cancelled, user_id=OWNER, video_id=video_id, upload_limit=1)


async def test_withdrawing_only_ones_own_entry_and_only_before_voting(world: World) -> None:
    contest = await world.contest()
    await world.entry(contest, MEMBER)
    with refused("That video is not one of your entries in this contest."):
        await world.service.withdraw(contest, user_id=OWNER, video_id=f"video_{MEMBER}")
    world.clock.advance(HOUR)
    with refused(
        f"Entries can only be withdrawn until voting starts, and contest #{contest.id} is "
        "voting now."
    ):
        await world.service.withdraw(contest, user_id=MEMBER, video_id=f"video_{MEMBER}")


# -- voting --------------------------------------------------------------------------------------


async def test_votes_count_against_the_budget_and_a_second_press_takes_one_back(
    world: World,
) -> None:
    contest = await world.contest()
    entries = [await world.entry(contest, author) for author in (MEMBER, MEMBER + 1, MEMBER + 2)]
    world.clock.advance(HOUR)
    clicks = iter(range(1000, 2000))

    async def vote(entry_id: int) -> str | None:
        reply = await world.service.vote(
            entry_id, voter=cast(Any, Voter(VOTER)), guild_id=GUILD, interaction_id=next(clicks)
        )
        return None if reply is None else reply.text

    assert await vote(entries[0]) == "Vote counted (1 of 2 left)."
    assert await vote(entries[1]) == "Vote counted (0 of 2 left)."
    with refused(
        "You have used all 2 of your votes in this contest. Press Vote again on an entry you "
        "voted for to take that vote back."
    ):
        await vote(entries[2])
    assert await vote(entries[0]) == "Vote withdrawn (1 of 2 left)."
    assert await vote(entries[2]) == "Vote counted (0 of 2 left)."


async def test_a_replayed_press_is_answered_once(world: World) -> None:
    contest = await world.contest()
    entry_id = await world.entry(contest, MEMBER)
    world.clock.advance(HOUR)
    voter = cast(Any, Voter(VOTER))
    first = await world.service.vote(entry_id, voter=voter, guild_id=GUILD, interaction_id=7)
    assert first is not None
    assert first.votes is None  # counts stay secret unless the contest shows them live
    assert await world.service.vote(entry_id, voter=voter, guild_id=GUILD, interaction_id=7) is None


async def test_a_live_contest_answers_with_the_entrys_count(world: World) -> None:
    contest = await world.contest(live_counts=True)
    entry_id = await world.entry(contest, MEMBER)
    world.clock.advance(HOUR)
    counts = []
    for voter, click in ((VOTER, 1), (VOTER + 1, 2)):
        reply = await world.service.vote(
            entry_id, voter=cast(Any, Voter(voter)), guild_id=GUILD, interaction_id=click
        )
        assert reply is not None
        counts.append(reply.votes)
    assert counts == [1, 2]


async def test_who_may_vote_and_when(world: World) -> None:
    contest = await world.contest()
    entry_id = await world.entry(contest, MEMBER)

    async def vote(voter: Voter, guild_id: int | None = GUILD) -> None:
        await world.service.vote(
            entry_id, voter=cast(Any, voter), guild_id=guild_id, interaction_id=99
        )

    with refused("Bots can't vote."):
        await vote(Voter(VOTER, bot=True))
    opens = int(contest.submissions_end_at)
    with refused(f"Voting opens when entries close, <t:{opens}:R>."):
        await vote(Voter(VOTER))
    world.clock.advance(HOUR)
    with refused("You can't vote for your own entry."):
        await vote(Voter(MEMBER))
    # Another server's button, a DM and a withdrawn entry get one answer: ids cannot be probed.
    for guild_id in (OTHER_GUILD, None):
        with refused("This entry was withdrawn, so it can't get votes."):
            await vote(Voter(VOTER), guild_id)
    world.clock.advance(HOUR)
    with refused("Voting has closed for this contest."):
        await vote(Voter(VOTER))
    await world.contests.cancel(contest.id, world.clock())
    with refused("This contest was cancelled."):
        await vote(Voter(VOTER))
    await world.contests.remove_entry(entry_id)
    with refused("This entry was withdrawn, so it can't get votes."):
        await vote(Voter(VOTER))


# -- standings and ending ------------------------------------------------------------------------


async def test_votes_stay_secret_until_the_close_except_to_managers(world: World) -> None:
    contest = await world.contest()
    entry_id = await world.entry(contest, MEMBER)
    closes = int(contest.voting_end_at)
    with refused(f"Votes stay secret until the contest closes, <t:{closes}:R>."):
        await world.service.standings(contest, manager=False)
    [standing] = await world.service.standings(contest, manager=True)
    assert (standing.place, standing.entry.id, standing.votes) == (1, entry_id, 0)

    live = await world.contest(live_counts=True)
    assert await world.service.standings(live, manager=False) == []

    await world.contests.close(contest.id, world.clock())
    closed = await world.service.find(contest.id, GUILD)
    assert [s.entry.id for s in await world.service.standings(closed, manager=False)] == [entry_id]


async def test_a_cancelled_contest_has_no_results_but_for_managers(world: World) -> None:
    contest = await world.contest()
    await world.contests.cancel(contest.id, world.clock())
    cancelled = await world.service.find(contest.id, GUILD)
    with refused("That contest was cancelled, so it has no results."):
        await world.service.standings(cancelled, manager=False)
    assert await world.service.standings(cancelled, manager=True) == []


async def test_voting_cannot_end_before_it_started(world: World) -> None:
    contest = await world.contest()
    closes = int(contest.submissions_end_at)
    with refused(
        f"Voting has not started yet (entries close <t:{closes}:R>), so there is nothing to end. "
        "Cancel the contest instead, or wait for the votes."
    ):
        await world.service.end(contest)


async def test_a_contest_over_already_cannot_be_cancelled_or_ended(world: World) -> None:
    contest = await world.contest()
    await world.contests.close(contest.id, world.clock())
    with refused(f"Contest #{contest.id} is already closed."):
        await world.service.cancel(contest, by=OWNER)

    other = await world.contest()
    await world.contests.cancel(other.id, world.clock())
    cancelled = await world.service.find(other.id, GUILD)
    with refused(f"Contest #{cancelled.id} is already cancelled."):
        await world.service.end(cancelled)


async def test_results_already_posted_are_not_posted_again(world: World) -> None:
    contest = await world.contest()
    await world.contests.close(contest.id, world.clock())
    await world.contests.set_results_message(contest.id, 4242)
    assert await world.service.publish(contest)
    assert (await world.service.find(contest.id, GUILD)).results_message_id == 4242
