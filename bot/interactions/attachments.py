"""Discord attachments saved to disk: streamed in chunks through the bot's own HTTP session.

Never whole in memory (discord.py's `Attachment.save` and `to_file` read the file into bytes
first), and bounded twice: by the size the attachment declares, and by the bytes that arrive.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Final

import aiohttp
import discord

from bot.errors import UserError
from bot.ui.text import size_text

CHUNK_BYTES: Final = 256 * 1024
# Discord's CDN sends a 50 MiB clip in seconds; a stalled read gives up long before the
# interaction's 15 minutes run out.
TIMEOUT: Final = aiohttp.ClientTimeout(total=300, sock_read=30)
MIB: Final = 1024 * 1024


class AttachmentError(UserError):
    """The attachment could not be saved; the message says why."""


async def save(
    session: aiohttp.ClientSession, attachment: discord.Attachment, path: Path, *, limit: int
) -> int:
    """Write `attachment` to `path`, at most `limit` bytes; the number of bytes written."""
    too_large = AttachmentError(f"{attachment.filename} is over {size_text(limit)}.")
    if attachment.size > limit:
        raise too_large
    received = 0
    try:
        async with session.get(attachment.url, timeout=TIMEOUT) as response:
            if response.status != 200:
                raise AttachmentError(
                    f"Discord did not send {attachment.filename} (HTTP {response.status}); "
                    "try again in a moment."
                )
            file = await asyncio.to_thread(path.open, "wb")
            try:
                async for chunk in response.content.iter_chunked(CHUNK_BYTES):
                    received += len(chunk)
                    if received > limit:
                        raise too_large
                    # In a worker thread: a slow disk must not stall the event loop.
                    await asyncio.to_thread(file.write, chunk)
            finally:
                await asyncio.to_thread(file.close)
    except (aiohttp.ClientError, TimeoutError) as error:
        raise AttachmentError(
            f"I could not download {attachment.filename} from Discord; try again in a moment."
        ) from error
    return received
