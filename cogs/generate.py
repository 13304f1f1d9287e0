"""/video, /remix, /extend and /edit: validate every input, then start the job through Jobs."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.delivery import InteractionPoster
from bot.errors import UserError
from bot.interactions.forms import create_form, start_create
from bot.interactions.requires import requires
from bot.interactions.who import asker_of
from bot.jobs.requests import OPERATIONS, DerivedKind
from bot.spending.money import micros
from bot.ui.choices import model_label, video_choices
from bot.videoapi.models import Operation
from bot.videoapi.profile import check_prompt

if TYPE_CHECKING:
    from bot.app import VideoBot

    Interaction = discord.Interaction[VideoBot]

Choices = list[app_commands.Choice[str]]


def _choices(values: tuple[str, ...], current: str) -> Choices:
    wanted = current.lower().strip()
    return [app_commands.Choice(name=v, value=v) for v in values if wanted in v.lower()][:25]


class Generate(commands.Cog):
    def __init__(self, bot: VideoBot) -> None:
        self.bot = bot

    @app_commands.command(
        name="video",
        description="Generate a video from a prompt",
        extras=requires(Operation.CREATE),
    )
    @app_commands.describe(
        prompt="What the video shows (leave it out for a form, with an image upload)",
        model="Which model makes it",
        seconds="How long it is",
        size="Width x height",
        image="A reference image (PNG, JPEG or WebP) for the first frame",
    )
    async def video(
        self,
        interaction: Interaction,
        prompt: str | None = None,
        model: str | None = None,
        seconds: str | None = None,
        size: str | None = None,
        image: discord.Attachment | None = None,
    ) -> None:
        if prompt is None:
            # The form asks for the image itself: one given here would be lost on the way.
            if image is not None:
                raise UserError("Give a prompt with the image, or leave both out for the form.")
            self.bot.jobs.require(Operation.CREATE)
            form = create_form(self.bot.api, model=model, size=size, seconds=seconds)
            await interaction.response.send_modal(form)
            return
        await start_create(
            self.bot.jobs, interaction, prompt, model=model, size=size, seconds=seconds, image=image
        )

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
        # Each with its price, which a live catalogue's models differ in; a model the provider
        # refused as gone is left off until it may be back.
        profile = self.bot.api.profile
        offered = self.bot.api.capabilities.available(profile.models)
        return [
            app_commands.Choice(
                name=model_label(choice.value, micros(profile.price_for(choice.value))),
                value=choice.value,
            )
            for choice in _choices(offered, current)
        ]

    @video.autocomplete("size")
    async def _sizes(self, interaction: Interaction, current: str) -> Choices:
        model = getattr(interaction.namespace, "model", None) or self.bot.api.profile.default_model
        return _choices(self.bot.api.profile.sizes_for(model), current)

    @video.autocomplete("seconds")
    async def _seconds(self, interaction: Interaction, current: str) -> Choices:
        # A live catalogue's models each take their own durations.
        model = getattr(interaction.namespace, "model", None) or self.bot.api.profile.default_model
        return _choices(self.bot.api.profile.seconds_for(model), current)

    @extend.autocomplete("seconds")
    async def _extend_seconds(self, interaction: Interaction, current: str) -> Choices:
        return _choices(self.bot.api.profile.extend_seconds, current)

    @remix.autocomplete("video")
    @extend.autocomplete("video")
    @edit.autocomplete("video")
    async def _videos(self, interaction: Interaction, current: str) -> Choices:
        return await video_choices(
            self.bot.videos, interaction.user.id, interaction.guild_id, current, status="completed"
        )


async def setup(bot: VideoBot) -> None:
    await bot.add_cog(Generate(bot))
