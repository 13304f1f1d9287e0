"""Reaction shortcuts on result cards: the extend emoji extends, the owner's ❌ deletes.

Raw events, so cards that are old or not in the message cache work too.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord.ext import commands

from bot.delivery import ReplyPoster
from bot.interactions.tree import explain, fitted
from bot.interactions.who import manages_messages, reacting_asker
from bot.jobs.requests import may_delete
from bot.storage import VideoRow
from bot.videoapi.models import Operation

if TYPE_CHECKING:
    from bot.app import VideoBot

log = logging.getLogger(__name__)

DELETE_EMOJI = "❌"
# A refusal in the channel is for the reacting member only; it cleans itself up.
NOTICE_SECONDS = 30


class Reactions(commands.Cog):
    def __init__(self, bot: VideoBot) -> None:
        self.bot = bot

    @commands.Cog.listener()
    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        me = self.bot.user
        if (me is not None and payload.user_id == me.id) or (payload.member and payload.member.bot):
            return
        emoji = str(payload.emoji)
        if emoji not in (self.bot.settings.extend_emoji, DELETE_EMOJI):
            return
        if emoji == DELETE_EMOJI:
            row = await self.bot.videos.by_status_message(payload.message_id)
            if row is not None:
                await self._delete(payload, row)
            return
        # Extending builds on the video: only one the member may see (as Jobs.visible).
        row = await self.bot.videos.visible_card(
            payload.message_id, payload.user_id, payload.guild_id
        )
        if row is not None:
            await self._extend(payload, row)

    async def _extend(self, payload: discord.RawReactionActionEvent, row: VideoRow) -> None:
        if row.status != "completed":
            return
        if not await self.bot.videos.claim_reaction(
            payload.message_id, payload.user_id, str(payload.emoji)
        ):
            return  # the same reaction again (a replayed event): it started its job already
        channel = self.bot.get_partial_messageable(payload.channel_id, guild_id=payload.guild_id)
        try:
            # A provider known to lack extensions is not asked again.
            self.bot.jobs.require(Operation.EXTEND, row.provider)
            request = self.bot.jobs.derived(
                "extend",
                row,
                self.bot.settings.extend_default_prompt,
                owner_id=payload.user_id,
                guild_id=payload.guild_id,
                channel_id=payload.channel_id,
            )
            await self.bot.jobs.start(
                request,
                ReplyPoster(channel, payload.message_id, payload.user_id),
                reacting_asker(payload, self._guild(payload)),
            )
        except Exception as exc:
            # A reaction has no error handler: a bug is told here too, with its id.
            await self._tell(payload, explain(exc, "the extend reaction"))

    async def _delete(self, payload: discord.RawReactionActionEvent, row: VideoRow) -> None:
        moderator = manages_messages(self._guild(payload), payload.member, row.channel_id)
        if not row.finished or not may_delete(row, payload.user_id, payload.guild_id, moderator):
            return
        try:
            await self.bot.jobs.delete(row, payload.user_id)
        except Exception as exc:
            await self._tell(payload, explain(exc, "the delete reaction"))

    def _guild(self, payload: discord.RawReactionActionEvent) -> discord.Guild | None:
        return self.bot.get_guild(payload.guild_id) if payload.guild_id else None

    async def _tell(self, payload: discord.RawReactionActionEvent, text: str) -> None:
        """A reaction has no interaction to answer: a short notice in the channel, then gone."""
        channel = self.bot.get_partial_messageable(payload.channel_id, guild_id=payload.guild_id)
        await channel.send(
            fitted(f"<@{payload.user_id}> {text}"),
            delete_after=NOTICE_SECONDS,
            allowed_mentions=discord.AllowedMentions(users=[discord.Object(payload.user_id)]),
        )


async def setup(bot: VideoBot) -> None:
    await bot.add_cog(Reactions(bot))
