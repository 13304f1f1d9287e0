"""Writing streamed media to disk so that a file either is complete or does not exist."""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import AsyncIterable
from pathlib import Path
from typing import IO


def _open_part(dest: Path) -> IO[bytes]:
    # Beside the destination, so the final rename stays on one filesystem and is atomic.
    return tempfile.NamedTemporaryFile(
        mode="wb", dir=dest.parent, prefix=f".{dest.name}.", suffix=".part", delete=False
    )


async def save_atomically(chunks: AsyncIterable[bytes], dest: Path) -> int:
    """Write `chunks` to `dest` and return the byte count; on failure nothing is left behind.

    Disk work runs in a thread so a slow disk never stalls the event loop.
    """
    handle = await asyncio.to_thread(_open_part, dest)
    part = Path(handle.name)
    size = 0
    try:
        try:
            async for chunk in chunks:
                await asyncio.to_thread(handle.write, chunk)
                size += len(chunk)
        finally:
            await asyncio.to_thread(handle.close)
        await asyncio.to_thread(os.replace, part, dest)
    except BaseException:
        # Synchronous on purpose: the cleanup must also run when the task is being cancelled.
        part.unlink(missing_ok=True)  # noqa: ASYNC240
        raise
    return size
