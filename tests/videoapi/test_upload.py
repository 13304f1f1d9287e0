"""The one Upload: a named file in memory or on disk, its size and whether it is a video."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.videoapi.models import Upload


def test_the_size_of_bytes_and_of_a_file(tmp_path: Path) -> None:
    path = tmp_path / "clip.mp4"
    path.write_bytes(b"x" * 300)

    assert Upload("a.png", "image/png", b"12345").size == 5
    assert Upload("clip.mp4", "video/mp4", path).size == 300


@pytest.mark.parametrize(
    ("content_type", "video"),
    [("video/mp4", True), ("video/quicktime", True), ("image/webp", False), ("", False)],
)
def test_a_video_is_known_by_its_type(content_type: str, video: bool) -> None:
    assert Upload("f", content_type, b"").is_video is video
