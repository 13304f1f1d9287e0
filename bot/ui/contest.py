"""What members see of a contest: its announcement, entries, standings, and the Vote button."""

from __future__ import annotations

import re
from typing import Any, Final

import discord

from bot.contests.phases import Phase
from bot.storage import ContestRow, EntryRow, Standing
from bot.ui.text import excerpt, plural, timestamp

VOTE_PREFIX: Final = "videobot:v1:vote"
VOTE_TEMPLATE: Final = rf"{VOTE_PREFIX}:(?P<entry_id>[0-9]{{1,20}})"
# The event the Vote button raises; the contest cog listens for it (on_contest_vote).
VOTE_EVENT: Final = "contest_vote"
MEDALS: Final = ("🥇", "🥈", "🥉")
PROMPT_SHOWN: Final = 900
RANKING_LINES: Final = 20

COLOURS = {
    Phase.SUBMISSIONS: discord.Colour.blurple(),
    Phase.VOTING: discord.Colour.gold(),
    Phase.CLOSING: discord.Colour.gold(),
    Phase.CLOSED: discord.Colour.green(),
    Phase.CANCELLED: discord.Colour.dark_grey(),
}


def jump_url(guild_id: int, channel_id: int, message_id: int) -> str:
    return f"https://discord.com/channels/{guild_id}/{channel_id}/{message_id}"


def announcement_card(
    contest: ContestRow, phase: Phase, results_url: str | None = None
) -> discord.Embed:
    embed = discord.Embed(
        title=excerpt(f"🏆 Prompt contest: {contest.theme}", 256), colour=COLOURS[phase]
    )
    entries = plural(contest.max_entries, "video")
    votes = plural(contest.vote_budget, "vote")
    if phase is Phase.SUBMISSIONS:
        embed.description = (
            f"Make a video on this theme with `/video`, then enter it with "
            f"`/contest submit contest:{contest.id}` before entries close. Each member may enter "
            f"{entries} made here after the start. Entries appear in the thread below; voting "
            f"opens when entries close, with {votes} per member."
        )
    elif phase in (Phase.VOTING, Phase.CLOSING):
        embed.description = (
            f"Voting is open! Press **Vote** on your favourite entries in the thread below: "
            f"{votes} per member, not for your own, and pressing again takes a vote back."
        )
    elif phase is Phase.CLOSED:
        where = f" [See the results.]({results_url})" if results_url else ""
        embed.description = f"This contest is over.{where}"
    else:
        embed.description = "This contest was cancelled."
    for name, at in (
        ("Entries close", contest.submissions_end_at),
        ("Voting closes", contest.voting_end_at),
    ):
        embed.add_field(name=name, value=f"{timestamp(at)} ({timestamp(at, 'f')})")
    embed.add_field(name="Status", value=phase.value.capitalize())
    embed.set_footer(text=f"Contest #{contest.id}")
    return embed


def entry_card(contest: ContestRow, entry: EntryRow, note: str | None = None) -> discord.Embed:
    embed = discord.Embed(description=excerpt(entry.prompt, 4000), colour=discord.Colour.blurple())
    embed.set_author(name=f"Entry #{entry.id}")
    embed.add_field(name="By", value=f"<@{entry.author_id}>")
    if note:
        embed.add_field(name="Note", value=note, inline=False)
    embed.set_footer(text=f"Contest #{contest.id}: {excerpt(contest.theme, 100)}")
    return embed


def standings_card(
    contest: ContestRow, standings: list[Standing], links: dict[int, str], *, final: bool
) -> discord.Embed:
    """The ranking: the top three with their prompts, then a line for each of the next ones.

    `links` maps entry ids to their posts, where the videos are.
    """
    title = "🏆 Results" if final else "📊 Standings so far"
    embed = discord.Embed(
        title=excerpt(f"{title}: {contest.theme}", 256), colour=discord.Colour.green()
    )
    if not standings:
        embed.description = "No entries were submitted."
    else:
        votes = sum(s.votes for s in standings)
        embed.description = (
            f"{plural(len(standings), 'entry', 'entries')}, "
            f"{plural(votes, 'vote')} in all. Equal votes go to the earlier entry."
        )
    for standing in standings[:3]:
        link = links.get(standing.entry.id)
        where = f" · [entry]({link})" if link else ""
        embed.add_field(
            name=f"{MEDALS[standing.place - 1]} {_ordinal(standing.place)} · "
            f"{plural(standing.votes, 'vote')}",
            value=f"<@{standing.entry.author_id}>{where}\n> "
            + excerpt(standing.entry.prompt, PROMPT_SHOWN),
            inline=False,
        )
    rest = [
        f"{s.place}. <@{s.entry.author_id}> · {plural(s.votes, 'vote')}: "
        f"{excerpt(s.entry.prompt, 60)}"
        for s in standings[3 : 3 + RANKING_LINES]
    ]
    if rest:
        embed.add_field(name="Also ran", value="\n".join(rest)[:1024], inline=False)
    embed.set_footer(text=f"Contest #{contest.id}")
    return embed


def contest_list(contests: list[ContestRow], phases: dict[int, Phase]) -> discord.Embed:
    embed = discord.Embed(title="Prompt contests", colour=discord.Colour.blurple())
    if not contests:
        embed.description = "No contests here yet. A manager can start one with `/contest start`."
        return embed
    lines = []
    for contest in contests:
        phase = phases[contest.id]
        when = ""
        if phase is Phase.SUBMISSIONS:
            when = f", entries close {timestamp(contest.submissions_end_at)}"
        elif phase is Phase.VOTING:
            when = f", voting closes {timestamp(contest.voting_end_at)}"
        lines.append(f"**#{contest.id}** {excerpt(contest.theme, 80)}: {phase.value}{when}")
    embed.description = "\n".join(lines)
    return embed


def choice_label(contest: ContestRow, phase: Phase) -> str:
    return excerpt(f"#{contest.id} {contest.theme}", 80) + f" · {phase.value}"


def _ordinal(place: int) -> str:
    return {1: "1st", 2: "2nd", 3: "3rd"}.get(place, f"{place}th")


class VoteButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=VOTE_TEMPLATE):
    """Works on entries posted before a restart: the entry's state is read at click time."""

    def __init__(self, entry_id: int, *, votes: int | None = None, disabled: bool = False) -> None:
        label = "Vote" if votes is None else f"Vote · {votes}"
        super().__init__(
            discord.ui.Button(
                label=label,
                emoji="🗳️",
                style=discord.ButtonStyle.secondary if disabled else discord.ButtonStyle.primary,
                custom_id=f"{VOTE_PREFIX}:{entry_id}",
                disabled=disabled,
            )
        )
        self.entry_id = entry_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> VoteButton:
        return cls(int(match["entry_id"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        # The contest cog owns the rules; ui stays free of SQL and of the cog itself.
        interaction.client.dispatch(VOTE_EVENT, interaction, self.entry_id)


def entry_view(
    entry_id: int, *, votes: int | None = None, disabled: bool = False
) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(VoteButton(entry_id, votes=votes, disabled=disabled))
    return view
