"""Autocomplete for `video` options: the videos the caller may see, by their prompt."""

from __future__ import annotations

import textwrap

from discord import app_commands

from bot.spending.money import usd
from bot.storage import VideoRepository, VideoRow
from bot.ui.text import excerpt
from bot.videoapi.models import VideoStatus

LABEL_MAX = 100


def choice_label(row: VideoRow) -> str:
    """An autocomplete label: the prompt's start, then status and length."""
    suffix = f" · {row.status.replace('_', ' ')} · {row.seconds}s"
    return textwrap.shorten(row.prompt, LABEL_MAX - len(suffix), placeholder="…") + suffix


async def video_choices(
    videos: VideoRepository,
    user_id: int,
    guild_id: int | None,
    current: str,
    *,
    status: VideoStatus | None,
) -> list[app_commands.Choice[str]]:
    """The videos `user_id` may see in `guild_id`, as choices carrying the bot's `#key`."""
    rows = await videos.list_visible(user_id, guild_id, status=status, text=current.strip() or None)
    return [app_commands.Choice(name=choice_label(row), value=row.ref) for row in rows]


def model_label(model: str, micros_per_second: int) -> str:
    """A model with its price, as its autocomplete choice and the create form's select show it."""
    return excerpt(f"{model} · {usd(micros_per_second)}/s", LABEL_MAX)
