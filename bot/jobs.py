"""Starting and deleting jobs: one path for slash commands, buttons, modals and reactions."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

import discord
from discord import app_commands

from bot.assets import file_name
from bot.errors import TooManyJobs, UserError, VideoNotFound, VideoNotReady
from bot.storage import VideoKind, VideoRow
from bot.ui.card import Lineage, deleted_card, status_card
from bot.videoapi.errors import NotFoundError, UnsupportedOperationError, VideoAPIError
from bot.videoapi.models import ContentVariant, Operation, Video, VideoStatus
from bot.videoapi.profile import check_prompt

if TYPE_CHECKING:
    from bot.app import VideoBot

log = logging.getLogger(__name__)


class CardPoster(Protocol):
    """Where a new job's card appears: an interaction's response, or a reply in a channel."""

    interaction: discord.Interaction[Any] | None

    async def begin(self) -> None: ...
    async def abort(self) -> None: ...
    async def show(self, embed: discord.Embed) -> discord.Message: ...


class InteractionPoster:
    def __init__(self, interaction: discord.Interaction[Any]) -> None:
        self.interaction: discord.Interaction[Any] | None = interaction
        self._interaction = interaction

    async def begin(self) -> None:
        # Answer at once; the provider may take a while to accept the job.
        await self._interaction.response.defer(thinking=True)

    async def abort(self) -> None:
        await self._interaction.delete_original_response()

    async def show(self, embed: discord.Embed) -> discord.Message:
        return await self._interaction.edit_original_response(embed=embed)


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

    async def show(self, embed: discord.Embed) -> discord.Message:
        reference = self._channel.get_partial_message(self._reply_to).to_reference(
            fail_if_not_exists=False
        )
        return await self._channel.send(
            content=f"<@{self._user_id}> extends this video.",
            embed=embed,
            reference=reference,
            allowed_mentions=discord.AllowedMentions(users=[discord.Object(self._user_id)]),
        )


DerivedKind = Literal["remix", "extend", "edit"]
OPERATIONS: dict[DerivedKind, Operation] = {
    "remix": Operation.REMIX,
    "extend": Operation.EXTEND,
    "edit": Operation.EDIT,
}


@dataclass(frozen=True, slots=True)
class JobRequest:
    owner_id: int
    guild_id: int | None
    channel_id: int
    kind: VideoKind
    prompt: str
    parent: VideoRow | None
    cost: float
    call: Callable[[], Awaitable[Video]]
    # What the job will be, for providers whose answer leaves it out.
    model: str
    size: str
    seconds: str


LABEL_MAX = 100


def _too_many(running: int, limit: int) -> TooManyJobs:
    return TooManyJobs(
        f"You already have {running} videos in progress (the limit is {limit}). "
        "A slot frees as soon as one of them finishes."
    )


def choice_label(row: VideoRow) -> str:
    """An autocomplete label: the prompt's start, then status and length."""
    suffix = f" · {row.status.replace('_', ' ')} · {row.seconds}s"
    room = LABEL_MAX - len(suffix)
    prompt = " ".join(row.prompt.split())
    excerpt = prompt if len(prompt) <= room else prompt[: room - 1] + "…"
    return excerpt + suffix


async def video_choices(
    bot: VideoBot,
    interaction: discord.Interaction[Any],
    current: str,
    *,
    status: VideoStatus | None,
) -> list[app_commands.Choice[str]]:
    """The videos the caller may see here, for a `video` option."""
    rows = await bot.videos.list_visible(
        interaction.user.id, interaction.guild_id, status=status, text=current.strip() or None
    )
    return [app_commands.Choice(name=choice_label(row), value=row.ref) for row in rows]


def may_delete(
    row: VideoRow, user_id: int, guild_id: int | None, perms: discord.Permissions
) -> bool:
    """The owner, or a member who may manage messages in the guild where the video was made."""
    if row.owner_id == user_id:
        return True
    return row.guild_id is not None and row.guild_id == guild_id and perms.manage_messages


