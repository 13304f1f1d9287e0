"""Reference images: checked, then resized and cropped to exactly the video's size.

The bytes are a member's: every bound (bytes, pixels) is checked before anything is decoded,
and whatever Pillow raises while reading them means the file is bad, never that the bot is.
"""

from __future__ import annotations

import io
import logging

from PIL import Image, ImageOps

from bot.errors import UserError

log = logging.getLogger(__name__)

ACCEPTED_TYPES = frozenset({"image/png", "image/jpeg", "image/webp"})
ACCEPTED_FORMATS = ("PNG", "JPEG", "WEBP")
MAX_IMAGE_BYTES = 20 * 1024 * 1024
# Far above any real reference image; a "decompression bomb" is refused before decoding.
MAX_PIXELS = 64_000_000
UNREADABLE = "I could not read that image; is the file complete?"
WRONG_TYPE = "The image must be a PNG, JPEG or WebP file."
TOO_BIG = f"The image must be at most {MAX_IMAGE_BYTES // (1024 * 1024)} MiB."


def check_attachment(content_type: str | None, size: int) -> None:
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind not in ACCEPTED_TYPES:
        raise UserError(WRONG_TYPE)
    if size > MAX_IMAGE_BYTES:
        raise UserError(TOO_BIG)


def fit_reference(data: bytes, size: str) -> bytes:
    """PNG bytes of `data` scaled and centre-cropped to `size` ("WIDTHxHEIGHT")."""
    # The declared size was checked already; the bytes read are what counts.
    if len(data) > MAX_IMAGE_BYTES:
        raise UserError(TOO_BIG)
    width, height = (int(n) for n in size.split("x"))
    try:
        fitted = _fit(data, (width, height))
    except UserError:
        raise
    except Exception as exc:
        # Truncated data, a text chunk that inflates past Pillow's bound, bad EXIF, ...
        log.info("a reference image could not be read: %r", exc)
        raise UserError(UNREADABLE) from None
    out = io.BytesIO()
    fitted.save(out, "PNG")
    return out.getvalue()


def _fit(data: bytes, box: tuple[int, int]) -> Image.Image:
    # Only the accepted formats' parsers look at the bytes.
    with Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS) as image:
        if image.width * image.height > MAX_PIXELS:
            raise UserError("The image has too many pixels; use one under 64 megapixels.")
        # A JPEG decodes at a fraction of its size when that still covers the video's.
        image.draft("RGB", box)
        upright = ImageOps.exif_transpose(image).convert("RGB")
    return ImageOps.fit(upright, box, Image.Resampling.LANCZOS)
