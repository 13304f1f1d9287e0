"""Where a new job's first card appears: an interaction's response, or a reply in a channel."""

from __future__ import annotations

from typing import Any, Protocol

import discord

from bot.jobs.cards import Poster


class CardPoster(Poster, Protocol):
    """The jobs core's `Poster`, which also shows the card in Discord."""

    interaction: discord.Interaction[Any] | None
    # A line above the card (a mention), kept through the card's edits.
    lead: str | None

    async def show(self, layout: discord.ui.LayoutView) -> discord.Message: ...


class InteractionPoster:
    lead: str | None = None

    def __init__(self, interaction: discord.Interaction[Any]) -> None:
        self.interaction: discord.Interaction[Any] | None = interaction
        self._interaction = interaction

    async def begin(self) -> None:
        # Answer at once; the provider may take a while to accept the job.
        await self._interaction.response.defer(thinking=True)

    async def abort(self) -> None:
        await self._interaction.delete_original_response()

    async def show(self, layout: discord.ui.LayoutView) -> discord.Message:
        return await self._interaction.edit_original_response(view=layout)


class ReplyPoster:
    """A card posted as a reply to a message (a reaction has no interaction to answer)."""

    interaction: discord.Interaction[Any] | None = None

    def __init__(self, channel: discord.PartialMessageable, reply_to: int, user_id: int) -> None:
        self._channel = channel
        self._reply_to = reply_to
        self._user_id = user_id
        self.lead: str | None = f"<@{user_id}> extends this video."

    async def begin(self) -> None:
        return None

    async def abort(self) -> None:
        return None

    async def show(self, layout: discord.ui.LayoutView) -> discord.Message:
        reference = self._channel.get_partial_message(self._reply_to).to_reference(
            fail_if_not_exists=False
        )
        return await self._channel.send(
            view=layout,
            reference=reference,
            allowed_mentions=discord.AllowedMentions(users=[discord.Object(self._user_id)]),
        )
