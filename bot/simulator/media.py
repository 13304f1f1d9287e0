"""Real media for completed videos: an MP4, a WebP thumbnail and a WebP spritesheet.

Files are of the requested size and duration, so clients see what a real provider would send,
but frames are flat drawings at a low frame rate so a 12 s clip encodes in a fraction of a second.
With `noisy`, MP4s weigh what a real render does instead: noise frames at 24 fps with an AAC track,
which compress badly, about 30 MiB for 12 s at 1792x1024. Each distinct asset is rendered once per
process and served from a temporary file.

PyAV (~20 MiB of FFmpeg) is imported where a video is written or read, not with the module: the bot
imports none of this unless it runs the simulator.
"""

from __future__ import annotations

import array
import asyncio
import atexit
import functools
import io
import math
import os
import random
import shutil
import struct
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Final, Literal

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
NOISY_FPS: Final = 24
# Bits per second per pixel that make 12 s at 1792x1024 about 30 MiB.
NOISY_BITS_PER_PIXEL_SECOND: Final = 30 * 1024 * 1024 * 8 / 12 / (1792 * 1024)
NOISY_AUDIO_BITRATE: Final = 128_000
AUDIO_RATE: Final = 48_000
AUDIO_FRAME: Final = 1024  # samples, AAC's frame
TONE_HZ: Final = 440


@functools.cache
def video_codec() -> Literal["libx264", "mpeg4"]:
    import av

    # PyAV's wheels ship libx264; a build without it still has FFmpeg's native MPEG-4 encoder.
    return "libx264" if "libx264" in av.codecs_available else "mpeg4"


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
    import av

    width, height = parse_size(size)
    frames = max(1, round(seconds * FPS))
    # faststart puts the index first, so players (and Discord's embed) can start before the end.
    with av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"}) as container:
        stream = container.add_stream(video_codec(), rate=FPS)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        if video_codec() == "libx264":
            stream.options = {"preset": "ultrafast", "tune": "stillimage"}
        for index in range(frames):
            image = _frame(width, height, index / FPS, seconds)
            # PyAV's stubs leave from_image unannotated.
            frame = av.VideoFrame.from_image(image)  # type: ignore[no-untyped-call]
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))


def _tone_frames(seconds: float) -> Iterator[tuple[int, bytes]]:
    """(first sample, 1024 interleaved 16-bit stereo samples) of a quiet sine, `seconds` long."""
    period = round(AUDIO_RATE / TONE_HZ)
    wave = [round(6000 * math.sin(2 * math.pi * i / period)) for i in range(period)]
    total = round(seconds * AUDIO_RATE)
    for start in range(0, total, AUDIO_FRAME):
        samples = array.array("h")
        for i in range(start, start + AUDIO_FRAME):
            value = wave[i % period] if i < total else 0
            samples.extend((value, value))
        if sys.byteorder == "big":
            samples.byteswap()
        yield start, samples.tobytes()


def write_noisy_video(
    path: Path, size: str, seconds: float, *, audio_bitrate: int | None = NOISY_AUDIO_BITRATE
) -> None:
    """Noise frames (they compress badly, as detailed renders do) with a tone as AAC audio,
    or no audio when `audio_bitrate` is None. Deterministic: the noise is seeded by the size."""
    import av

    width, height = parse_size(size)
    rng = random.Random(size)
    frames = max(1, round(seconds * NOISY_FPS))
    with av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"}) as container:
        video = container.add_stream(video_codec(), rate=NOISY_FPS)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        rate = int(NOISY_BITS_PER_PIXEL_SECOND * width * height)
        video.bit_rate = rate
        if video_codec() == "libx264":
            # A one-second VBV holds x264 to the rate: on noise, plain ABR overshoots by 10-30 %.
            kbps = rate // 1000
            video.options = {
                "preset": "ultrafast",
                "x264-params": f"vbv-maxrate={kbps}:vbv-bufsize={kbps}",
            }
        audio: av.audio.stream.AudioStream | None = None
        tone: Iterator[tuple[int, bytes]] = iter(())
        if audio_bitrate is not None:
            audio = container.add_stream("aac", rate=AUDIO_RATE)
            audio.layout, audio.bit_rate = "stereo", audio_bitrate
            tone = _tone_frames(frames / NOISY_FPS)
        pending = next(tone, None)
        for index in range(frames):
            frame = av.VideoFrame(width, height, "yuv420p")
            for plane in frame.planes:
                plane.update(rng.randbytes(plane.buffer_size))
            frame.pts = index
            container.mux(video.encode(frame))
            # The sound up to this frame's end, so the file interleaves as a real one does.
            while (
                audio is not None
                and pending is not None
                and pending[0] * NOISY_FPS < (index + 1) * AUDIO_RATE
            ):
                sound = av.AudioFrame(format="s16", layout="stereo", samples=AUDIO_FRAME)
                sound.sample_rate, sound.pts = AUDIO_RATE, pending[0]
                sound.planes[0].update(pending[1])
                container.mux(audio.encode(sound))
                pending = next(tone, None)
        container.mux(video.encode(None))
        if audio is not None:
            container.mux(audio.encode(None))


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
    import av

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
    """Renders each (variant, size, seconds, big, noisy) asset once, into files in a directory."""

    def __init__(self, directory: Path) -> None:
        self._directory = directory
        # Thread locks, not asyncio ones: one cache serves every event loop in the process.
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    async def get(
        self, variant: ContentVariant, size: str, seconds: str, *, big: bool, noisy: bool = False
    ) -> Path:
        return await asyncio.to_thread(self._get, variant, size, seconds, big, noisy)

    def _get(
        self, variant: ContentVariant, size: str, seconds: str, big: bool, noisy: bool
    ) -> Path:
        big, noisy = big and variant == "video", noisy and variant == "video"
        extension = "mp4" if variant == "video" else "webp"
        name = f"{variant}-{size}-{seconds}s{'-big' if big else ''}{'-noisy' if noisy else ''}"
        name = f"{name}.{extension}"
        path = self._directory / name
        with self._guard:
            lock = self._locks.setdefault(name, threading.Lock())
        with lock:
            if not path.exists():
                partial = path.with_name(f"partial-{name}")
                self._render(partial, variant, size, float(seconds), big, noisy)
                # Readers never see a half-written file.
                os.replace(partial, path)
        return path

    @staticmethod
    def _render(
        path: Path, variant: ContentVariant, size: str, seconds: float, big: bool, noisy: bool
    ) -> None:
        if variant == "thumbnail":
            write_thumbnail(path, size, seconds)
        elif variant == "spritesheet":
            write_spritesheet(path, size, seconds)
        else:
            (write_noisy_video if noisy else write_video)(path, size, seconds)
            if big:
                pad_mp4(path, BIG_ASSET_BYTES)


@functools.cache
def shared_cache() -> MediaCache:
    """The process-wide cache, so many simulators (one per test) share rendered files."""
    directory = Path(tempfile.mkdtemp(prefix="videobot-simulator-"))
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    return MediaCache(directory)
