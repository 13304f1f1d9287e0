"""One video row for the unit tests that need one without a database, changed per test."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from bot.storage import VideoRow

_BASE = VideoRow(
    key=7,
    id="video_1",
    owner_id=1,
    guild_id=2,
    channel_id=3,
    status_message_id=None,
    kind="create",
    parent_id=None,
    prompt="a red kite",
    model="sora-2",
    size="720x1280",
    seconds="4",
    status="completed",
    progress=100,
    error_code=None,
    error_message=None,
    cost=0.4,
    created_at=1000,
    updated_at=1000.0,
    completed_at=1014,
    expires_at=None,
    delivered_at=None,
    deleted_at=None,
)


def video_row(**changes: Any) -> VideoRow:
    """A finished job of owner 1 in guild 2, with `changes` applied."""
    return replace(_BASE, **changes)
