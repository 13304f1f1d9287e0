"""A finished job's files as Discord will take them.

The MP4 when it fits the upload limit; re-encoded to fit when it does not; only when even that
cannot fit, the thumbnail with the sizes that explain why. Cards, `/videos download` and the
Thumbnail and Spritesheet buttons all go through here.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import discord

from bot.assets import Assets, file_name
from bot.errors import UserError
from bot.reencode import CannotFit
from bot.storage import VideoRow
from bot.videoapi.errors import NotFoundError
from bot.videoapi.models import ContentVariant

log = logging.getLogger(__name__)

MIB: Final = 1024 * 1024
# Discord raised the default upload limit for bots to 20 MiB in September 2026
# (discord-api-docs #8578); discord.py 2.7.1's Guild.filesize_limit still says 10 MiB for
# tiers 0 and 1, so a guild's own figure counts only where it is higher.
BOT_UPLOAD_LIMIT: Final = 20 * MIB
# Discord's reported limit can be a little above what it accepts once the request is framed.
UPLOAD_MARGIN: Final = 0.95
GONE: Final = "The provider no longer has this video's files."


# Re-encodes `source` into `dest` under `limit` bytes (in a worker thread), or raises CannotFit.
Fit = Callable[[Path, Path, int], Awaitable[object]]


class Expired(Exception):
    """The provider no longer has the video's files."""


class Undeliverable(Exception):
    """A result no retry can post (not a video, over every size cap): the card says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def upload_limit(interaction_limit: int | None, guild: discord.Guild | None) -> int:
    """The largest upload Discord takes here, before the safety margin.

    The interaction's `attachment_size_limit` when there is one; else the guild's, at least
    the bots' default.
    """
    if interaction_limit:
        return interaction_limit
    if guild is not None:
        return max(guild.filesize_limit, BOT_UPLOAD_LIMIT)
    return BOT_UPLOAD_LIMIT


def size_text(size: int) -> str:
    """A file size as people read it: "12.0 MiB", "10 MiB", "48.8 KiB"."""
    if size >= MIB:
        text = f"{size / MIB:.1f}"
        return f"{text.removesuffix('.0') if size % MIB == 0 else text} MiB"
    return f"{size / 1024:.1f} KiB"


@dataclass(frozen=True, slots=True)
class Upload:
    """A file to attach, by path: a discord.File can be sent only once."""

    path: Path
    filename: str

    @property
    def size(self) -> int:
        return self.path.stat().st_size

    @property
    def is_video(self) -> bool:
        return self.filename.endswith(".mp4")

    def open(self) -> discord.File:
        return discord.File(self.path, filename=self.filename)


class ResultFiles:
    def __init__(self, assets: Assets, fit: Fit) -> None:
        self._assets = assets
        self._fit = fit

    async def for_card(
        self, row: VideoRow, folder: Path, limit: int
    ) -> tuple[list[Upload], str | None]:
        """What a result card carries, and a note when it is not the MP4 as made."""
        if row.status != "completed":
            return [], None
        video = await self._fetch(row, "video", folder)
        fitted = await self.fitted(video, row, int(limit * UPLOAD_MARGIN))
        if fitted is not None:
            return [fitted], None
        return await self.thumbnail_instead(row, video, limit)

    async def asset(
        self, row: VideoRow, variant: ContentVariant, folder: Path, limit: int
    ) -> Upload:
        """One file for `/videos download` and the buttons; the video fitted to the limit."""
        upload = await self._fetch(row, variant, folder)
        if variant != "video":
            return upload
        fitted = await self.fitted(upload, row, int(limit * UPLOAD_MARGIN))
        if fitted is None:
            raise UserError(
                f"The video is {size_text(upload.size)}, and even re-encoded it would not fit "
                f"the {size_text(limit)} upload limit here. Try the thumbnail instead."
            )
        return fitted

    async def fitted(self, video: Upload, row: VideoRow, budget: int) -> Upload | None:
        """The MP4 as it is under `budget` bytes, else re-encoded under it; None if it can't."""
        if video.size <= budget:
            return video
        dest = video.path.with_name(f"fitted-{video.filename}")
        try:
            done = await self._fit(video.path, dest, budget)
        except CannotFit as exc:
            log.info("the video of %s cannot fit %d bytes: %s", row.ref, budget, exc)
            return None
        log.info("re-encoded the video of %s to fit %d bytes: %s", row.ref, budget, done)
        return Upload(dest, video.filename)

    async def thumbnail_instead(
        self, row: VideoRow, video: Upload, limit: int
    ) -> tuple[list[Upload], str | None]:
        thumb = await self._fetch(row, "thumbnail", video.path.parent, source=video.path)
        note = (
            f"The video is {size_text(video.size)}, and even re-encoded it would not fit the "
            f"{size_text(limit)} upload limit here, so this is its thumbnail."
        )
        return [thumb], note

    async def _fetch(
        self, row: VideoRow, variant: ContentVariant, folder: Path, source: Path | None = None
    ) -> Upload:
        name = file_name(row.key, variant)
        try:
            await self._assets.fetch(row.id, variant, folder / name, source=source)
        except NotFoundError:
            raise Expired(GONE) from None
        return Upload(folder / name, name)
