"""/video, /remix, /extend and /edit: validate every input, then start the job through Jobs."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.delivery import InteractionPoster
from bot.errors import UserError
from bot.interactions.requires import requires
from bot.interactions.who import asker_of
from bot.jobs.requests import OPERATIONS, DerivedKind
from bot.media.images import check_attachment, fit_reference
from bot.ui.choices import model_choices, video_choices
from bot.videoapi.errors import InvalidParameterError
from bot.videoapi.models import Operation, Upload
from bot.videoapi.profile import check_prompt
from bot.videoapi.providers import ProviderRemoved, Route

if TYPE_CHECKING:
    from bot.app import VideoBot

    Interaction = discord.Interaction[VideoBot]

Choices = list[app_commands.Choice[str]]


def _choices(values: tuple[str, ...], current: str) -> Choices:
    wanted = current.lower().strip()
    return [app_commands.Choice(name=v, value=v) for v in values if wanted in v.lower()][:25]


async def _reference(image: discord.Attachment, size: str) -> Upload:
    """The attached image, fitted to the video's size, as the job's first frame."""
    fitted = await asyncio.to_thread(fit_reference, await image.read(), size)
    return Upload("reference.png", "image/png", fitted)


class Generate(commands.Cog):
    def __init__(self, bot: VideoBot) -> None:
        self.bot = bot

    @app_commands.command(
        name="video",
        description="Generate a video from a prompt",
        extras=requires(Operation.CREATE),
    )
    @app_commands.describe(
        prompt="What the video shows",
        model="Which model makes it",
        seconds="How long it is",
        size="Width x height",
        image="A reference image (PNG, JPEG or WebP) for the first frame",
    )
    async def video(
        self,
        interaction: Interaction,
        prompt: str,
        model: str | None = None,
        seconds: str | None = None,
        size: str | None = None,
        image: discord.Attachment | None = None,
    ) -> None:
        loader = None
        if image is not None:
            check_attachment(image.content_type, image.size)
            loader = functools.partial(_reference, image)
        request = self.bot.jobs.created(
            prompt,
            model=model,
            size=size,
            seconds=seconds,
            owner_id=interaction.user.id,
            guild_id=interaction.guild_id,
            channel_id=interaction.channel_id or 0,
            image=loader,
        )
        await self.bot.jobs.start(request, InteractionPoster(interaction), asker_of(interaction))

    @app_commands.command(
        name="remix",
        description="Remix a finished video with a new prompt",
        extras=requires(Operation.REMIX),
    )
    @app_commands.describe(video="The video to remix", prompt="What to change")
    async def remix(self, interaction: Interaction, video: str, prompt: str) -> None:
        await self._derive(interaction, "remix", video, prompt)

    @app_commands.command(
        name="extend",
        description="Continue a finished video",
        extras=requires(Operation.EXTEND),
    )
    @app_commands.describe(
        video="The video to extend", prompt="What happens next", seconds="How much longer"
    )
    async def extend(self, interaction: Interaction, video: str, prompt: str, seconds: str) -> None:
        await self._derive(interaction, "extend", video, prompt, seconds)

    @app_commands.command(
        name="edit",
        description="Edit a finished video with a prompt",
        extras=requires(Operation.EDIT),
    )
    @app_commands.describe(video="The video to edit", prompt="What to change")
    async def edit(self, interaction: Interaction, video: str, prompt: str) -> None:
        await self._derive(interaction, "edit", video, prompt)

    async def _derive(
        self,
        interaction: Interaction,
        kind: DerivedKind,
        video: str,
        prompt: str,
        seconds: str | None = None,
    ) -> None:
        check_prompt(prompt)  # a bad prompt is the first thing to say, before any lookup
        jobs = self.bot.jobs
        user, guild = interaction.user.id, interaction.guild_id
        parent = await jobs.parent(video, user, guild, OPERATIONS[kind])
        request = jobs.derived(
            kind,
            parent,
            prompt,
            owner_id=user,
            guild_id=guild,
            channel_id=interaction.channel_id or parent.channel_id,
            seconds=seconds,
        )
        await jobs.start(request, InteractionPoster(interaction), asker_of(interaction))

    @video.autocomplete("model")
    async def _models(self, interaction: Interaction, current: str) -> Choices:
        # Every provider's models, each once with where it goes and its price (a live
        # catalogue's models differ in price); a model a provider refused as gone is left off
        # until it may be back, and a server's admins may narrow the list (/limits models).
        providers = self.bot.providers
        access = await self.bot.spending.access(interaction.guild_id or 0)
        return model_choices(providers.offers(), current, access.models, named=len(providers) > 1)

    def _route(self, interaction: Interaction) -> Route:
        """Where the model chosen so far goes (the default's, while none or a typo is there)."""
        providers = self.bot.providers
        try:
            return providers.route(getattr(interaction.namespace, "model", None) or None)
        except InvalidParameterError:
            return providers.route(None)

    @video.autocomplete("size")
    async def _sizes(self, interaction: Interaction, current: str) -> Choices:
        route = self._route(interaction)
        return _choices(route.backend.profile.sizes_for(route.model), current)

    @video.autocomplete("seconds")
    async def _seconds(self, interaction: Interaction, current: str) -> Choices:
        # A live catalogue's models each take their own durations.
        route = self._route(interaction)
        return _choices(route.backend.profile.seconds_for(route.model), current)

    @extend.autocomplete("seconds")
    async def _extend_seconds(self, interaction: Interaction, current: str) -> Choices:
        # The lengths of the provider that made the video, once one is chosen.
        backend = self.bot.api
        ref = getattr(interaction.namespace, "video", None)
        # Not a video they may see, or one from a provider gone: the first provider's lengths.
        with contextlib.suppress(UserError, ProviderRemoved):
            if ref:
                row = await self.bot.jobs.visible(ref, interaction.user.id, interaction.guild_id)
                backend = self.bot.jobs.provider_of(row)
        return _choices(backend.profile.extend_seconds, current)

    @remix.autocomplete("video")
    @extend.autocomplete("video")
    @edit.autocomplete("video")
    async def _videos(self, interaction: Interaction, current: str) -> Choices:
        return await video_choices(
            self.bot.videos, interaction.user.id, interaction.guild_id, current, status="completed"
        )


async def setup(bot: VideoBot) -> None:
    await bot.add_cog(Generate(bot))
