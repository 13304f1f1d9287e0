"""/contest: start, enter, vote on and close community prompt contests."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.contests.phases import Phase
from bot.contests.service import ContestService, plan
from bot.errors import UserError
from bot.interactions.tree import report_error
from bot.storage import ContestRow
from bot.ui.contest import (
    VoteButton,
    choice_label,
    contest_list,
    jump_url,
    standings_card,
    with_vote,
)
from bot.ui.text import excerpt

if TYPE_CHECKING:
    from bot.app import VideoBot

Interaction = discord.Interaction["VideoBot"]
Choices = list[app_commands.Choice[int]]
VideoChoices = list[app_commands.Choice[str]]
NO_MENTIONS = discord.AllowedMentions.none()


def _guild_id(interaction: Interaction) -> int:
    # The cog is guild_only, so Discord never sends these commands from a DM.
    assert interaction.guild_id is not None
    return interaction.guild_id


@app_commands.guild_only()
class Contests(commands.GroupCog, group_name="contest", group_description="Prompt contests"):
    def __init__(self, bot: VideoBot, service: ContestService) -> None:
        self.bot = bot
        self.service = service
        super().__init__()

    async def cog_load(self) -> None:
        # Its first pass closes every contest whose deadline passed while the bot was down.
        self.service.scheduler.start()

    async def cog_unload(self) -> None:
        await self.service.scheduler.stop()

    # -- running contests ----------------------------------------------------------------------

    @app_commands.command(name="start", description="Start a prompt contest")
    @app_commands.describe(
        theme="What entries should show",
        submit_for="How long entries are open, like 2h, 3d or 90m",
        vote_for="How long voting lasts after that",
        channel="Where to announce it (here by default)",
        max_entries="Videos each member may enter",
        votes="Votes each member may give",
        live_counts="Show vote counts while voting is open",
    )
    async def start(
        self,
        interaction: Interaction,
        theme: str,
        submit_for: str,
        vote_for: str,
        channel: discord.TextChannel | None = None,
        max_entries: app_commands.Range[int, 1, 10] = 1,
        votes: app_commands.Range[int, 1, 25] = 3,
        live_counts: bool = False,
    ) -> None:
        await self._require_manager(interaction, "start contests")
        chosen = plan(
            theme,
            submit_for,
            vote_for,
            max_entries=max_entries,
            vote_budget=votes,
            live_counts=live_counts,
        )
        target = channel or interaction.channel
        if not isinstance(target, discord.TextChannel):
            raise UserError("Contests need a text channel: run this in one, or pick one.")
        await interaction.response.defer(ephemeral=True, thinking=True)
        contest = await self.service.start(
            chosen,
            guild_id=_guild_id(interaction),
            channel_id=target.id,
            created_by=interaction.user.id,
        )
        assert contest.announcement_id is not None  # start() posted it or raised
        link = jump_url(contest.guild_id, contest.channel_id, contest.announcement_id)
        await interaction.followup.send(f"Contest #{contest.id} is on: {link}", ephemeral=True)

    @app_commands.command(name="cancel", description="Cancel a contest")
    @app_commands.describe(contest="The contest to cancel")
    async def cancel(self, interaction: Interaction, contest: int) -> None:
        await self._require_manager(interaction, "cancel contests")
        row = await self.service.find(contest, _guild_id(interaction))
        await interaction.response.defer(ephemeral=True, thinking=True)
        await self.service.cancel(row, interaction.user.id)
        await interaction.followup.send(f"Contest #{row.id} is cancelled.", ephemeral=True)

    @app_commands.command(name="end", description="End voting now and post the results")
    @app_commands.describe(contest="The contest to end")
    async def end(self, interaction: Interaction, contest: int) -> None:
        await self._require_manager(interaction, "end contests")
        row = await self.service.find(contest, _guild_id(interaction))
        await interaction.response.defer(ephemeral=True, thinking=True)
        row = await self.service.end(row)
        where = ""
        if row.results_message_id is not None:
            where = ": " + jump_url(row.guild_id, row.channel_id, row.results_message_id)
        await interaction.followup.send(f"Contest #{row.id} is closed{where}", ephemeral=True)

    @app_commands.command(name="list", description="Open and recent contests in this server")
    async def list_(self, interaction: Interaction) -> None:
        rows = await self.service.contests.list_for_guild(_guild_id(interaction))
        phases = {row.id: self.service.phase(row) for row in rows}
        await interaction.response.send_message(embed=contest_list(rows, phases), ephemeral=True)

    @app_commands.command(name="role", description="Let a role run contests (Manage Server only)")
    @app_commands.describe(role="The contest manager role; leave out to clear it")
    async def role(self, interaction: Interaction, role: discord.Role | None = None) -> None:
        if not interaction.permissions.manage_guild:
            raise UserError("Only members with Manage Server can choose who runs contests.")
        guild_id = _guild_id(interaction)
        await self.service.contests.set_manager_role(guild_id, role.id if role else None)
        text = (
            f"Members with {role.mention} can now run contests, as can those with Manage Server."
            if role
            else "Only members with Manage Server can run contests now."
        )
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_MENTIONS)

    # -- taking part ---------------------------------------------------------------------------

    @app_commands.command(name="submit", description="Enter one of your videos in a contest")
    @app_commands.describe(contest="The contest to enter", video="Your video for it")
    async def submit(self, interaction: Interaction, contest: int, video: str) -> None:
        row = await self.service.find(contest, _guild_id(interaction))
        await interaction.response.defer(ephemeral=True, thinking=True)
        entry = await self.service.submit(
            row,
            user_id=interaction.user.id,
            video_id=video,
            upload_limit=self.service.poster.upload_limit(row.guild_id),
        )
        link = ""
        if entry.message_id is not None and row.thread_id is not None:
            link = ": " + jump_url(row.guild_id, row.thread_id, entry.message_id)
        await interaction.followup.send(f"Your entry is in contest #{row.id}{link}", ephemeral=True)

    @app_commands.command(name="withdraw", description="Take one of your entries back")
    @app_commands.describe(contest="The contest", video="Your entry to take back")
    async def withdraw(self, interaction: Interaction, contest: int, video: str) -> None:
        row = await self.service.find(contest, _guild_id(interaction))
        await self.service.withdraw(row, user_id=interaction.user.id, video_id=video)
        await interaction.response.send_message(
            f"Your entry is withdrawn from contest #{row.id}.", ephemeral=True
        )

    @app_commands.command(name="leaderboard", description="A contest's standings")
    @app_commands.describe(contest="The contest")
    async def leaderboard(self, interaction: Interaction, contest: int) -> None:
        row = await self.service.find(contest, _guild_id(interaction))
        manager = await self._is_manager(interaction)
        standings = await self.service.standings(row, manager=manager)
        final = self.service.phase(row) is Phase.CLOSED
        links = {
            s.entry.id: jump_url(row.guild_id, row.thread_id or row.channel_id, s.entry.message_id)
            for s in standings
            if s.entry.message_id is not None
        }
        await interaction.response.send_message(
            view=standings_card(row, standings, links, final=final),
            # Hidden standings are for the manager who asked; final ones are for everyone.
            ephemeral=not final,
            allowed_mentions=NO_MENTIONS,
        )

    @commands.Cog.listener()
    async def on_contest_vote(self, interaction: Interaction, entry_id: int) -> None:
        """A press of an entry's Vote button (bot.ui.contest.VoteButton)."""
        try:
            reply = await self.service.vote(
                entry_id,
                voter=interaction.user,
                guild_id=interaction.guild_id,
                interaction_id=interaction.id,
            )
            if reply is None:
                return  # a replayed press: the first one was answered and counted
            if reply.votes is None:
                await interaction.response.send_message(reply.text, ephemeral=True)
                return
            await interaction.response.edit_message(
                view=with_vote(interaction.message, entry_id, votes=reply.votes)
            )
            await interaction.followup.send(reply.text, ephemeral=True)
        except Exception as exc:
            await report_error(interaction, exc)

    # -- autocomplete --------------------------------------------------------------------------

    @submit.autocomplete("contest")
    @withdraw.autocomplete("contest")
    @cancel.autocomplete("contest")
    @end.autocomplete("contest")
    @leaderboard.autocomplete("contest")
    async def _contests(self, interaction: Interaction, current: str) -> Choices:
        text = current.strip().lstrip("#")
        # A number picks a contest by id, anything else searches the themes.
        rows = await self.service.contests.list_for_guild(
            _guild_id(interaction), text="" if text.isdigit() else text
        )
        return [
            app_commands.Choice(name=choice_label(row, self.service.phase(row)), value=row.id)
            for row in rows
            if not text.isdigit() or str(row.id).startswith(text)
        ]

    @submit.autocomplete("video")
    async def _own_videos(self, interaction: Interaction, current: str) -> VideoChoices:
        contest = await self._namespace_contest(interaction)
        rows = await self.bot.videos.list_visible(
            interaction.user.id,
            interaction.guild_id,
            owner_id=interaction.user.id,
            status="completed",
            text=current or None,
        )
        since = int(contest.starts_at) if contest else 0
        return [
            app_commands.Choice(name=excerpt(row.prompt, 100), value=row.id)
            for row in rows
            if row.guild_id == interaction.guild_id and row.created_at >= since
        ]

    @withdraw.autocomplete("video")
    async def _own_entries(self, interaction: Interaction, current: str) -> VideoChoices:
        contest = await self._namespace_contest(interaction)
        if contest is None:
            return []
        entries = await self.service.contests.entries_by(contest.id, interaction.user.id)
        return [
            app_commands.Choice(name=excerpt(entry.prompt, 100), value=entry.video_id)
            for entry in entries
            if entry.video_id is not None and current.lower() in entry.prompt.lower()
        ][:25]

    # -- helpers -------------------------------------------------------------------------------

    async def _namespace_contest(self, interaction: Interaction) -> ContestRow | None:
        chosen = getattr(interaction.namespace, "contest", None)
        if not isinstance(chosen, int):
            return None
        return await self.service.contests.in_guild(chosen, _guild_id(interaction))

    async def _is_manager(self, interaction: Interaction) -> bool:
        if interaction.permissions.manage_guild:
            return True
        role_id = await self.service.contests.manager_role(_guild_id(interaction))
        member = interaction.user
        return (
            role_id is not None
            and isinstance(member, discord.Member)
            and member.get_role(role_id) is not None
        )

    async def _require_manager(self, interaction: Interaction, action: str) -> None:
        if await self._is_manager(interaction):
            return
        role_id = await self.service.contests.manager_role(_guild_id(interaction))
        who = "Manage Server" + (f" or the <@&{role_id}> role" if role_id else "")
        raise UserError(f"Only members with {who} can {action}.")


async def setup(bot: VideoBot) -> None:
    bot.add_dynamic_items(VoteButton)
    await bot.add_cog(Contests(bot, bot.contests))


async def teardown(bot: VideoBot) -> None:
    bot.remove_dynamic_items(VoteButton)
