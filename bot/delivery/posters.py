"""Where a new job's first card appears: an interaction's response, or a reply in a channel."""

from __future__ import annotations

from typing import Any, Protocol

import discord

from bot.jobs.cards import Poster


class CardPoster(Poster, Protocol):
    """The jobs core's `Poster`, which also shows the card in Discord."""

    interaction: discord.Interaction[Any] | None

    async def show(self, embed: discord.Embed, view: discord.ui.View | None) -> discord.Message: ...


class InteractionPoster:
    def __init__(self, interaction: discord.Interaction[Any]) -> None:
        self.interaction: discord.Interaction[Any] | None = interaction
        self._interaction = interaction

    async def begin(self) -> None:
        # Answer at once; the provider may take a while to accept the job.
        await self._interaction.response.defer(thinking=True)

    async def abort(self) -> None:
        await self._interaction.delete_original_response()

    async def show(self, embed: discord.Embed, view: discord.ui.View | None) -> discord.Message:
        if view is None:
            return await self._interaction.edit_original_response(embed=embed)
        return await self._interaction.edit_original_response(embed=embed, view=view)


class ReplyPoster:
    """A card posted as a reply to a message (a reaction has no interaction to answer)."""

    interaction: discord.Interaction[Any] | None = None

    def __init__(self, channel: discord.PartialMessageable, reply_to: int, user_id: int) -> None:
        self._channel = channel
        self._reply_to = reply_to
        self._user_id = user_id

    async def begin(self) -> None:
        return None

    async def abort(self) -> None:
        return None

    async def show(self, embed: discord.Embed, view: discord.ui.View | None) -> discord.Message:
        reference = self._channel.get_partial_message(self._reply_to).to_reference(
            fail_if_not_exists=False
        )
        extra: dict[str, Any] = {} if view is None else {"view": view}
        return await self._channel.send(
            content=f"<@{self._user_id}> extends this video.",
            embed=embed,
            reference=reference,
            allowed_mentions=discord.AllowedMentions(users=[discord.Object(self._user_id)]),
            **extra,
        )
