"""Stills made from an MP4 for providers that lack or ignore `variant`."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from bot.media import frames as frames_module
from bot.media.frames import (
    SPRITE_COLUMNS,
    SPRITE_ROWS,
    THUMBNAIL_MAX_SIDE,
    DecodeLimits,
    FrameError,
    check_image,
    frames,
    write_spritesheet,
    write_thumbnail,
)
from bot.simulator.media import write_video

WIDTH, HEIGHT = 320, 180
TILE = (WIDTH // 4, HEIGHT // 4)


@pytest.fixture(scope="module")
def mp4(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # The simulator's drawing: 2 frames a second, its colour moving from blue to green.
    path = tmp_path_factory.mktemp("frames") / "clip.mp4"
    write_video(path, f"{WIDTH}x{HEIGHT}", 2.0)
    return path


@pytest.fixture(scope="module")
def mp4_8k(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An 8K stream of two flat frames: some 100 KiB, 50 MB a frame once decoded."""
    path = tmp_path_factory.mktemp("frames") / "8k.mp4"
    write_video(path, "7680x4320", 1.0)
    return path


def green(image: Image.Image, x: int, y: int) -> int:
    pixel = image.convert("RGB").getpixel((x, y))
    assert isinstance(pixel, tuple)
    return int(pixel[1])


def test_a_thumbnail_is_a_webp_of_the_videos_size(mp4: Path, tmp_path: Path) -> None:
    dest = tmp_path / "thumb.webp"
    write_thumbnail(mp4, dest)
    with Image.open(dest) as image:
        assert image.format == "WEBP"
        assert image.size == (WIDTH, HEIGHT)
        # The first frame: the simulator starts blue (green channel near 60).
        assert green(image, 5, 5) < 75


def test_a_spritesheet_is_4_by_3_tiles_of_quarter_size_frames(mp4: Path, tmp_path: Path) -> None:
    dest = tmp_path / "sheet.webp"
    write_spritesheet(mp4, dest)
    assert (SPRITE_COLUMNS, SPRITE_ROWS) == (4, 3)
    with Image.open(dest) as image:
        assert image.format == "WEBP"
        assert image.size == (TILE[0] * 4, TILE[1] * 3)
        # Tiles follow time left to right, top to bottom: the first is the start, later ones
        # are greener.
        first, later = green(image, 5, 5), green(image, TILE[0] * 3 + 5, TILE[1] + 5)
        assert first < 75 < later


def test_a_spritesheet_leaves_no_tile_empty(mp4: Path, tmp_path: Path) -> None:
    # A 2 s clip at 2 fps has 4 frames; the sheet's 12 moments must still each show one.
    dest = tmp_path / "sheet.webp"
    write_spritesheet(mp4, dest)
    with Image.open(dest) as image:
        tiles = [
            green(image, column * TILE[0] + 5, row * TILE[1] + 5)
            for row in range(SPRITE_ROWS)
            for column in range(SPRITE_COLUMNS)
        ]
    # A black tile (green 0) is a moment with no frame; the simulator's are never darker than 58.
    assert min(tiles) > 40, tiles


def test_frames_gives_as_many_frames_as_asked_in_time_order(mp4: Path) -> None:
    images = frames(mp4, 12)
    assert len(images) == 12
    assert all(image.size == (WIDTH, HEIGHT) for image in images)
    shades = [green(image, 5, 5) for image in images]
    assert shades == sorted(shades)


def test_one_frame_is_the_first(mp4: Path) -> None:
    [image] = frames(mp4, 1)
    assert image.size == (WIDTH, HEIGHT)
    assert green(image, 5, 5) < 75


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"Internal Server Error", id="text"),
        pytest.param(b"", id="empty"),
        pytest.param(b"\x00\x00\x00\x18ftypmp42" + bytes(64), id="a-truncated-mp4"),
    ],
)
def test_a_file_that_is_not_a_video_raises_frame_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "not-a-video.mp4"
    path.write_bytes(content)
    with pytest.raises(FrameError):
        write_thumbnail(path, tmp_path / "thumb.webp")
    assert not (tmp_path / "thumb.webp").exists()


# Bounded: refused from the metadata, scaled as decoded.


@pytest.mark.parametrize("write", [write_thumbnail, write_spritesheet])
def test_an_8k_video_is_refused_before_any_frame_is_decoded(
    mp4_8k: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, write: object
) -> None:
    def decoded(*args: object) -> None:
        raise AssertionError("a frame was decoded")

    monkeypatch.setattr(frames_module, "_frame_at", decoded)
    dest = tmp_path / "still.webp"
    with pytest.raises(FrameError, match=r"7680x4320, over the 9\.4 megapixels I decode"):
        write(mp4_8k, dest)  # type: ignore[operator]
    assert not dest.exists()


def test_a_video_longer_than_the_limit_is_refused(mp4: Path, tmp_path: Path) -> None:
    with pytest.raises(FrameError, match="2 s long, over the 1 s I decode"):
        write_thumbnail(mp4, tmp_path / "thumb.webp", DecodeLimits(max_seconds=1.0))


def test_frames_come_scaled_as_asked(mp4: Path) -> None:
    images = frames(mp4, 3, lambda width, height: (width // 4, height // 4))
    assert [image.size for image in images] == [TILE] * 3


def test_an_8k_spritesheet_within_raised_limits_is_made_of_quarter_tiles(
    mp4_8k: Path, tmp_path: Path
) -> None:
    dest = tmp_path / "sheet.webp"
    write_spritesheet(mp4_8k, dest, DecodeLimits(max_pixels=7680 * 4320))
    with Image.open(dest) as image:
        assert image.size == (1920 * 4, 1080 * 3)


def test_a_thumbnail_is_at_most_1920_on_its_long_side(tmp_path: Path) -> None:
    wide = tmp_path / "wide.mp4"
    write_video(wide, "2880x360", 0.5)
    dest = tmp_path / "thumb.webp"
    write_thumbnail(wide, dest)
    with Image.open(dest) as image:
        assert image.size == (THUMBNAIL_MAX_SIDE, 240)


# A provider's own still.


def test_a_still_discord_shows_passes(tmp_path: Path) -> None:
    path = tmp_path / "thumb.webp"
    Image.new("RGB", (64, 36), (200, 10, 10)).save(path, format="WEBP")
    check_image(path)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        pytest.param("text", b"<html>Internal Server Error</html>", id="text"),
        pytest.param("empty", b"", id="empty"),
        pytest.param("truncated", b"RIFF\x10\x00\x00\x00WEBPVP8 " + bytes(8), id="truncated"),
    ],
)
def test_a_still_that_does_not_decode_is_refused(tmp_path: Path, name: str, content: bytes) -> None:
    path = tmp_path / f"{name}.webp"
    path.write_bytes(content)
    with pytest.raises(FrameError, match="is not a readable image"):
        check_image(path)


def test_a_still_over_the_pixel_limit_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "huge.png"
    # 8000x8000 of one colour: some 60 KiB as PNG, 192 MB once decoded as RGB.
    Image.new("L", (8000, 8000)).save(path, format="PNG")
    with pytest.raises(FrameError, match=r"8000x8000, over the 9\.4 megapixels"):
        check_image(path)


def test_a_still_in_a_format_discord_does_not_show_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "thumb.bmp"
    Image.new("RGB", (64, 36)).save(path, format="BMP")
    with pytest.raises(FrameError):
        check_image(path)
