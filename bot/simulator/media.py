"""Real media for completed videos: an MP4, a WebP thumbnail and a WebP spritesheet.

Files are of the requested size and duration, so clients see what a real provider would send,
but frames are flat drawings at a low frame rate so a 12 s clip encodes in a fraction of a second.
Each distinct asset is rendered once per process and served from a temporary file.
"""

from __future__ import annotations

import asyncio
import atexit
import functools
import io
import os
import shutil
import struct
import tempfile
import threading
from pathlib import Path
from typing import Final

import av
from PIL import Image, ImageDraw, ImageFont

from bot.videoapi.models import ContentVariant

FPS: Final = 2
# Discord's default upload limit is 10 MiB; big assets clear it with room to spare.
BIG_ASSET_BYTES: Final = 12 * 1024 * 1024
SPRITE_COLUMNS: Final = 4
SPRITE_ROWS: Final = 3
CONTENT_TYPES: Final[dict[ContentVariant, str]] = {
    "video": "video/mp4",
    "thumbnail": "image/webp",
    "spritesheet": "image/webp",
}
# PyAV's wheels ship libx264; a build without it still has FFmpeg's native MPEG-4 encoder.
VIDEO_CODEC: Final = "libx264" if "libx264" in av.codecs_available else "mpeg4"


def parse_size(size: str) -> tuple[int, int]:
    width, _, height = size.partition("x")
    return int(width), int(height)


@functools.cache
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    # Loading the font costs as much as drawing a frame; every frame of a size shares one.
    return ImageFont.load_default(size=size)


def _frame(width: int, height: int, at: float, duration: float) -> Image.Image:
    """A flat frame whose colour and progress bar move with time, labelled as simulated."""
    share = at / duration if duration else 0.0
    image = Image.new("RGB", (width, height), (30, 60 + int(120 * share), 150 - int(90 * share)))
    draw = ImageDraw.Draw(image)
    bar = max(8, height // 24)
    draw.rectangle((0, height - bar, int(width * share), height), fill=(240, 240, 240))
    font = _font(max(12, min(width, height) // 12))
    draw.text((width // 12, height // 3), f"simulated\n{at:4.1f} s", fill="white", font=font)
    return image


def write_video(path: Path, size: str, seconds: float) -> None:
    width, height = parse_size(size)
    frames = max(1, round(seconds * FPS))
    # faststart puts the index first, so players (and Discord's embed) can start before the end.
    with av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"}) as container:
        stream = container.add_stream(VIDEO_CODEC, rate=FPS)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        if VIDEO_CODEC == "libx264":
            stream.options = {"preset": "ultrafast", "tune": "stillimage"}
        for index in range(frames):
            image = _frame(width, height, index / FPS, seconds)
            # PyAV's stubs leave from_image unannotated.
            frame = av.VideoFrame.from_image(image)  # type: ignore[no-untyped-call]
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))


def pad_mp4(path: Path, total_bytes: int) -> None:
    """Grow an MP4 to `total_bytes` with a trailing `free` box, which every reader skips."""
    padding = total_bytes - path.stat().st_size
    if padding < 8:
        return
    zeros = bytes(1 << 20)
    with path.open("ab") as file:
        file.write(struct.pack(">I4s", padding, b"free"))
        remaining = padding - 8
        while remaining:
            chunk = min(remaining, len(zeros))
            file.write(zeros[:chunk])
            remaining -= chunk


def write_thumbnail(path: Path, size: str, seconds: float) -> None:
    width, height = parse_size(size)
    _frame(width, height, 0.0, seconds).save(path, format="WEBP", quality=80, method=0)


def spritesheet_layout(size: str) -> tuple[int, int]:
    """The spritesheet's width and height: a fixed grid of quarter-size frames."""
    width, height = parse_size(size)
    return (width // SPRITE_COLUMNS) * SPRITE_COLUMNS, (height // SPRITE_COLUMNS) * SPRITE_ROWS


def write_spritesheet(path: Path, size: str, seconds: float) -> None:
    width, height = parse_size(size)
    tile_width, tile_height = width // SPRITE_COLUMNS, height // SPRITE_COLUMNS
    sheet = Image.new("RGB", spritesheet_layout(size))
    tiles = SPRITE_COLUMNS * SPRITE_ROWS
    for index in range(tiles):
        frame = _frame(width, height, seconds * index / tiles, seconds)
        tile = frame.resize((tile_width, tile_height), Image.Resampling.BILINEAR)
        row, column = divmod(index, SPRITE_COLUMNS)
        sheet.paste(tile, (column * tile_width, row * tile_height))
    sheet.save(path, format="WEBP", quality=80, method=0)


def probe_video(data: bytes) -> tuple[int, int, float]:
    """Width, height and duration of an uploaded video; ValueError if it is not one."""
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            stream = container.streams.video[0]
            if container.duration is not None:
                duration = container.duration / av.time_base
            elif stream.duration is not None and stream.time_base is not None:
                duration = float(stream.duration * stream.time_base)
            else:
                duration = 0.0
            return int(stream.codec_context.width), int(stream.codec_context.height), duration
    except (av.FFmpegError, IndexError) as error:
        raise ValueError("the upload is not a readable video file") from error


def probe_image(data: bytes) -> tuple[int, int]:
    """Width and height of an uploaded image; ValueError if it is not one."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.size
    except (OSError, Image.DecompressionBombError) as error:
        raise ValueError("the upload is not a readable image file") from error


class MediaCache:
    """Renders each (variant, size, seconds, big) asset once, into files under a directory."""

    def __init__(self, directory: Path) -> None:
        self._directory = directory
        # Thread locks, not asyncio ones: one cache serves every event loop in the process.
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    async def get(self, variant: ContentVariant, size: str, seconds: str, *, big: bool) -> Path:
        return await asyncio.to_thread(self._get, variant, size, seconds, big)

    def _get(self, variant: ContentVariant, size: str, seconds: str, big: bool) -> Path:
        big = big and variant == "video"
        extension = "mp4" if variant == "video" else "webp"
        name = f"{variant}-{size}-{seconds}s{'-big' if big else ''}.{extension}"
        path = self._directory / name
        with self._guard:
            lock = self._locks.setdefault(name, threading.Lock())
        with lock:
            if not path.exists():
                partial = path.with_name(f"partial-{name}")
                self._render(partial, variant, size, float(seconds), big)
                # Readers never see a half-written file.
                os.replace(partial, path)
        return path

    @staticmethod
    def _render(path: Path, variant: ContentVariant, size: str, seconds: float, big: bool) -> None:
        if variant == "thumbnail":
            write_thumbnail(path, size, seconds)
        elif variant == "spritesheet":
            write_spritesheet(path, size, seconds)
        else:
            write_video(path, size, seconds)
            if big:
                pad_mp4(path, BIG_ASSET_BYTES)


@functools.cache
def shared_cache() -> MediaCache:
    """The process-wide cache, so many simulators (one per test) share rendered files."""
    directory = Path(tempfile.mkdtemp(prefix="videobot-simulator-"))
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    return MediaCache(directory)
