"""A finished job's files as Discord will take them.

The MP4 when it fits the upload limit; re-encoded to fit when it does not; only when even that
cannot fit, the thumbnail with the sizes that explain why. Cards, `/videos download` and the
Thumbnail and Spritesheet buttons all go through here. A re-encode (or the finding that none
fits) is kept per (video, limit), and a still per (video, variant), so asking again costs neither
a download nor a decode; asked twice at once, each is made once. What can never be posted (not
a video, no still to be made of it) is `Undeliverable` for a card and a plain answer for a member.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import io
import logging
import os
import shutil
import tempfile
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import discord

from bot.errors import UserError
from bot.media.assets import SUFFIXES, Assets, file_name
from bot.media.frames import FrameError
from bot.media.pool import MediaFailed, for_member
from bot.media.reencode import CannotFit
from bot.storage import VideoRow
from bot.ui.text import size_text
from bot.videoapi.errors import NotFoundError
from bot.videoapi.models import ContentVariant, Upload
from bot.videoapi.providers import ProviderRemoved

log = logging.getLogger(__name__)

MIB: Final = 1024 * 1024
# Discord raised the default upload limit for bots to 20 MiB in September 2026
# (discord-api-docs #8578); discord.py 2.7.1's Guild.filesize_limit still says 10 MiB for
# tiers 0 and 1, so a guild's own figure counts only where it is higher.
BOT_UPLOAD_LIMIT: Final = 20 * MIB
# Discord's reported limit can be a little above what it accepts once the request is framed.
UPLOAD_MARGIN: Final = 0.95
GONE: Final = "The provider no longer has this video's files."
# Re-encodes kept for asking again: a few cards' worth at Discord's default limit.
FITTED_CACHE_BYTES: Final = 256 * MIB
# Findings that a video cannot fit a limit, kept alongside (they cost no disk).
FITTED_CACHE_ENTRIES: Final = 256


# Re-encodes `source` into `dest` under `limit` bytes (in the media pool), or raises CannotFit
# (or MediaFailed: out of time or memory).
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


def discord_file(upload: Upload) -> discord.File:
    """A fresh attachment of the file: discord.py closes a File once it is sent."""
    data = upload.data if isinstance(upload.data, Path) else io.BytesIO(upload.data)
    return discord.File(data, filename=upload.filename)


def _upload(path: Path, filename: str, variant: ContentVariant) -> Upload:
    """A file of a video written here: the MP4, or a still (a WebP image)."""
    kind = "video" if variant == "video" else "image"
    return Upload(filename, f"{kind}/{SUFFIXES[variant]}", path)


def _on_disk(upload: Upload) -> Path:
    """Where one of the files made here is: each is written to disk before it is handed out."""
    if isinstance(upload.data, Path):
        return upload.data
    raise TypeError(f"{upload.filename} is in memory, not a file of ours")


# (video key, upload budget) for a fitted MP4; (video key, variant) for a still.
CacheKey = tuple[int, int | ContentVariant]


@dataclass(frozen=True, slots=True)
class _Fitted:
    """A video fitted to one limit (the re-encode in the cache, or why none fits), or a still."""

    size: int  # the MP4's (or the still's) own size
    path: Path | None  # None: the MP4 cannot fit the limit


class FittedCache:
    """Re-encodes by (video, limit) and stills by (video, variant), least recently used first
    out, under a byte cap.

    A caller gets a hard link of the cached file in its own folder, so evicting an entry never
    pulls a file from under an upload in progress.
    """

    def __init__(
        self,
        max_bytes: int = FITTED_CACHE_BYTES,
        max_entries: int = FITTED_CACHE_ENTRIES,
        folder: Path | None = None,
    ) -> None:
        self._max_bytes = max_bytes
        self._max_entries = max_entries
        self._entries: collections.OrderedDict[CacheKey, _Fitted] = collections.OrderedDict()
        # One lock per key while anyone uses it, with how many do.
        self._locks: dict[CacheKey, tuple[asyncio.Lock, int]] = {}
        # Made on the first re-encode, removed on close.
        self._folder = folder

    @contextlib.asynccontextmanager
    async def once(self, key: CacheKey) -> AsyncIterator[None]:
        """One caller at a time for `key`: the others then find what the first made."""
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            users = self._locks[key][1] - 1
            if users:
                self._locks[key] = (lock, users)
            else:
                del self._locks[key]

    def get(self, key: CacheKey) -> _Fitted | None:
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
        return entry

    def scratch(self, key: CacheKey) -> Path:
        """Where a re-encode for `key` is written, inside the cache's folder."""
        if self._folder is None:
            self._folder = Path(tempfile.mkdtemp(prefix="videobot-fitted-"))
            # Removed with the cache even when nobody closes it (a test's, a crashed start's).
            weakref.finalize(self, shutil.rmtree, self._folder, ignore_errors=True)
        self._folder.mkdir(parents=True, exist_ok=True)
        suffix = "mp4" if isinstance(key[1], int) else SUFFIXES[key[1]]
        return self._folder / f"{key[0]}-{key[1]}.{suffix}"

    def put(self, key: CacheKey, entry: _Fitted) -> None:
        self._entries[key] = entry
        self._entries.move_to_end(key)
        while len(self._entries) > 1 and (
            self._bytes() > self._max_bytes or len(self._entries) > self._max_entries
        ):
            _, old = self._entries.popitem(last=False)
            if old.path is not None:
                old.path.unlink(missing_ok=True)

    def _bytes(self) -> int:
        return sum(e.path.stat().st_size for e in self._entries.values() if e.path is not None)

    def close(self) -> None:
        self._entries.clear()
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None


async def _linked(cached: Path, dest: Path) -> None:
    try:
        os.link(cached, dest)
    except OSError:
        # Another file system: a copy, off the event loop.
        await asyncio.to_thread(shutil.copyfile, cached, dest)