class Jobs:
    def __init__(self, bot: VideoBot) -> None:
        self._bot = bot
        # Counting a user's jobs and starting one must not interleave, or two clicks beat the limit.
        self._slots: defaultdict[int, asyncio.Lock] = defaultdict(asyncio.Lock)

    def require(self, operation: Operation) -> None:
        if self._bot.api.supports(operation) is False:
            raise UnsupportedOperationError(operation)

    async def visible(self, ref: str, user_id: int, guild_id: int | None) -> VideoRow:
        """The video named by `ref` (`#key` or a provider's id) if the caller may see it here."""
        row = await self._bot.videos.visible(ref.strip(), user_id, guild_id)
        if row is None:
            raise VideoNotFound()
        return row

    async def parent(
        self, ref: str, user_id: int, guild_id: int | None, operation: Operation
    ) -> VideoRow:
        """The video to build on: visible to the caller here, completed, and supported."""
        row = await self.visible(ref, user_id, guild_id)
        if row.status == "failed":
            raise VideoNotReady("That video failed, so there is nothing to build on.")
        if row.status != "completed":
            raise VideoNotReady("That video is not finished yet; try again when it is done.")
        self.require(operation)
        return row

    def derived(
        self,
        kind: DerivedKind,
        parent: VideoRow,
        prompt: str,
        *,
        owner_id: int,
        guild_id: int | None,
        channel_id: int,
        seconds: str | None = None,
    ) -> JobRequest:
        """A remix, extension or edit of `parent`, validated and priced, ready to start."""
        api = self._bot.api
        text = check_prompt(prompt)
        call: Callable[[], Awaitable[Video]]
        total = parent.seconds
        if kind == "extend":
            added = api.profile.check_seconds(parent.model, seconds, extend=True)
            cost = api.profile.cost(parent.model, added)
            call = functools.partial(api.extend, parent.id, text, added)
            # An extension is the source and the new segment stitched together.
            total = str(int(parent.seconds) + int(added)) if parent.seconds.isdigit() else added
        else:
            cost = api.profile.cost(parent.model, parent.seconds)
            method = api.remix if kind == "remix" else api.edit
            call = functools.partial(method, parent.id, text)
        return JobRequest(
            owner_id,
            guild_id,
            channel_id,
            kind,
            text,
            parent,
            cost,
            call,
            model=parent.model,
            size=parent.size,
            seconds=total,
        )

    async def start(self, request: JobRequest, poster: CardPoster) -> VideoRow:
        bot = self._bot
        limit = bot.settings.max_concurrent_jobs_per_user
        # The tracker's count answers at once and privately in the usual case...
        if bot.tracker.unfinished_for(request.owner_id) >= limit:
            raise _too_many(bot.tracker.unfinished_for(request.owner_id), limit)
        # ...then answer: under a burst the database's count waits its turn for the connection,
        # and it is the one that decides (jobs just started are not tracked yet).
        await poster.begin()
        async with self._slots[request.owner_id]:
            running = await bot.videos.count_unfinished_for_owner(request.owner_id)
            if running >= limit:
                await poster.abort()
                raise _too_many(running, limit)
            try:
                video = await request.call()
            except (VideoAPIError, UserError):
                await poster.abort()
                raise
            parent = request.parent
            row = await bot.videos.insert(
                video,
                owner_id=request.owner_id,
                guild_id=request.guild_id,
                channel_id=request.channel_id,
                kind=request.kind,
                prompt=request.prompt,
                model=request.model,
                size=request.size,
                seconds=request.seconds,
                parent_id=parent.id if parent else None,
                cost=request.cost,
            )
        lineage = Lineage.of(parent) if parent else None
        message = await poster.show(status_card(row, lineage))
        await bot.videos.set_status_message(row.id, message.channel.id, message.id)
        row = await bot.videos.get(row.id) or row
        bot.delivery.posted(row, poster.interaction)
        await bot.tracker.track(row.id)
        return row

    async def delete(self, row: VideoRow, actor_id: int) -> None:
        """Delete upstream, hide the row, and turn the card into a tombstone without buttons."""
        if not row.finished:
            raise VideoNotReady("That video is still being made; delete it once it is done.")
        # Gone already is as good as deleted. A provider that cannot delete says so to the
        # user (UnsupportedOperationError): hiding a video it still serves would mislead.
        with contextlib.suppress(NotFoundError):
            await self._bot.api.delete(row.id)
        if not await self._bot.videos.mark_deleted(row.id):
            return
        if row.status_message_id is None:
            return
        channel = self._bot.get_partial_messageable(row.channel_id, guild_id=row.guild_id)
        try:
            await channel.get_partial_message(row.status_message_id).edit(
                content=None, embed=deleted_card(row, actor_id), attachments=[], view=None
            )
        except discord.HTTPException:
            log.warning("could not mark the card of %s deleted", row.id, exc_info=True)

    async def download(self, row: VideoRow, variant: ContentVariant, folder: Path) -> discord.File:
        """One of a video's files, streamed to `folder`; a clear error once it has expired."""
        if row.status != "completed":
            raise VideoNotReady("That video has no files: it is not finished.")
        if row.expires_at is not None and row.expires_at < time.time():
            raise UserError("The provider's files for this video have expired.")
        name = file_name(row.key, variant)
        self.require(Operation.DOWNLOAD)
        try:
            path = await self._bot.assets.fetch(row.id, variant, folder / name)
        except NotFoundError:
            raise UserError("The provider's files for this video have expired.") from None
        return discord.File(path, filename=name)
