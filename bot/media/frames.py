"""Still images made from an MP4 (a thumbnail and a spritesheet, as WebP), and the check that a
provider's own still is an image.

For providers that ignore `variant` or lack it. Untrusted bytes: the stream's dimensions and
duration are read from its metadata and refused above `DecodeLimits` before any frame is decoded,
each decoded frame is checked again (a header can lie) and scaled down at once, so no more than one
full-size frame is ever held. Blocking and unbounded in memory and time by itself: the bot runs
these in the media pool's child processes (bot/media/pool.py), which hold them to those bounds.
PyAV is imported here only, and only when a frame must be made.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from PIL import Image

# The simulator's spritesheet layout: 4 columns by 3 rows of quarter-size frames.
SPRITE_COLUMNS: Final = 4
SPRITE_ROWS: Final = 3
WEBP_QUALITY: Final = 80
# A thumbnail larger than this on its long side shows no more in Discord and weighs more.
THUMBNAIL_MAX_SIDE: Final = 1920
# What Discord shows inline; anything else is no thumbnail to a member.
IMAGE_FORMATS: Final = ("WEBP", "PNG", "JPEG", "GIF")

Size = Callable[[int, int], tuple[int, int]]


@dataclass(frozen=True, slots=True)
class DecodeLimits:
    """The largest picture and the longest video the bot decodes: 4K fits, 8K does not."""

    max_pixels: int = 4096 * 2304
    max_seconds: float = 600.0

    def refusal(self, width: int, height: int, seconds: float = 0.0) -> str | None:
        """Why a picture of this size (or a video of this length) is not decoded, or None."""
        if width * height > self.max_pixels:
            return (
                f"the picture is {width}x{height}, over the "
                f"{self.max_pixels / 1_000_000:.1f} megapixels I decode"
            )
        if seconds > self.max_seconds:
            return f"the video is {seconds:.0f} s long, over the {self.max_seconds:.0f} s I decode"
        return None


DEFAULT_LIMITS: Final = DecodeLimits()


class FrameError(Exception):
    """The file is not a video (or image) that can be read within the limits; says why."""


def _open(path: Path, limits: DecodeLimits) -> tuple[Any, Any]:
    """The container and its video stream, refused from the metadata before any decoding."""
    import av  # ~20 MiB of FFmpeg: loaded on first use only

    try:
        container = av.open(str(path), mode="r")
    except av.FFmpegError as error:
        raise FrameError(f"{path.name} is not a readable video") from error
    try:
        if not container.streams.video:
            raise FrameError(f"{path.name} has no video stream")
        stream = container.streams.video[0]
        context = stream.codec_context
        refused = limits.refusal(context.width, context.height, _duration(container, stream))
        if refused is not None:
            raise FrameError(refused)
    except BaseException:
        container.close()
        raise
    return container, stream


def _duration(container: Any, stream: Any) -> float:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return float(container.duration / 1_000_000)
    return 0.0


def _frame_at(
    container: Any, stream: Any, seconds: float, size: Size | None, limits: DecodeLimits
) -> Image.Image | None:
    """The first frame at or after `seconds`, seeking to the keyframe before it, at `size`."""
    if stream.time_base is not None and seconds > 0:
        container.seek(int(seconds / stream.time_base), stream=stream, backward=True)
    last: Any = None
    for frame in container.decode(stream):
        # The header may understate the picture; each frame is checked before it is kept.
        refused = limits.refusal(frame.width, frame.height)
        if refused is not None:
            raise FrameError(refused)
        last = frame
        if frame.time is None or frame.time + 1e-6 >= seconds:
            break
    if last is None:
        return None
    # A video that ends before `seconds` (few frames a second) shows its last frame there.
    width, height = size(last.width, last.height) if size else (last.width, last.height)
    # Scaled by FFmpeg straight from the decoder's picture: no full-size RGB copy is made.
    image: Image.Image = last.reformat(width=width, height=height, format="rgb24").to_image()
    return image


def frames(
    path: Path, count: int, size: Size | None = None, limits: DecodeLimits = DEFAULT_LIMITS
) -> list[Image.Image]:
    """`count` frames spread evenly over the video (the first at its start), each `size(w, h)`."""
    container, stream = _open(path, limits)
    with container:
        duration = _duration(container, stream)
        images: list[Image.Image] = []
        for index in range(count):
            image = _frame_at(container, stream, duration * index / count, size, limits)
            if image is None:
                break
            images.append(image)
    if not images:
        raise FrameError(f"{path.name} has no frames")
    return images


def _thumbnail_size(width: int, height: int) -> tuple[int, int]:
    scale = min(1.0, THUMBNAIL_MAX_SIDE / max(width, height, 1))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _tile_size(width: int, height: int) -> tuple[int, int]:
    return max(1, width // SPRITE_COLUMNS), max(1, height // SPRITE_COLUMNS)


def write_thumbnail(video: Path, dest: Path, limits: DecodeLimits = DEFAULT_LIMITS) -> None:
    frames(video, 1, _thumbnail_size, limits)[0].save(dest, format="WEBP", quality=WEBP_QUALITY)


def write_spritesheet(video: Path, dest: Path, limits: DecodeLimits = DEFAULT_LIMITS) -> None:
    tiles = frames(video, SPRITE_COLUMNS * SPRITE_ROWS, _tile_size, limits)
    tile_width, tile_height = tiles[0].size
    sheet = Image.new("RGB", (tile_width * SPRITE_COLUMNS, tile_height * SPRITE_ROWS))
    for index, tile in enumerate(tiles):
        row, column = divmod(index, SPRITE_COLUMNS)
        sheet.paste(tile, (column * tile_width, row * tile_height))
    sheet.save(dest, format="WEBP", quality=WEBP_QUALITY)


def check_image(path: Path, limits: DecodeLimits = DEFAULT_LIMITS) -> None:
    """A still Discord can show, of at most `limits.max_pixels`, decoding whole: else FrameError."""
    try:
        with Image.open(path, formats=IMAGE_FORMATS) as image:
            refused = limits.refusal(image.width, image.height)
            if refused is not None:
                raise FrameError(refused)
            image.load()
    except (OSError, ValueError, Image.DecompressionBombError) as error:
        raise FrameError(f"{path.name} is not a readable image") from error