class ResultFiles:
    def __init__(self, assets: Assets, fit: Fit, cache: FittedCache | None = None) -> None:
        self._assets = assets
        self._fit = fit
        self._cache = cache or FittedCache()

    def close(self) -> None:
        """Drop the kept re-encodes (their folder goes with them)."""
        self._cache.close()

    async def for_card(
        self, row: VideoRow, folder: Path, limit: int
    ) -> tuple[list[Upload], str | None]:
        """What a result card carries, and a note when it is not the MP4 as made."""
        if row.status != "completed":
            return [], None
        fitted, size, source = await self._video(row, folder, int(limit * UPLOAD_MARGIN))
        if fitted is not None:
            return [fitted], None
        return await self._thumbnail_instead(row, size, source, folder, limit)

    async def asset(
        self, row: VideoRow, variant: ContentVariant, folder: Path, limit: int
    ) -> Upload:
        """One file for `/videos download` and the buttons; the video fitted to the limit.

        A member's request: its media work leaves a worker free for everyone's results.
        """
        try:
            with for_member():
                if variant != "video":
                    return await self._still(row, variant, folder)
                fitted, size, _ = await self._video(row, folder, int(limit * UPLOAD_MARGIN))
        except Undeliverable as exc:
            raise UserError(exc.reason) from None
        if fitted is None:
            raise UserError(
                f"The video is {size_text(size)}, and even re-encoded it would not fit "
                f"the {size_text(limit)} upload limit here. Try the thumbnail instead."
            )
        return fitted

    async def _still(self, row: VideoRow, variant: ContentVariant, folder: Path) -> Upload:
        """A thumbnail or spritesheet, fetched (or made) once per video while it stays kept."""
        key: CacheKey = (row.key, variant)
        name = file_name(row.key, variant)
        # Linked while the key is held: no other caller can evict the entry meanwhile.
        async with self._cache.once(key):
            entry = self._cache.get(key)
            if entry is None or entry.path is None:
                upload = await self._fetch(row, variant, folder)
                kept = self._cache.scratch(key)
                await _linked(_on_disk(upload), kept)
                self._cache.put(key, _Fitted(upload.size, kept))
                return upload
            await _linked(entry.path, folder / name)
        return _upload(folder / name, name, variant)

    async def _video(
        self, row: VideoRow, folder: Path, budget: int
    ) -> tuple[Upload | None, int, Upload | None]:
        """The MP4 under `budget` (None if it cannot be), its own size, and the MP4 if fetched.

        Once per (video, limit): callers asking at the same time wait for the first.
        """
        key = (row.key, budget)
        name = file_name(row.key, "video")
        async with self._cache.once(key):
            entry = self._cache.get(key)
            source = None
            if entry is None:
                source = await self._fetch(row, "video", folder)
                if source.size <= budget:
                    return source, source.size, source
                entry = await self._fitted(source, row, key, budget)
            if entry.path is None:
                return None, entry.size, source
            dest = folder / f"fitted-{name}"
            await _linked(entry.path, dest)
        return _upload(dest, name, "video"), entry.size, source

    async def _fitted(self, video: Upload, row: VideoRow, key: CacheKey, budget: int) -> _Fitted:
        """The MP4 re-encoded under `budget` bytes into the cache, or why it cannot be."""
        dest = self._cache.scratch(key)
        try:
            done = await self._fit(_on_disk(video), dest, budget)
        except (CannotFit, MediaFailed) as exc:
            # Kept too: asking again would fail the same way, at the same cost.
            log.info("the video of %s cannot fit %d bytes: %s", row.ref, budget, exc)
            entry = _Fitted(video.size, None)
        else:
            log.info("re-encoded the video of %s to fit %d bytes: %s", row.ref, budget, done)
            entry = _Fitted(video.size, dest)
        self._cache.put(key, entry)
        return entry

    async def thumbnail_instead(
        self, row: VideoRow, video: Upload, limit: int
    ) -> tuple[list[Upload], str | None]:
        """The thumbnail of a video Discord refused, made from `video` if the provider won't."""
        folder = _on_disk(video).parent
        return await self._thumbnail_instead(row, video.size, video, folder, limit)

    async def _thumbnail_instead(
        self, row: VideoRow, size: int, source: Upload | None, folder: Path, limit: int
    ) -> tuple[list[Upload], str | None]:
        too_big = (
            f"The video is {size_text(size)}, and even re-encoded it would not fit the "
            f"{size_text(limit)} upload limit here"
        )
        thumb = await self._fetch(
            row,
            "thumbnail",
            folder,
            source=_on_disk(source) if source is not None else None,
            unless=f"{too_big}, and no thumbnail could be made of it",
        )
        return [thumb], f"{too_big}, so this is its thumbnail."

    async def _fetch(
        self,
        row: VideoRow,
        variant: ContentVariant,
        folder: Path,
        source: Path | None = None,
        *,
        unless: str = "",
    ) -> Upload:
        """A file of the video; Undeliverable when there is none to post (`unless` says why)."""
        name = file_name(row.key, variant)
        try:
            await self._assets.fetch(
                row.id, variant, folder / name, source=source, provider=row.provider
            )
        except NotFoundError:
            raise Expired(GONE) from None
        except ProviderRemoved as exc:
            raise Undeliverable(f"I can't fetch it: {exc.message}.") from None
        except (FrameError, MediaFailed) as exc:
            log.info("no %s for %s: %s", variant, row.ref, exc)
            why = str(exc)
            reason = f"{unless}: {why}." if unless else f"{why[:1].upper()}{why[1:]}."
            raise Undeliverable(reason) from None
        return _upload(folder / name, name, variant)
