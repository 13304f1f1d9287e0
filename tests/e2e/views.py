"""Reading what a user sees of the bot: status cards, their fields, and the edits sent to them."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from typing import Any

from bot.storage import VideoRepository, VideoRow

from .fake_discord import FakeDiscord, RecordedRequest
from .harness import Harness

JSON = dict[str, Any]

HOOK_ORIGINAL = "PATCH /webhooks/{webhook_id}/{webhook_token}/messages/@original"
HOOK_MESSAGE = "PATCH /webhooks/{webhook_id}/{webhook_token}/messages/{message_id}"
CHANNEL_EDIT = "PATCH /channels/{channel_id}/messages/{message_id}"
CHANNEL_POST = "POST /channels/{channel_id}/messages"
FOLLOWUP = "POST /webhooks/{webhook_id}/{webhook_token}"


def embed(message: JSON) -> JSON:
    [card] = message["embeds"]
    return card


def has_card(message: JSON) -> bool:
    return len(message.get("embeds") or []) == 1


def status(message: JSON) -> str:
    return str(embed(message).get("author", {}).get("name", ""))


def field(message: JSON, name: str) -> str | None:
    for item in embed(message).get("fields") or []:
        if item["name"] == name:
            return str(item["value"])
    return None


def video_id(message: JSON) -> str:
    """The job's API id, which the card shows in its footer."""
    return str(embed(message)["footer"]["text"])


def attachment_names(message: JSON) -> list[str]:
    return [a["filename"] for a in message.get("attachments") or []]


def has_mp4(message: JSON) -> bool:
    return any(name.endswith(".mp4") for name in attachment_names(message))


def mentions(message: JSON, user: JSON) -> bool:
    return f"<@{user['id']}>" in message.get("content", "")


def edits_of(fake: FakeDiscord, message_id: int | str) -> list[RecordedRequest]:
    """Every edit request aimed at one message, by any route, oldest first."""
    target = int(message_id)
    found = []
    for request in fake.requests:
        if request.route == HOOK_ORIGINAL:
            token = request.path.split("/")[3]
            record = fake.interactions.get(token)
            if record is not None and record.original_id == target:
                found.append(request)
        elif (
            request.route in (HOOK_MESSAGE, CHANNEL_EDIT)
            and int(request.path.rsplit("/", 1)[1]) == target
        ):
            found.append(request)
    return found


def uploads(fake: FakeDiscord) -> list[RecordedRequest]:
    """Every successful request that carried a file to Discord."""
    return [r for r in fake.requests if r.files and 200 <= r.status < 300]


def ephemeral_reply(h: Harness, rec: Any) -> JSON | None:
    """The ephemeral message an interaction was answered with (a response or a followup)."""
    message = h.fake.original_message(rec)
    if message is not None and h.is_ephemeral(message):
        return message
    return next((m for m in h.followups(rec) if h.is_ephemeral(m)), None)


def visible_messages_of(h: Harness, rec: Any) -> list[JSON]:
    """Non-ephemeral messages left in the channel by an interaction."""
    return [
        m
        for m in h.messages(rec.channel_id)
        if not h.is_ephemeral(m) and (m.get("interaction_metadata") or {}).get("id") == str(rec.id)
    ]


BAR = re.compile(r"[▰▱]{12} \d{1,3}%")


async def row_when(
    videos: VideoRepository,
    video: str,
    where: Callable[[VideoRow], bool],
    within: float = 5.0,
) -> VideoRow:
    """Wait until the job's row satisfies ``where`` (the bot writes it after Discord answered)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        row = await videos.get(video)
        if row is not None and where(row):
            return row
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for the row of {video}: {row}")
        await asyncio.sleep(0.02)


def delivered(row: VideoRow) -> bool:
    return row.delivered_at is not None
