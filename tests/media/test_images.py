"""Reference images: a member's bytes are bounded before decoding, and a bad file is their error."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

from bot.errors import UserError
from bot.media.images import MAX_IMAGE_BYTES, UNREADABLE, fit_reference

from .images import png, ztxt_bomb


def test_an_image_is_fitted_to_the_video_size() -> None:
    fitted = Image.open(io.BytesIO(fit_reference(png(300, 100), "720x1280")))
    assert (fitted.format, fitted.size) == ("PNG", (720, 1280))


def test_a_jpeg_is_fitted_to_the_video_size() -> None:
    out = io.BytesIO()
    Image.new("RGB", (4000, 3000), (10, 200, 30)).save(out, "JPEG")
    fitted = Image.open(io.BytesIO(fit_reference(out.getvalue(), "1280x720")))
    assert fitted.size == (1280, 720)
    assert fitted.getpixel((640, 360))[1] > 150  # type: ignore[index]


def test_a_text_chunk_that_inflates_to_50_mib_is_a_user_error() -> None:
    # Pillow raises ValueError for it, which used to escape as a bug and strand the job.
    bomb = ztxt_bomb()
    assert len(bomb) < MAX_IMAGE_BYTES // 100
    with pytest.raises(UserError) as caught:
        fit_reference(bomb, "720x1280")
    assert str(caught.value) == UNREADABLE


@pytest.mark.parametrize(
    "data",
    [png(64, 64)[:80], b"GIF89a" + bytes(40), b"\x89PNG\r\n\x1a\n" + b"0" * 40],
    ids=["truncated", "gif", "garbage"],
)
def test_unreadable_bytes_are_a_user_error(data: bytes) -> None:
    with pytest.raises(UserError):
        fit_reference(data, "720x1280")


def test_more_bytes_than_allowed_are_refused_before_decoding() -> None:
    with pytest.raises(UserError, match="at most 20 MiB"):
        fit_reference(b"\x00" * (MAX_IMAGE_BYTES + 1), "720x1280")


def test_too_many_pixels_are_refused_before_decoding() -> None:
    # A PNG's header says 9000 x 9000 (81 MP); its pixel data is never read.
    header = png(9000, 1)
    with pytest.raises(UserError, match="too many pixels"):
        fit_reference(header[:8] + _ihdr(9000, 9000) + header[33:], "720x1280")


def _ihdr(width: int, height: int) -> bytes:
    body = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return struct.pack(">I", 13) + b"IHDR" + body + struct.pack(">I", zlib.crc32(b"IHDR" + body))
