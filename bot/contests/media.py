"""The file an entry or a result carries, copied from a Discord message that already has it.

The provider's copy of a video expires after about a day and a contest runs longer, so entries
re-upload the attachment of the video's own result card (or of the entry post, for the
results) through the bot's HTTP session: one more upload, no provider download. The copy is
streamed to a file in a folder the caller owns and uploaded from there, never whole in memory.
"""

from __future__ import annotations

from pathlib import Path

import aiohttp
import discord

from bot.errors import UserError
from bot.interactions import attachments
from bot.storage import VideoRow
from bot.ui.text import size_text
from bot.videoapi.models import Upload


def pick(attachments: list[discord.Attachment], limit: int) -> discord.Attachment | None:
    """The video if it fits `limit` bytes, else the thumbnail (or any still image) that does."""
    videos = [a for a in attachments if _is_video(a)]
    images = [a for a in attachments if (a.content_type or "").startswith("image/")]
    for attachment in (*videos, *images):
        if attachment.size <= limit:
            return attachment
    return None


async def copy(
    session: aiohttp.ClientSession,
    attachment: discord.Attachment,
    folder: Path,
    limit: int,
    filename: str | None = None,
) -> Upload:
    """Save an attachment of at most `limit` bytes into `folder`, for re-upload."""
    path = folder / f"copy-{attachment.id}"
    await attachments.save(session, attachment, path, limit=limit)
    return Upload(filename or attachment.filename, _content_type(attachment), path)


async def from_card(
    client: discord.Client,
    session: aiohttp.ClientSession,
    video: VideoRow,
    limit: int,
    folder: Path,
) -> Upload:
    """The entry's file, from the result card of `video`; every refusal says why."""
    if video.status_message_id is None:
        raise UserError("That video has no result card, so I have no copy of it to post.")
    channel = client.get_partial_messageable(video.channel_id, guild_id=video.guild_id)
    try:
        card = await channel.fetch_message(video.status_message_id)
    except discord.NotFound:
        raise UserError(
            "The message with that video was deleted, so I have no copy of it to post."
        ) from None
    except discord.Forbidden:
        raise UserError(
            "I can no longer read the channel that video was posted in, so I can't copy it."
        ) from None
    chosen = pick(card.attachments, limit)
    if chosen is None:
        raise UserError(
            "That video's card has no video or thumbnail I can upload here "
            f"(the limit is {size_text(limit)}), so there is nothing to enter."
        )
    return await copy(session, chosen, folder, limit)


def _is_video(attachment: discord.Attachment) -> bool:
    kind = attachment.content_type or ""
    return kind.startswith("video/") or attachment.filename.lower().endswith(".mp4")


def _content_type(attachment: discord.Attachment) -> str:
    """Its type as Discord gave it; an MP4 that Discord left untyped is still a video."""
    kind = attachment.content_type or ""
    if _is_video(attachment) and not kind.startswith("video/"):
        return "video/mp4"
    return kind or "application/octet-stream"
