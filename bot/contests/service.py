"""The rules of a contest: who may enter what and when, votes and their budget, closing once.

Every decision reads the contest from the database and the time from the injected clock, so a
command, a button pressed after a restart and the scheduler all see the same phase.
"""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import dataclass
from pathlib import Path

import discord

from bot.contests.clock import Clock
from bot.contests.durations import parse_duration
from bot.contests.phases import Phase, phase_of
from bot.contests.poster import ContestPoster
from bot.contests.scheduler import ContestScheduler
from bot.errors import UserError, VideoNotFound
from bot.storage import (
    ContestRepository,
    ContestRow,
    EntryRow,
    Standing,
    VideoRepository,
    VideoRow,
)
from bot.ui.contest import jump_url
from bot.ui.text import timestamp

THEME_MAX = 200
ALREADY_ENTERED = "That video is already entered in this contest."
# How long one process's claim to post a contest's results lasts: long enough to copy the
# podium's files and upload them; a process that dies meanwhile leaves them to another after.
RESULTS_CLAIM_SECONDS = 300.0


@dataclass(frozen=True, slots=True)
class VoteReply:
    text: str
    votes: int | None = None  # the entry's new count, when the contest shows counts live


@dataclass(frozen=True, slots=True)
class ContestPlan:
    """What /contest start asked for, checked."""

    theme: str
    submit_seconds: int
    vote_seconds: int
    max_entries: int
    vote_budget: int
    live_counts: bool


def plan(
    theme: str,
    submit_for: str,
    vote_for: str,
    *,
    max_entries: int = 1,
    vote_budget: int = 3,
    live_counts: bool = False,
) -> ContestPlan:
    text = " ".join(theme.split())
    if not 3 <= len(text) <= THEME_MAX:
        raise UserError(f"The theme must be 3 to {THEME_MAX} characters long.")
    return ContestPlan(
        text,
        parse_duration(submit_for, "submit_for"),
        parse_duration(vote_for, "vote_for"),
        max_entries,
        vote_budget,
        live_counts,
    )


def _limit_text(contest: ContestRow) -> str:
    return (
        f"You have already entered {contest.max_entries} of the {contest.max_entries} videos "
        "allowed per member. Withdraw one with `/contest withdraw` to enter another."
    )


