"""What the buttons and forms on result cards do, also after a restart; stale ids answered.

The buttons (bot/ui/buttons.py) only draw and hand each click to `on_video_action`; forms are
read from their submit payload by custom id, so one opened before a restart is still answered.
Any other `videobot:` custom id gets a plain "this no longer works" instead of silence.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import discord
from discord.ext import commands

from bot.delivery import InteractionPoster
from bot.errors import UserError
from bot.interactions.tree import reply, report_error
from bot.interactions.who import asker_of, manages_messages
from bot.jobs.requests import OPERATIONS, DerivedKind, may_delete
from bot.storage import VideoRow
from bot.ui.buttons import (
    FORM_ACTIONS,
    PROMPT_MAX,
    STALE,
    confirm_delete_view,
    prompt_form,
    read_form,
)
from bot.videoapi.models import ContentVariant

if TYPE_CHECKING:
    from bot.app import VideoBot

    Interaction = discord.Interaction[VideoBot]

OURS = "videobot:"


class Results(commands.Cog):
    def __init__(self, bot: VideoBot) -> None:
        self.bot = bot
        self._handlers: dict[str, Callable[[Interaction, str], Awaitable[None]]] = {
            "remix": functools.partial(self._open_form, "remix"),
            "extend": functools.partial(self._open_form, "extend"),
            "edit": functools.partial(self._open_form, "edit"),
            "thumbnail": functools.partial(send_asset, bot, variant="thumbnail"),
            "spritesheet": functools.partial(send_asset, bot, variant="spritesheet"),
            "delete": functools.partial(ask_delete, bot),
            "confirm-delete": self._confirm_delete,
            "retry": self._retry,
            "cancel": self._cancel,
        }

    @commands.Cog.listener()
    async def on_video_action(self, interaction: Interaction, action: str, ref: str) -> None:
        # Items are not commands: their errors would otherwise only reach the log.
        try:
            await self._handlers[action](interaction, ref)
        except Exception as exc:
            await report_error(interaction, exc)

    @commands.Cog.listener()
    async def on_interaction(self, interaction: Interaction) -> None:
        data: dict[str, object] = dict(interaction.data or {})
        custom_id = data.get("custom_id")
        if not isinstance(custom_id, str) or not custom_id.startswith(OURS):
            return
        component = interaction.type is discord.InteractionType.component
        try:
            if interaction.type is discord.InteractionType.modal_submit:
                await self._submit_form(interaction, custom_id, data)
            elif component and not self.bot.handles(custom_id):
                await reply(interaction, STALE)
        except Exception as exc:
            await report_error(interaction, exc)

    async def _open_form(self, kind: DerivedKind, interaction: Interaction, ref: str) -> None:
        parent = await self.bot.jobs.parent(
            ref, interaction.user.id, interaction.guild_id, OPERATIONS[kind]
        )
        form = prompt_form(kind, parent, self.bot.api.profile.extend_seconds)
        await interaction.response.send_modal(form)

    async def _submit_form(
        self, interaction: Interaction, custom_id: str, data: dict[str, object]
    ) -> None:
        answer = read_form(custom_id, data)
        if answer is None:
            await reply(interaction, STALE)
            return
        if len(answer.prompt) > PROMPT_MAX:
            raise UserError(f"The prompt must be at most {PROMPT_MAX:,} characters.")
        kind = _kind(answer.action)
        jobs = self.bot.jobs
        # Read the parent again: it may have been deleted while the form was open.
        parent = await jobs.parent(
            answer.ref, interaction.user.id, interaction.guild_id, OPERATIONS[kind]
        )
        request = jobs.derived(
            kind,
            parent,
            answer.prompt,
            owner_id=interaction.user.id,
            guild_id=interaction.guild_id,
            channel_id=interaction.channel_id or parent.channel_id,
            seconds=answer.seconds,
        )
        await jobs.start(request, InteractionPoster(interaction), asker_of(interaction))

    async def _confirm_delete(self, interaction: Interaction, ref: str) -> None:
        row = await _deletable(self.bot, interaction, ref)
        await interaction.response.defer(ephemeral=True)
        await self.bot.jobs.delete(row, interaction.user.id)
        await interaction.edit_original_response(content="Deleted.", view=None)

    async def _retry(self, interaction: Interaction, ref: str) -> None:
        row = await self.bot.jobs.visible(ref, interaction.user.id, interaction.guild_id)
        channel_id = interaction.channel_id or row.channel_id
        await self.bot.jobs.retry(
            row,
            interaction.user.id,
            channel_id,
            InteractionPoster(interaction),
            asker_of(interaction),
        )

    async def _cancel(self, interaction: Interaction, ref: str) -> None:
        row = await self.bot.jobs.cancel(ref, interaction.user.id, interaction.guild_id)
        await self.bot.delivery.cancelled(row, interaction)


async def send_asset(
    bot: VideoBot, interaction: Interaction, ref: str, *, variant: ContentVariant
) -> None:
    """An ephemeral reply carrying one of a video's files (also /videos download)."""
    row = await bot.jobs.visible(ref, interaction.user.id, interaction.guild_id)
    bot.jobs.downloadable(row)
    # Each of these may download and decode: one member's clicks must not hold everyone's media.
    bot.asset_cooldown.hit(interaction.user.id)
    await bot.delivery.send_asset(row, variant, interaction)


async def ask_delete(bot: VideoBot, interaction: Interaction, ref: str) -> None:
    """Ask before deleting (also /videos delete); the answer is a button that survives restarts."""
    row = await _deletable(bot, interaction, ref)
    view = confirm_delete_view(row)
    assert view is not None  # one button, always shown
    await interaction.response.send_message(
        "Delete this video for everyone? This cannot be undone.", view=view, ephemeral=True
    )


async def _deletable(bot: VideoBot, interaction: Interaction, ref: str) -> VideoRow:
    row = await bot.jobs.visible(ref, interaction.user.id, interaction.guild_id)
    moderator = manages_messages(interaction.guild, interaction.user, row.channel_id)
    if not may_delete(row, interaction.user.id, interaction.guild_id, moderator):
        raise UserError("Only the owner can delete this video (or a moderator of its server).")
    return row


def _kind(action: str) -> DerivedKind:
    if action not in FORM_ACTIONS:
        raise UserError("That form no longer works; run the command again.")
    kind: DerivedKind = action  # type: ignore[assignment]
    return kind


async def setup(bot: VideoBot) -> None:
    await bot.add_cog(Results(bot))
