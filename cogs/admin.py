"""Owner-only upkeep: syncing the slash commands with Discord."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord.ext import commands

if TYPE_CHECKING:
    from bot.app import VideoBot


class Admin(commands.Cog):
    def __init__(self, bot: VideoBot) -> None:
        self.bot = bot

    @commands.command(name="sync")
    @commands.is_owner()
    async def sync(self, ctx: commands.Context[VideoBot], guild_id: int | None = None) -> None:
        """`@videobot sync` syncs globally; `@videobot sync <guild id>` one guild, at once."""
        guild = discord.Object(guild_id) if guild_id is not None else None
        if guild is not None:
            self.bot.tree.copy_global_to(guild=guild)
        synced = await self.bot.tree.sync(guild=guild)
        where = f"guild {guild_id}" if guild_id is not None else "every guild"
        await ctx.reply(f"Synced {len(synced)} commands to {where}.", mention_author=False)


async def setup(bot: VideoBot) -> None:
    await bot.add_cog(Admin(bot))
