"""What members see of a contest: its announcement, entries, standings, and the Vote button.

Entries and standings are Components V2, as a job's card is: an entry plays its video in a
gallery above its Vote button, and the results show the podium's videos in one gallery.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Final

import discord

from bot.contests.phases import Phase
from bot.storage import ContestRow, EntryRow, Standing
from bot.ui.layout import facts, heading, layout, media_gallery, subtext
from bot.ui.text import excerpt, plural, timestamp

VOTE_PREFIX: Final = "videobot:v1:vote"
VOTE_TEMPLATE: Final = rf"{VOTE_PREFIX}:(?P<entry_id>[0-9]{{1,20}})"
# The event the Vote button raises; the contest cog listens for it (on_contest_vote).
VOTE_EVENT: Final = "contest_vote"
MEDALS: Final = ("🥇", "🥈", "🥉")
# Three podium prompts, the other places' lines and the rest inside the 4000 characters of
# text a Components V2 message holds.
PROMPT_SHOWN: Final = 700
RANKING_LINES: Final = 20
RANKING_SHOWN: Final = 1024
# An entry's prompt, with room for the rest of its post.
ENTRY_PROMPT_SHOWN: Final = 3000

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


def entry_card(
    contest: ContestRow,
    entry: EntryRow,
    note: str | None = None,
    *,
    media: str | None = None,
    votes: int | None = None,
) -> discord.ui.LayoutView:
    """An entry's post: its prompt, who made it, its file (`media`, sent with the post) playing
    in a gallery, and its Vote button."""
    items: list[discord.ui.Item[Any]] = [
        heading(f"Entry #{entry.id}"),
        discord.ui.TextDisplay(excerpt(entry.prompt, ENTRY_PROMPT_SHOWN, one_line=False)),
        discord.ui.TextDisplay(facts([("By", f"<@{entry.author_id}>")])),
    ]
    if note:
        items.append(discord.ui.TextDisplay(facts([("Note", note)])))
    if media:
        items.append(media_gallery([(media, entry.prompt)]))
    items.append(discord.ui.ActionRow(VoteButton(entry.id, votes=votes)))
    items.append(subtext(f"Contest #{contest.id}: {excerpt(contest.theme, 100)}"))
    return layout(*items, colour=discord.Colour.blurple())


def podium_caption(standing: Standing) -> str:
    """A podium video's alt text in the results' gallery: its place and its prompt."""
    return f"{_ordinal(standing.place)}: {standing.entry.prompt}"


def standings_card(
    contest: ContestRow,
    standings: list[Standing],
    links: dict[int, str],
    *,
    final: bool,
    media: Sequence[tuple[str, str]] = (),
) -> discord.ui.LayoutView:
    """The ranking: the top three with their prompts, their videos (`media`: the files sent
    with it, by name with their captions) in a gallery, then a line for each of the next ones.

    `links` maps entry ids to their posts, where the videos are.
    """
    title = "🏆 Results" if final else "📊 Standings so far"
    items: list[discord.ui.Item[Any]] = [heading(excerpt(f"{title}: {contest.theme}", 256))]
    if not standings:
        items.append(discord.ui.TextDisplay("No entries were submitted."))
    else:
        votes = sum(s.votes for s in standings)
        items.append(
            discord.ui.TextDisplay(
                f"{plural(len(standings), 'entry', 'entries')}, "
                f"{plural(votes, 'vote')} in all. Equal votes go to the earlier entry."
            )
        )
    podium = []
    for standing in standings[:3]:
        link = links.get(standing.entry.id)
        where = f" · [entry]({link})" if link else ""
        place = f"{MEDALS[standing.place - 1]} {_ordinal(standing.place)}"
        podium.append(
            f"**{place} · {plural(standing.votes, 'vote')}** "
            f"<@{standing.entry.author_id}>{where}\n> "
            + excerpt(standing.entry.prompt, PROMPT_SHOWN)
        )
    if podium:
        items.append(discord.ui.TextDisplay("\n".join(podium)))
    if media:
        items.append(media_gallery(media))
    rest = [
        f"{s.place}. <@{s.entry.author_id}> · {plural(s.votes, 'vote')}: "
        f"{excerpt(s.entry.prompt, 60)}"
        for s in standings[3 : 3 + RANKING_LINES]
    ]
    if rest:
        ranking = excerpt("\n".join(rest), RANKING_SHOWN, one_line=False)
        items.append(discord.ui.TextDisplay(f"**Also ran**\n{ranking}"))
    items.append(subtext(f"Contest #{contest.id}"))
    return layout(*items, colour=discord.Colour.green())


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
    """The Vote button alone, as on an entry posted before Components V2."""
    view = discord.ui.View(timeout=None)
    view.add_item(VoteButton(entry_id, votes=votes, disabled=disabled))
    return view


def with_vote(
    post: discord.Message | None, entry_id: int, *, votes: int | None = None, disabled: bool = False
) -> discord.ui.View | discord.ui.LayoutView:
    """An entry's post with its Vote button redrawn (a count, or turned off).

    An edit replaces every component of a Components V2 message, so the post's own are sent
    back with the new button in place of the old; a post from before it has the button alone.
    """
    if post is None or not post.flags.components_v2:
        return entry_view(entry_id, votes=votes, disabled=disabled)
    button = VoteButton(entry_id, votes=votes, disabled=disabled)
    view = discord.ui.LayoutView.from_message(post, timeout=None)
    for item in list(view.walk_children()):
        if isinstance(item, discord.ui.ActionRow) and any(
            getattr(child, "custom_id", None) == button.custom_id for child in item.children
        ):
            item.clear_items()
            item.add_item(button)
    return view
