"""Starting and deleting jobs: one path for slash commands, buttons, forms and reactions.

A job's row is written before the billable call goes out (write-ahead) and completed with the
provider's answer. When that answer is lost (a 5xx, a timeout, a crash), the provider's newest
videos are searched for the job before anyone is told anything; only when it is not there does
the card offer a Retry button, which starts a new (billable) job.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Final, Literal

import discord

from bot.delivery import CardPoster, Delivery
from bot.errors import TooManyJobs, UserError, VideoNotFound, VideoNotReady
from bot.reconcile import find_created
from bot.storage import VideoKind, VideoRepository, VideoRow
from bot.storage.videos import NOT_CONFIRMED
from bot.tracker import Tracker
from bot.ui.card import Lineage
from bot.videoapi.client import VideoClient
from bot.videoapi.errors import (
    APIConnectionError,
    InternalServerError,
    NotFoundError,
    UnsupportedOperationError,
    VideoAPIError,
)
from bot.videoapi.models import Operation, Upload, Video
from bot.videoapi.profile import check_prompt

log = logging.getLogger(__name__)

DerivedKind = Literal["remix", "extend", "edit"]
OPERATIONS: Final[dict[DerivedKind, Operation]] = {
    "remix": Operation.REMIX,
    "extend": Operation.EXTEND,
    "edit": Operation.EDIT,
}
# The call went out and no answer came back: the provider may or may not have made the job.
LOST_ANSWERS: Final = (InternalServerError, APIConnectionError)
NOT_CONFIRMED_TEXT: Final = (
    "The provider did not answer when asked to make this video, and it is not among its videos."
)

# Reads the reference image, fitted to the video's size, when the call goes out.
ImageLoader = Callable[[str], Awaitable[Upload]]


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
    with_image: bool = False


def _too_many(running: int, limit: int) -> TooManyJobs:
    return TooManyJobs(
        f"You already have {running} videos in progress (the limit is {limit}). "
        "A slot frees as soon as one of them finishes."
    )


def may_delete(
    row: VideoRow, user_id: int, guild_id: int | None, perms: discord.Permissions
) -> bool:
    """The owner, or a member who may manage messages in the guild where the video was made."""
    if row.owner_id == user_id:
        return True
    return row.guild_id is not None and row.guild_id == guild_id and perms.manage_messages


class Jobs:
    def __init__(
        self,
        api: VideoClient,
        videos: VideoRepository,
        tracker: Tracker,
        delivery: Delivery,
        *,
        max_per_user: int,
        reconcile_wait: float = 2.0,
    ) -> None:
        self._api = api
        self._videos = videos
        self._tracker = tracker
        self._delivery = delivery
        self._max_per_user = max_per_user
        self._reconcile_wait = reconcile_wait
        # Counting a user's jobs and writing a new one must not interleave, or two clicks beat
        # the limit; once written, the row itself holds the slot.
        self._slots: defaultdict[int, asyncio.Lock] = defaultdict(asyncio.Lock)

    def require(self, operation: Operation) -> None:
        if self._api.supports(operation) is False:
            raise UnsupportedOperationError(operation)

    async def visible(self, ref: str, user_id: int, guild_id: int | None) -> VideoRow:
        """The video named by `ref` (`#key` or a provider's id) if the caller may see it here."""
        row = await self._videos.visible(ref.strip(), user_id, guild_id)
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

    def downloadable(self, row: VideoRow) -> VideoRow:
        """`row`, if it has files to download (checked before anything is asked of anyone)."""
        if row.status != "completed":
            raise VideoNotReady("That video has no files: it is not finished.")
        if row.expires_at is not None and row.expires_at < time.time():
            raise UserError("The provider's files for this video have expired.")
        self.require(Operation.DOWNLOAD)
        return row

    def created(
        self,
        prompt: str,
        *,
        model: str | None,
        size: str | None,
        seconds: str | None,
        owner_id: int,
        guild_id: int | None,
        channel_id: int,
        image: ImageLoader | None = None,
    ) -> JobRequest:
        """A new video from a prompt (and a reference image), validated and priced."""
        profile = self._api.profile
        text = check_prompt(prompt)
        chosen_model = profile.check_model(model)
        chosen_size = profile.check_size(chosen_model, size)
        chosen_seconds = profile.check_seconds(chosen_model, seconds)
        self.require(Operation.CREATE)

        async def call() -> Video:
            reference = await image(chosen_size) if image is not None else None
            return await self._api.create(
                text,
                model=chosen_model,
                size=chosen_size,
                seconds=chosen_seconds,
                input_reference=reference,
            )

        return JobRequest(
            owner_id,
            guild_id,
            channel_id,
            "create",
            text,
            None,
            profile.cost(chosen_model, chosen_seconds),
            call,
            model=chosen_model,
            size=chosen_size,
            seconds=chosen_seconds,
            with_image=image is not None,
        )

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
        api = self._api
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
        owner, limit = request.owner_id, self._max_per_user
        # The tracker's count answers at once and privately in the usual case...
        if self._tracker.unfinished_for(owner) >= limit:
            raise _too_many(self._tracker.unfinished_for(owner), limit)
        # ...then answer: under a burst the database's count waits its turn for the connection,
        # and it is the one that decides (jobs just started are not tracked yet).
        await poster.begin()
        async with self._slots[owner]:
            running = await self._videos.count_unfinished_for_owner(owner)
            if running >= limit:
                await poster.abort()
                raise _too_many(running, limit)
            row = await self._videos.begin_submit(
                owner_id=owner,
                guild_id=request.guild_id,
                channel_id=request.channel_id,
                kind=request.kind,
                prompt=request.prompt,
                model=request.model,
                size=request.size,
                seconds=request.seconds,
                parent_id=request.parent.id if request.parent else None,
                cost=request.cost,
                with_image=request.with_image,
            )
        try:
            video: Video | None = await request.call()
        except LOST_ANSWERS as exc:
            log.warning("creating %s got no answer (%s); looking for it", row.ref, exc)
            video = await self._find_after_a_moment(row)
        except (VideoAPIError, UserError):
            # Refused: nothing was made, so nothing is kept.
            await self._videos.abandon(row.key)
            await poster.abort()
            raise
        lineage = Lineage.of(request.parent) if request.parent else None
        if video is None:
            failed = await self._videos.unconfirmed(row.key, NOT_CONFIRMED, NOT_CONFIRMED_TEXT)
            return await self._delivery.post_first(failed or row, poster, lineage)
        confirmed = await self._videos.confirm(row.key, video) or row
        # Followed before its card is posted: a card Discord refuses loses nothing.
        await self._tracker.track(confirmed.id)
        return await self._delivery.post_first(confirmed, poster, lineage)

    async def retry(
        self, row: VideoRow, user_id: int, channel_id: int, poster: CardPoster
    ) -> VideoRow:
        """Start again a job whose first call got no answer and which the provider lacks."""
        if row.owner_id != user_id:
            raise UserError("Only whoever asked for this video can retry it.")
        if row.error_code != NOT_CONFIRMED:
            raise UserError("That video was retried already, or never needed it.")
        if row.with_image:
            raise UserError("It was made from an image, which I don't keep: run /video again.")
        request = await self._request_for(row, channel_id)
        if not await self._videos.claim_retry(row.key):
            raise UserError("That video was retried already.")
        try:
            return await self.start(request, poster)
        except BaseException:
            await self._videos.release_retry(row.key)
            raise

    async def recover(self) -> None:
        """On start: every job whose billable call was out when the bot stopped is found at
        the provider and followed, or ends failed with a Retry button for its owner."""
        for row in await self._videos.submitting():
            video = await find_created(self._api, row, self._videos.known_ids)
            if video is not None:
                log.info("found %s at the provider after a restart", row.ref)
                await self._videos.confirm(row.key, video)
            else:
                await self._videos.unconfirmed(row.key, NOT_CONFIRMED, NOT_CONFIRMED_TEXT)

    async def delete(self, row: VideoRow, actor_id: int) -> None:
        """Delete upstream, hide the row, and turn the card into a tombstone without buttons."""
        if not row.finished:
            raise VideoNotReady("That video is still being made; delete it once it is done.")
        if row.at_provider:
            # Gone already is as good as deleted. A provider that cannot delete says so to the
            # user (UnsupportedOperationError): hiding a video it still serves would mislead.
            with contextlib.suppress(NotFoundError):
                await self._api.delete(row.id)
        if await self._videos.mark_deleted(row.id):
            await self._delivery.tombstone(row, actor_id)

    async def _find_after_a_moment(self, row: VideoRow) -> Video | None:
        # A provider lists a job it accepted a moment after; asking at once would miss it.
        await asyncio.sleep(self._reconcile_wait)
        return await find_created(self._api, row, self._videos.known_ids)

    async def _request_for(self, row: VideoRow, channel_id: int) -> JobRequest:
        """The request that made `row`, to send again."""
        owner, guild = row.owner_id, row.guild_id
        if row.kind == "create":
            return self.created(
                row.prompt,
                model=row.model,
                size=row.size,
                seconds=row.seconds,
                owner_id=owner,
                guild_id=guild,
                channel_id=channel_id,
            )
        parent = await self._videos.get(row.parent_id) if row.parent_id else None
        if parent is None or parent.deleted_at is not None or parent.status != "completed":
            raise UserError("The video it was made from is gone, so it cannot be made again.")
        self.require(OPERATIONS[row.kind])
        added = None
        if row.kind == "extend":
            # Stored is the stitched total; what was added is the rest.
            stitched = row.seconds.isdigit() and parent.seconds.isdigit()
            added = str(int(row.seconds) - int(parent.seconds)) if stitched else row.seconds
        return self.derived(
            row.kind,
            parent,
            row.prompt,
            owner_id=owner,
            guild_id=guild,
            channel_id=channel_id,
            seconds=added,
        )
