"""The buttons and forms on result cards (bot/interactions/buttons.py), registered with the bot.

A click is routed by discord.py to the button's own DynamicItem; what it cannot route, a form's
submit (it keeps modals only in memory) or an id of ours that no registered item answers, is
handed to `route_unanswered`, so a form opened before a restart is still answered after it and
a stale button says so instead of timing out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord.ext import commands

from bot.interactions.buttons import Host, VideoAction, route_unanswered

if TYPE_CHECKING:
    from bot.app import VideoBot

    # The handlers read the bot from each interaction as a Host: mypy checks here that it is one.
    _host: type[Host] = VideoBot


class Results(commands.Cog):
    def __init__(self, bot: VideoBot) -> None:
        self.bot = bot

    @commands.Cog.listener()
    async def on_interaction(self, interaction: discord.Interaction[VideoBot]) -> None:
        await route_unanswered(interaction, self.bot.handles)


async def setup(bot: VideoBot) -> None:
    bot.add_dynamic_items(VideoAction)
    await bot.add_cog(Results(bot))
