"""/help: the commands the providers can serve, the models offered here, the caller's limits,
and where to read more."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.interactions.requires import required
from bot.ui.choices import models_text
from bot.videoapi.models import Operation
from bot.videoapi.providers import Providers

if TYPE_CHECKING:
    from bot.app import VideoBot

    Interaction = discord.Interaction[VideoBot]

READ_MORE = (
    'The README of videobot, sections "What users see" and "Put it in your server". '
    "Server admins: `videobot check` says what the bot lacks here."
)


def available(
    tree: app_commands.CommandTree[Any], supports: Callable[[Operation], bool | None]
) -> list[app_commands.Command[Any, ..., Any]]:
    """Every slash command, but those needing an operation the provider is known to lack
    (an operation not tried yet counts as available)."""
    return [
        command
        for command in tree.walk_commands()
        if isinstance(command, app_commands.Command)
        and ((operation := required(command)) is None or supports(operation) is not False)
    ]


def served(providers: Providers) -> Callable[[Operation], bool | None]:
    """Whether some provider serves an operation: False only when every one is known to lack it."""

    def supports(operation: Operation) -> bool | None:
        answers = [backend.supports(operation) for _, backend in providers]
        return None if None in answers else any(answers)

    return supports


def lacking_everywhere(providers: Providers) -> frozenset[Operation]:
    """The operations no provider serves."""
    return frozenset.intersection(*(backend.unsupported for _, backend in providers))


def help_card(
    shown: list[app_commands.Command[Any, ..., Any]],
    lacking: frozenset[Operation],
    running: int,
    limit: int | None,
    models: str | None = None,
    *,
    several: bool = False,
) -> discord.Embed:
    lines = [f"`/{command.qualified_name}` {command.description}" for command in shown]
    embed = discord.Embed(
        title="What I can do here", description="\n".join(lines), colour=discord.Colour.blurple()
    )
    at_once = f"{running} of {limit}" if limit is not None else f"{running} (no limit)"
    embed.add_field(
        name="Your limits",
        value=f"{at_once} videos in progress at once; more wait in line for a free slot. "
        "`/usage` shows your seconds today and your spend.",
        inline=False,
    )
    if models is not None:
        embed.add_field(name="Models", value=models, inline=False)
    embed.add_field(name="Read more", value=READ_MORE, inline=False)
    if lacking:
        names = ", ".join(sorted(op.value.replace("_", " ") for op in lacking))
        who = "No provider here serves" if several else "This provider lacks"
        embed.set_footer(text=f"{who}: {names}. Those commands are left out.")
    return embed


class Help(commands.Cog):
    def __init__(self, bot: VideoBot) -> None:
        self.bot = bot

    @app_commands.command(
        name="help", description="What I can do with this provider, and your limits"
    )
    async def help(self, interaction: Interaction) -> None:
        scope = interaction.guild_id or 0
        running = (await self.bot.videos.running()).get((scope, interaction.user.id), 0)
        providers = self.bot.providers
        allowed = (await self.bot.spending.access(scope)).models
        embed = help_card(
            available(self.bot.tree, served(providers)),
            lacking_everywhere(providers),
            running,
            (await self.bot.spending.limits(scope)).jobs_per_user,
            models_text(providers.offers(), allowed, named=len(providers) > 1),
            several=len(providers) > 1,
        )
        await interaction.response.send_message(embed=embed, ephemeral=True)


async def setup(bot: VideoBot) -> None:
    await bot.add_cog(Help(bot))
