"""A finished video's files: downloaded from the provider, or made from its MP4 when it won't say.

Many servers ignore `variant` (they send the MP4 for a thumbnail) or lack it. The user asked for
a picture and gets one either way: the thumbnail or spritesheet is made from the MP4 (PyAV
frames, Pillow WebP, in the media pool), and nothing is said about it. A still the provider sends
is posted only once it decodes as an image within the limits; else it too is made from the MP4.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Final

from bot.media.frames import FrameError
from bot.media.pool import MediaFailed, MediaPool
from bot.videoapi.backend import VideoBackend
from bot.videoapi.client import DownloadResult
from bot.videoapi.errors import APIStatusError, RateLimitError, UnsupportedOperationError
from bot.videoapi.models import ContentVariant
from bot.videoapi.providers import Providers, routed

log = logging.getLogger(__name__)

SUFFIXES: Final[dict[ContentVariant, str]] = {
    "video": "mp4",
    "thumbnail": "webp",
    "spritesheet": "webp",
}
# ISO BMFF (MP4, MOV) has `ftyp` at byte 4; Matroska and WebM start with EBML's magic.
_VIDEO_MAGIC: Final = (b"\x1a\x45\xdf\xa3",)


def file_name(key: int, variant: ContentVariant) -> str:
    """A file name of the bot's own: a provider's id may hold `/` and `=`."""
    stem = f"video-{key}" if variant == "video" else f"video-{key}-{variant}"
    return f"{stem}.{SUFFIXES[variant]}"


def is_video(result: DownloadResult) -> bool:
    """Whether a download is a video, by its type or, when the type is vague, by its bytes."""
    kind = (result.content_type or "").split(";")[0].strip().lower()
    if kind.startswith("image/"):
        return False
    if kind.startswith("video/"):
        return True
    return looks_like_video(result.path)


def looks_like_video(path: Path) -> bool:
    """Whether a file starts as an MP4, a MOV or a WebM does, whatever it was called."""
    with path.open("rb") as file:
        head = file.read(12)
    return head[4:8] == b"ftyp" or head.startswith(_VIDEO_MAGIC)


class Assets:
    """Fetches files from the provider that made each video, and remembers which variants each
    provider does not really serve."""

    def __init__(self, api: VideoBackend | Providers, media: MediaPool) -> None:
        self._providers = routed(api)
        self._media = media
        self._made_here: dict[str, set[ContentVariant]] = {}

    async def fetch(
        self,
        video_id: str,
        variant: ContentVariant,
        dest: Path,
        *,
        source: Path | None = None,
        provider: str | None = None,
    ) -> Path:
        """`variant` of the video at `dest`, from `provider` (the first one when None).
        `source` is its MP4 if already downloaded.

        Raises NotFoundError once the provider no longer has the video at all, FrameError when
        what it sends is not a video (or no still can be made of it), MediaFailed when making one
        ran out of time or memory.
        """
        name = provider or self._providers.default
        api = self._providers.get(name)
        made_here = self._made_here.setdefault(name, set())
        if variant == "video":
            await api.download(video_id, dest)
            if not looks_like_video(dest):
                raise FrameError("the provider's file for this video is not a video")
            return dest
        if variant not in made_here and source is None:
            served = await self._download_variant(api, video_id, variant, dest)
            if served is not None and not is_video(served):
                if await self._is_image(dest):
                    return dest
                log.info(
                    "the provider's %s is not a readable image; making it from the MP4", variant
                )
            elif served is not None:
                # What came back is the MP4 itself: keep it as the source.
                log.info("the provider ignores variant=%s; making it from the MP4", variant)
                made_here.add(variant)
                source = dest.with_name(f"{dest.stem}-source.mp4")
                os.replace(dest, source)
        if source is None:
            source = dest.with_name(f"{dest.stem}-source.mp4")
            await api.download(video_id, source)
        # Raises FrameError (not a video, over the limits) or MediaFailed (out of time or memory).
        await self._media.still(variant, source, dest)
        return dest

    async def _is_image(self, path: Path) -> bool:
        try:
            await self._media.check_image(path)
        except (FrameError, MediaFailed) as exc:
            log.info("%s: %s", path.name, exc)
            return False
        return True

    async def _download_variant(
        self, api: VideoBackend, video_id: str, variant: ContentVariant, dest: Path
    ) -> DownloadResult | None:
        """The provider's own file, or None where it refuses or lacks it (the MP4 may remain)."""
        try:
            return await api.download(video_id, dest, variant=variant)
        except RateLimitError:
            raise
        except (APIStatusError, UnsupportedOperationError) as exc:
            if exc.status is not None and exc.status >= 500:
                raise
            log.info("the provider gave no %s (%s); making it from the MP4", variant, exc)
            return None
