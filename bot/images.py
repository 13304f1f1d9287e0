"""Reference images: checked, then resized and cropped to exactly the video's size."""

from __future__ import annotations

import io

from PIL import Image, ImageOps, UnidentifiedImageError

from bot.errors import UserError

ACCEPTED_TYPES = frozenset({"image/png", "image/jpeg", "image/webp"})
ACCEPTED_FORMATS = frozenset({"PNG", "JPEG", "WEBP"})
MAX_IMAGE_BYTES = 20 * 1024 * 1024
# Far above any real reference image; a "decompression bomb" is refused before decoding.
MAX_PIXELS = 64_000_000


def check_attachment(content_type: str | None, size: int) -> None:
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind not in ACCEPTED_TYPES:
        raise UserError("The image must be a PNG, JPEG or WebP file.")
    if size > MAX_IMAGE_BYTES:
        raise UserError(f"The image must be at most {MAX_IMAGE_BYTES // (1024 * 1024)} MiB.")


def fit_reference(data: bytes, size: str) -> bytes:
    """PNG bytes of `data` scaled and centre-cropped to `size` ("WIDTHxHEIGHT")."""
    width, height = (int(n) for n in size.split("x"))
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in ACCEPTED_FORMATS:
                raise UserError("The image must be a PNG, JPEG or WebP file.")
            if image.width * image.height > MAX_PIXELS:
                raise UserError("The image has too many pixels; use one under 64 megapixels.")
            upright = ImageOps.exif_transpose(image).convert("RGB")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        raise UserError("I could not read that image; is the file complete?") from None
    fitted = ImageOps.fit(upright, (width, height), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    fitted.save(out, "PNG")
    return out.getvalue()
