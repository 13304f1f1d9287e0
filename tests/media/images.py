"""Reference images for tests: real files, and hostile ones."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image

MIB = 1024 * 1024


def png(width: int, height: int) -> bytes:
    """A real PNG of that size."""
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 80, 40)).save(out, "PNG")
    return out.getvalue()


def ztxt_bomb(inflated: int = 50 * MIB) -> bytes:
    """A small valid PNG with a zTXt chunk of ~50 KB that inflates to `inflated` bytes."""
    body = b"Comment\x00\x00" + zlib.compress(b"\x00" * inflated, 9)
    crc = zlib.crc32(b"zTXt" + body) & 0xFFFFFFFF
    chunk = struct.pack(">I", len(body)) + b"zTXt" + body + struct.pack(">I", crc)
    plain = png(8, 8)
    # After the signature (8 bytes) and the IHDR chunk (25 bytes), as an encoder writes it.
    return plain[:33] + chunk + plain[33:]
