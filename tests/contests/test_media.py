"""An entry's copied file keeps what Discord said it is; an untyped MP4 is still a video."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from bot.contests.media import _content_type


@pytest.mark.parametrize(
    ("content_type", "filename", "expected"),
    [
        ("video/mp4", "clip.mp4", "video/mp4"),
        ("video/webm", "clip.webm", "video/webm"),
        (None, "clip.MP4", "video/mp4"),
        ("application/octet-stream", "clip.mp4", "video/mp4"),
        ("image/webp", "thumb.webp", "image/webp"),
        (None, "notes.txt", "application/octet-stream"),
    ],
)
def test_the_type_of_a_copied_attachment(
    content_type: str | None, filename: str, expected: str
) -> None:
    attachment = SimpleNamespace(content_type=content_type, filename=filename)

    assert _content_type(attachment) == expected  # type: ignore[arg-type]
