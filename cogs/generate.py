"""/video, /remix, /extend and /edit: validate, check scope and the user's slots, start the job."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import TooManyJobs, UserError, VideoNotFound, VideoNotReady
from bot.images import check_attachment, fit_reference
from bot.storage import VideoKind, VideoRow
from bot.ui.card import Lineage, status_card
from bot.videoapi.errors import UnsupportedOperationError, VideoAPIError
from bot.videoapi.models import Operation, Upload, Video
from bot.videoapi.profile import check_prompt

if TYPE_CHECKING:
    from bot.app import VideoBot

Interaction = discord.Interaction["VideoBot"]
Choices = list[app_commands.Choice[str]]
LABEL_MAX = 100


def _choices(values: tuple[str, ...], current: str) -> Choices:
    return [app_commands.Choice(name=v, value=v) for v in values if current.lower() in v.lower()][
        :25
    ]


def _label(row: VideoRow) -> str:
    suffix = f" · {row.status.replace('_', ' ')} · {row.seconds}s"
    room = LABEL_MAX - len(suffix)
    prompt = " ".join(row.prompt.split())
    excerpt = prompt if len(prompt) <= room else prompt[: room - 1] + "…"
    return excerpt + suffix


class Generate(commands.Cog):
    def __init__(self, bot: VideoBot) -> None:
        self.bot = bot
        # Counting a user's jobs and starting one must not interleave, or two clicks beat the limit.
        self._slots: defaultdict[int, asyncio.Lock] = defaultdict(asyncio.Lock)

    @app_commands.command(name="video", description="Generate a video from a prompt")
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
        profile = self.bot.api.profile
        text = check_prompt(prompt)
        chosen_model = profile.check_model(model)
        chosen_size = profile.check_size(chosen_model, size)
        chosen_seconds = profile.check_seconds(chosen_model, seconds)
        self._require(Operation.CREATE)
        if image is not None:
            check_attachment(image.content_type, image.size)

        async def call() -> Video:
            reference = None
            if image is not None:
                data = await image.read()
                fitted = await asyncio.to_thread(fit_reference, data, chosen_size)
                reference = Upload("reference.png", "image/png", fitted)
            return await self.bot.api.create(
                text,
                model=chosen_model,
                size=chosen_size,
                seconds=chosen_seconds,
                input_reference=reference,
            )

        cost = profile.cost(chosen_model, chosen_seconds)
        await self._start(interaction, "create", text, None, cost, call)

    @app_commands.command(name="remix", description="Remix a finished video with a new prompt")
    @app_commands.describe(video="The video to remix", prompt="What to change")
    async def remix(self, interaction: Interaction, video: str, prompt: str) -> None:
        text = check_prompt(prompt)
        parent = await self._parent(interaction, video, Operation.REMIX)
        cost = self.bot.api.profile.cost(parent.model, parent.seconds)
        await self._start(
            interaction, "remix", text, parent, cost, lambda: self.bot.api.remix(parent.id, text)
        )

    @app_commands.command(name="extend", description="Continue a finished video")
    @app_commands.describe(
        video="The video to extend", prompt="What happens next", seconds="How much longer"
    )
    async def extend(self, interaction: Interaction, video: str, prompt: str, seconds: str) -> None:
        text = check_prompt(prompt)
        parent = await self._parent(interaction, video, Operation.EXTEND)
        added = self.bot.api.profile.check_seconds(parent.model, seconds, extend=True)
        cost = self.bot.api.profile.cost(parent.model, added)
        await self._start(
            interaction,
            "extend",
            text,
            parent,
            cost,
            lambda: self.bot.api.extend(parent.id, text, added),
        )

    @app_commands.command(name="edit", description="Edit a finished video with a prompt")
    @app_commands.describe(video="The video to edit", prompt="What to change")
    async def edit(self, interaction: Interaction, video: str, prompt: str) -> None:
        text = check_prompt(prompt)
        parent = await self._parent(interaction, video, Operation.EDIT)
        cost = self.bot.api.profile.cost(parent.model, parent.seconds)
        await self._start(
            interaction, "edit", text, parent, cost, lambda: self.bot.api.edit(parent.id, text)
        )

    @video.autocomplete("model")
    async def _models(self, interaction: Interaction, current: str) -> Choices:
        return _choices(self.bot.api.profile.models, current)

    @video.autocomplete("size")
    async def _sizes(self, interaction: Interaction, current: str) -> Choices:
        model = getattr(interaction.namespace, "model", None) or self.bot.api.profile.default_model
        return _choices(self.bot.api.profile.sizes_for(model), current)

    @video.autocomplete("seconds")
    async def _seconds(self, interaction: Interaction, current: str) -> Choices:
        return _choices(self.bot.api.profile.seconds, current)

    @extend.autocomplete("seconds")
    async def _extend_seconds(self, interaction: Interaction, current: str) -> Choices:
        return _choices(self.bot.api.profile.extend_seconds, current)

    @remix.autocomplete("video")
    @extend.autocomplete("video")
    @edit.autocomplete("video")
    async def _videos(self, interaction: Interaction, current: str) -> Choices:
        rows = await self.bot.videos.list_visible(
            interaction.user.id, interaction.guild_id, status="completed", text=current or None
        )
        return [app_commands.Choice(name=_label(row), value=row.id) for row in rows]

    def _require(self, operation: Operation) -> None:
        if self.bot.api.supports(operation) is False:
            raise UnsupportedOperationError(operation)

    async def _parent(self, interaction: Interaction, video_id: str, op: Operation) -> VideoRow:
        """The video to build on: visible to the caller here, completed, and supported."""
        row = await self.bot.videos.visible(
            video_id.strip(), interaction.user.id, interaction.guild_id
        )
        if row is None:
            raise VideoNotFound()
        if row.status == "failed":
            raise VideoNotReady("That video failed, so there is nothing to build on.")
        if row.status != "completed":
            raise VideoNotReady("That video is not finished yet; try again when it is done.")
        self._require(op)
        return row

    async def _start(
        self,
        interaction: Interaction,
        kind: VideoKind,
        prompt: str,
        parent: VideoRow | None,
        cost: float,
        call: Callable[[], Awaitable[Video]],
    ) -> None:
        user = interaction.user
        limit = self.bot.settings.max_concurrent_jobs_per_user
        async with self._slots[user.id]:
            running = await self.bot.videos.count_unfinished_for_owner(user.id)
            if running >= limit:
                raise TooManyJobs(
                    f"You already have {running} videos in progress (the limit is {limit}). "
                    "A slot frees as soon as one of them finishes."
                )
            # Answer at once; the provider may take a while to accept the job.
            await interaction.response.defer(thinking=True)
            try:
                video = await call()
            except (VideoAPIError, UserError):
                await interaction.delete_original_response()
                raise
            row = await self.bot.videos.insert(
                video,
                owner_id=user.id,
                guild_id=interaction.guild_id,
                channel_id=interaction.channel_id or 0,
                kind=kind,
                prompt=prompt,
                parent_id=parent.id if parent else None,
                cost=cost,
            )
        lineage = Lineage(parent.id, parent.prompt, parent.owner_id) if parent else None
        message = await interaction.edit_original_response(embed=status_card(row, lineage))
        await self.bot.videos.set_status_message(row.id, message.channel.id, message.id)
        row = await self.bot.videos.get(row.id) or row
        self.bot.delivery.posted(row, interaction)
        await self.bot.tracker.track(row.id)


async def setup(bot: VideoBot) -> None:
    await bot.add_cog(Generate(bot))
