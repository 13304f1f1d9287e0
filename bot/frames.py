"""Still images made from an MP4: a thumbnail and a spritesheet, as WebP.

For providers that ignore `variant` or lack it. Blocking (decoding), so callers run these in a
worker thread. PyAV is imported here only, and only when a frame must be made.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

from PIL import Image

# The simulator's spritesheet layout: 4 columns by 3 rows of quarter-size frames.
SPRITE_COLUMNS: Final = 4
SPRITE_ROWS: Final = 3
WEBP_QUALITY: Final = 80


class FrameError(Exception):
    """The file is not a video that frames can be read from."""


def _open(path: Path) -> Any:
    import av  # ~20 MiB of FFmpeg: loaded on first use only

    try:
        return av.open(str(path), mode="r")
    except av.FFmpegError as error:
        raise FrameError(f"{path.name} is not a readable video") from error


def _duration(container: Any, stream: Any) -> float:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return float(container.duration / 1_000_000)
    return 0.0


def _frame_at(container: Any, stream: Any, seconds: float) -> Image.Image | None:
    """The first frame at or after `seconds`, seeking to the keyframe before it."""
    if stream.time_base is not None and seconds > 0:
        container.seek(int(seconds / stream.time_base), stream=stream, backward=True)
    last: Any = None
    for frame in container.decode(stream):
        last = frame
        if frame.time is None or frame.time + 1e-6 >= seconds:
            break
    if last is None:
        return None
    # A video that ends before `seconds` (few frames a second) shows its last frame there.
    image: Image.Image = last.to_image()
    return image


def frames(path: Path, count: int) -> list[Image.Image]:
    """`count` frames spread evenly over the video (the first at its start)."""
    container = _open(path)
    with container:
        if not container.streams.video:
            raise FrameError(f"{path.name} has no video stream")
        stream = container.streams.video[0]
        duration = _duration(container, stream)
        images: list[Image.Image] = []
        for index in range(count):
            image = _frame_at(container, stream, duration * index / count)
            if image is None:
                break
            images.append(image)
    if not images:
        raise FrameError(f"{path.name} has no frames")
    return images


def write_thumbnail(video: Path, dest: Path) -> None:
    frames(video, 1)[0].save(dest, format="WEBP", quality=WEBP_QUALITY)


def write_spritesheet(video: Path, dest: Path) -> None:
    tiles = frames(video, SPRITE_COLUMNS * SPRITE_ROWS)
    width, height = tiles[0].size
    tile_width, tile_height = max(1, width // SPRITE_COLUMNS), max(1, height // SPRITE_COLUMNS)
    sheet = Image.new("RGB", (tile_width * SPRITE_COLUMNS, tile_height * SPRITE_ROWS))
    for index, image in enumerate(tiles):
        tile = image.resize((tile_width, tile_height), Image.Resampling.BILINEAR)
        row, column = divmod(index, SPRITE_COLUMNS)
        sheet.paste(tile, (column * tile_width, row * tile_height))
    sheet.save(dest, format="WEBP", quality=WEBP_QUALITY)
