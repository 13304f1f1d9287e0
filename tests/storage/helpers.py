"""Builders shared by the storage tests."""

from __future__ import annotations

from typing import Any

from bot.storage import VideoKind, VideoRepository, VideoRow
from bot.videoapi.models import Video

OWNER = 111
MEMBER = 222
GUILD = 9001
OTHER_GUILD = 9002
CHANNEL = 5555
CREATED_AT = 1_700_000_000


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = CREATED_AT + 10.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def api_video(video_id: str = "video_1", **changes: Any) -> Video:
    """A Video as the API would answer it, with `changes` applied."""
    body = {
        "id": video_id,
        "model": "sora-2",
        "status": "queued",
        "progress": 0,
        "created_at": CREATED_AT,
        "size": "1280x720",
        "seconds": "8",
        "prompt": "a cat on a skateboard",
    }
    return Video.model_validate(body | changes)


async def add_video(
    videos: VideoRepository,
    video_id: str,
    *,
    owner_id: int = OWNER,
    guild_id: int | None = GUILD,
    kind: VideoKind = "create",
    parent_id: str | None = None,
    prompt: str = "a cat on a skateboard",
    **changes: Any,
) -> VideoRow:
    return await videos.insert(
        api_video(video_id, prompt=prompt, **changes),
        owner_id=owner_id,
        guild_id=guild_id,
        channel_id=CHANNEL,
        kind=kind,
        prompt=prompt,
        model="sora-2",
        size="720x1280",
        seconds="4",
        parent_id=parent_id,
        cost=0.8,
    )