class ContestService:
    """The contest rules over the database; `poster` is all it knows of Discord. `claimant`
    names this process when others share the database (leases' holder), else None."""

    def __init__(
        self,
        contests: ContestRepository,
        videos: VideoRepository,
        poster: ContestPoster,
        *,
        clock: Clock,
        claimant: str | None = None,
    ) -> None:
        self.clock = clock
        self.contests = contests
        self._videos = videos
        self.poster = poster
        self.scheduler = ContestScheduler(self.contests, self, clock=clock)
        # The scheduler and /contest end may both reach publish(); one posts.
        self._publishing = asyncio.Lock()
        # Other processes on the database scan for unposted results too: whoever claims posts.
        self._claimant = claimant

    def phase(self, contest: ContestRow) -> Phase:
        return phase_of(contest, self.clock())

    async def find(self, contest_id: int, guild_id: int) -> ContestRow:
        contest = await self.contests.in_guild(contest_id, guild_id)
        if contest is None:
            raise UserError("I can't find that contest in this server. Pick one from the list.")
        return contest

    # -- running a contest ---------------------------------------------------------------------

    async def start(
        self, chosen: ContestPlan, *, guild_id: int, channel_id: int, created_by: int
    ) -> ContestRow:
        now = self.clock()
        contest = await self.contests.create(
            guild_id=guild_id,
            channel_id=channel_id,
            created_by=created_by,
            theme=chosen.theme,
            max_entries=chosen.max_entries,
            vote_budget=chosen.vote_budget,
            live_counts=chosen.live_counts,
            starts_at=now,
            submissions_end_at=now + chosen.submit_seconds,
            voting_end_at=now + chosen.submit_seconds + chosen.vote_seconds,
        )
        # Without its announcement and thread the contest cannot run: it never started.
        try:
            contest = await self.poster.announce(contest)
        except discord.Forbidden:
            await self.contests.delete(contest.id)
            raise UserError(
                f"I can't announce a contest in <#{channel_id}>: I need Send Messages, "
                "Embed Links and Create Public Threads there."
            ) from None
        except BaseException:
            await self.contests.delete(contest.id)
            raise
        self.scheduler.wake()
        return contest

    async def cancel(self, contest: ContestRow, by: int) -> None:
        cancelled = await self.contests.cancel(contest.id, self.clock())
        contest = await self._reload(contest)
        if not cancelled:
            raise UserError(f"Contest #{contest.id} is already {self._over(contest)}.")
        await self.poster.show_phase(contest, Phase.CANCELLED)
        await self.poster.freeze_entries(
            contest, await self.contests.standings(contest.id), show_votes=False
        )
        await self.poster.say_in_thread(contest, f"This contest was cancelled by <@{by}>.")
        self.scheduler.wake()

    async def end(self, contest: ContestRow) -> ContestRow:
        """End voting now: the contest closes and its results are posted."""
        phase = self.phase(contest)
        if phase is Phase.SUBMISSIONS:
            raise UserError(
                f"Voting has not started yet (entries close "
                f"{timestamp(contest.submissions_end_at)}), so there is nothing to end. "
                "Cancel the contest instead, or wait for the votes."
            )
        closed = await self.close(contest)
        contest = await self._reload(contest)
        if not closed:
            raise UserError(f"Contest #{contest.id} is already {self._over(contest)}.")
        self.scheduler.wake()
        return contest

    # -- the scheduler's deadlines ---------------------------------------------------------------

    async def open_voting(self, contest: ContestRow) -> None:
        if not await self.contests.mark_voting_announced(contest.id, self.clock()):
            return
        contest = await self._reload(contest)
        await self.poster.show_phase(contest, Phase.VOTING)
        await self.poster.say_in_thread(
            contest,
            f"🗳️ Entries are closed and voting is open until {timestamp(contest.voting_end_at)}! "
            f"Press **Vote** on your favourites: {contest.vote_budget} votes each, "
            "not for your own.",
        )

    async def close(self, contest: ContestRow) -> bool:
        """Close the contest and post its results; False if someone else closed it first."""
        if not await self.contests.close(contest.id, self.clock()):
            return False
        await self.publish(contest)
        return True

    async def publish(self, contest: ContestRow) -> bool:
        """Post a closed contest's results, once; also after a stop between closing and this.

        False while another process is posting them (its claim has not run out).
        """
        async with self._publishing:
            contest = await self._reload(contest)
            if contest.results_message_id is not None:
                return True
            if not await self._claim_results(contest):
                return False
            try:
                standings = await self.contests.standings(contest.id)
                message_id = await self.poster.post_results(contest, standings)
                await self.contests.set_results_message(contest.id, message_id)
            except BaseException:
                if self._claimant is not None:
                    await self.contests.release_results(contest.id, self._claimant)
                raise
        contest = await self._reload(contest)
        await self.poster.show_phase(contest, Phase.CLOSED)
        link = jump_url(contest.guild_id, contest.channel_id, message_id)
        await self.poster.say_in_thread(contest, f"🏆 Voting is over. The results: {link}")
        await self.poster.freeze_entries(contest, standings, show_votes=True)
        return True

    async def _claim_results(self, contest: ContestRow) -> bool:
        if self._claimant is None:
            return True  # alone on its database: the lock above is enough
        now = self.clock()
        until = now + RESULTS_CLAIM_SECONDS
        return await self.contests.claim_results(contest.id, self._claimant, until, now)

    # -- entering --------------------------------------------------------------------------------

    async def submit(
        self, contest: ContestRow, *, user_id: int, video_id: str, upload_limit: int
    ) -> EntryRow:
        self._require_submissions(contest)
        video = await self._videos.visible(video_id.strip(), user_id, contest.guild_id)
        if video is None:
            raise VideoNotFound()
        if video.owner_id != user_id:
            raise UserError(
                f"Only your own videos can be entered; that one is <@{video.owner_id}>'s."
            )
        if video.guild_id != contest.guild_id:
            raise UserError("Entries must be made in this server; that video was made elsewhere.")
        if video.status == "failed":
            raise UserError("That video failed, so there is nothing to enter.")
        if video.status != "completed":
            raise UserError("That video is not finished yet; enter it once it is done.")
        if video.created_at < int(contest.starts_at):
            raise UserError(
                f"Only videos made after the contest started ({timestamp(contest.starts_at)}) "
                "can be entered; that one is older. Make a new one with `/video`."
            )
        await self._check_room(contest, user_id, video.id)
        with tempfile.TemporaryDirectory(prefix="videobot-") as folder:
            return await self._enter(contest, video, upload_limit, Path(folder))

    async def _enter(
        self, contest: ContestRow, video: VideoRow, upload_limit: int, folder: Path
    ) -> EntryRow:
        """Copy the video's file into `folder`, add the entry and post it from there."""
        file = await self.poster.entry_file(video, upload_limit, folder)
        # The copy took a moment: the deadline or a cancel may have come meanwhile.
        contest = await self._reload(contest)
        self._require_submissions(contest)
        added = await self.contests.add_entry(
            contest,
            video_id=video.id,
            author_id=video.owner_id,
            prompt=video.prompt,
            now=self.clock(),
        )
        if added == "duplicate":
            raise UserError(ALREADY_ENTERED)
        if added == "limit":
            raise UserError(_limit_text(contest))
        note = None
        if not file.is_video and video.status_message_id is not None:
            card = jump_url(contest.guild_id, video.channel_id, video.status_message_id)
            note = (
                "The video is over the upload limit here, so this is its thumbnail: "
                f"[full video]({card})."
            )
        try:
            message_id = await self.poster.post_entry(contest, added, file, note)
        except BaseException:
            await self.contests.remove_entry(added.id)
            raise
        await self.contests.set_entry_message(added.id, message_id)
        return await self.contests.entry(added.id) or added

    async def withdraw(self, contest: ContestRow, *, user_id: int, video_id: str) -> EntryRow:
        phase = self.phase(contest)
        if phase is not Phase.SUBMISSIONS:
            raise UserError(
                f"Entries can only be withdrawn until voting starts, and contest #{contest.id} "
                f"is {phase.value} now."
            )
        entry = await self.contests.entry_for_video(contest.id, video_id.strip())
        if entry is None or entry.author_id != user_id:
            raise UserError("That video is not one of your entries in this contest.")
        if await self.contests.remove_entry(entry.id):
            await self.poster.delete_entry_post(contest, entry)
        return entry

    # -- voting ----------------------------------------------------------------------------------

    async def vote(
        self, entry_id: int, *, voter: discord.abc.User, guild_id: int | None, interaction_id: int
    ) -> VoteReply | None:
        """A press of an entry's Vote button in `guild_id`; None for a replayed press, already
        answered. The entry id comes from the button: only its contest's server may vote."""
        if voter.bot:
            raise UserError("Bots can't vote.")
        entry = await self.contests.entry(entry_id)
        contest = None
        if entry is not None and guild_id is not None:
            contest = await self.contests.in_guild(entry.contest_id, guild_id)
        if entry is None or contest is None:
            # One answer for a withdrawn entry and another server's, so ids cannot be probed.
            raise UserError("This entry was withdrawn, so it can't get votes.")
        phase = self.phase(contest)
        if phase is Phase.SUBMISSIONS:
            raise UserError(
                f"Voting opens when entries close, {timestamp(contest.submissions_end_at)}."
            )
        if phase is Phase.CANCELLED:
            raise UserError("This contest was cancelled.")
        if phase is not Phase.VOTING:
            raise UserError("Voting has closed for this contest.")
        if entry.author_id == voter.id:
            raise UserError("You can't vote for your own entry.")
        vote = await self.contests.toggle_vote(
            entry,
            voter.id,
            budget=contest.vote_budget,
            interaction_id=interaction_id,
            now=self.clock(),
        )
        left = contest.vote_budget - vote.used
        if vote.outcome == "replayed":
            return None
        if vote.outcome == "budget":
            raise UserError(
                f"You have used all {contest.vote_budget} of your votes in this contest. "
                "Press Vote again on an entry you voted for to take that vote back."
            )
        verb = "counted" if vote.outcome == "added" else "withdrawn"
        live = await self.contests.vote_count(entry.id) if contest.live_counts else None
        return VoteReply(f"Vote {verb} ({left} of {contest.vote_budget} left).", live)

    async def standings(self, contest: ContestRow, *, manager: bool) -> list[Standing]:
        """The ranking: for everyone once closed (or live), for managers at any time."""
        phase = self.phase(contest)
        if phase is Phase.CANCELLED and not manager:
            raise UserError("That contest was cancelled, so it has no results.")
        if phase is Phase.CLOSED or manager or contest.live_counts:
            return await self.contests.standings(contest.id)
        raise UserError(
            f"Votes stay secret until the contest closes, {timestamp(contest.voting_end_at)}."
        )

    # -- helpers ---------------------------------------------------------------------------------

    def _require_submissions(self, contest: ContestRow) -> None:
        phase = self.phase(contest)
        if phase is Phase.SUBMISSIONS:
            return
        if phase in (Phase.VOTING, Phase.CLOSING):
            raise UserError(
                f"Entries for contest #{contest.id} closed "
                f"{timestamp(contest.submissions_end_at)}; you can still vote."
            )
        raise UserError(f"Contest #{contest.id} is {phase.value}, so it takes no entries.")

    async def _check_room(self, contest: ContestRow, user_id: int, video_id: str) -> None:
        """Refuse early, before copying the video; add_entry checks again atomically."""
        if await self.contests.entry_for_video(contest.id, video_id) is not None:
            raise UserError(ALREADY_ENTERED)
        if len(await self.contests.entries_by(contest.id, user_id)) >= contest.max_entries:
            raise UserError(_limit_text(contest))

    async def _reload(self, contest: ContestRow) -> ContestRow:
        return await self.contests.get(contest.id) or contest

    def _over(self, contest: ContestRow) -> str:
        return "cancelled" if contest.cancelled_at is not None else "closed"
