"""Reading what a user sees of the bot: status cards, their fields, and the edits sent to them.

A job's card is a Components V2 message (tests/cards.py reads its parts); other answers are
embeds, read by `embed`. `field` reads either.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Callable
from typing import Any

from bot.storage import VideoRepository, VideoRow
from bot.videoapi.models import Operation, Video, VideoStatus
from tests import cards

from .botenv import BotEnv
from .fake_discord import (
    COMPONENTS_V2,
    FakeDiscord,
    RecordedRequest,
    is_loading,
    walk_components,
)
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


def is_v2(message: JSON) -> bool:
    return bool(int(message.get("flags") or 0) & COMPONENTS_V2)


def has_card(message: JSON) -> bool:
    """A job's card: a Components V2 message with a container headed by a status."""
    components = message.get("components") or []
    return is_v2(message) and bool(cards.containers(components)) and bool(status(message))


def status(message: JSON) -> str:
    return cards.heading(message.get("components") or [])


def card_text(message: JSON) -> str:
    """Everything a Components V2 message says, one text display a line."""
    return "\n".join(cards.texts(message.get("components") or []))


def field(message: JSON, name: str) -> str | None:
    """A named value of a card (Components V2) or a field of an embed."""
    if is_v2(message):
        return cards.facts(message.get("components") or []).get(name)
    for item in embed(message).get("fields") or []:
        if item["name"] == name:
            return str(item["value"])
    return None


def gallery(message: JSON) -> list[str]:
    """The media a Components V2 message shows in its galleries (`attachment://<name>`)."""
    return cards.gallery(message.get("components") or [])


def plays_mp4(message: JSON) -> bool:
    """The card shows an MP4 attached to the same message in its gallery (it plays inline)."""
    return any(
        url.endswith(".mp4") and url.removeprefix("attachment://") in attachment_names(message)
        for url in gallery(message)
    )


def footer_text(message: JSON) -> str:
    return cards.subtext(message.get("components") or [])


def video_id(message: JSON) -> str:
    """The job's API id, which the card's footer shows after the bot's `#key`."""
    return footer_text(message).split(" · ", 1)[1]


def video_ref(message: JSON) -> str:
    """The bot's `#key` of the card's job, as its footer shows it."""
    return footer_text(message).split(" · ", 1)[0]


def video_key(message: JSON) -> int:
    return int(video_ref(message).removeprefix("#"))


def attachment_names(message: JSON) -> list[str]:
    return [a["filename"] for a in message.get("attachments") or []]


def has_mp4(message: JSON) -> bool:
    return any(name.endswith(".mp4") for name in attachment_names(message))


def mentions(message: JSON, user: JSON) -> bool:
    """The message names the user above its card (Components V2) or in its content."""
    lead = cards.texts([c for c in message.get("components") or [] if c["type"] == cards.TEXT])
    return f"<@{user['id']}>" in message.get("content", "") + "".join(lead)


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


RESULT_ACTIONS = ("remix", "extend", "edit", "thumbnail", "spritesheet", "delete")


def custom_ids(message: JSON) -> list[str]:
    """The custom ids of a message's components, in the order they are shown."""
    components = walk_components(message.get("components") or [])
    return [c["custom_id"] for c in components if "custom_id" in c]


def button_id(action: str, key: int) -> str:
    """A result button's custom id: the action and the bot's own key of the video."""
    return f"videobot:v2:{action}:{key}"


def result_ids(key: int) -> list[str]:
    """The buttons a completed job's card carries."""
    return [button_id(action, key) for action in RESULT_ACTIONS]


def modal_inputs(modal: JSON | None) -> dict[str, str]:
    """A modal's text inputs: label -> custom id (discord.py makes the ids up)."""
    assert modal is not None, "no modal was opened"
    return {
        c["label"]: c["custom_id"] for c in walk_components(modal["components"]) if c["type"] == 4
    }


async def settle_listeners() -> None:
    """Wait until every gateway event handed to discord.py has been handled by its listeners."""
    current = asyncio.current_task()
    while pending := [
        t
        for t in asyncio.all_tasks()
        if t is not current and t.get_name().startswith("discord.py: on_") and not t.done()
    ]:
        await asyncio.wait(pending)


async def insert_video(
    videos: VideoRepository,
    *,
    owner_id: int,
    guild_id: int | None,
    channel_id: int,
    prompt: str,
    created_at: int,
    status: VideoStatus = "completed",
    video: str | None = None,
) -> VideoRow:
    """A finished, delivered job straight into the database (the library reads only that)."""
    row = await videos.insert(
        Video(
            id=video or f"video_{uuid.uuid4().hex}",
            model="sora-2",
            status=status,
            progress=100 if status == "completed" else 0,
            created_at=created_at,
            completed_at=created_at + 30 if status == "completed" else None,
            size="720x1280",
            seconds="4",
        ),
        owner_id=owner_id,
        guild_id=guild_id,
        channel_id=channel_id,
        kind="create",
        prompt=prompt,
        model="sora-2",
        size="720x1280",
        seconds="4",
    )
    if row.finished:
        # Delivered, so that a restart's tracker leaves it alone.
        assert await videos.mark_delivered(row.id)
    return row


async def ephemeral_answer(h: Harness, rec: Any, within: float = 5.0) -> JSON:
    """Wait for the ephemeral answer to an interaction, past any "thinking" placeholder."""

    def done() -> JSON | None:
        reply = ephemeral_reply(h, rec)
        return reply if reply is not None and not is_loading(reply) else None

    return await h.wait_for(done, within, what=f"an ephemeral answer to {rec.id}")


def public(h: Harness, channel_id: int | None = None) -> list[JSON]:
    """The channel's messages everyone can see, oldest first."""
    return [m for m in h.messages(channel_id) if not h.is_ephemeral(m)]


async def assert_deleted(env: BotEnv, card: JSON, video: str, by: JSON) -> None:
    """Deleted everywhere: a tombstone card without buttons or files, the row, and upstream."""
    message = env.harness.fake.messages[int(card["id"])]
    assert f"deleted by <@{by['id']}>" in card_text(message)
    assert custom_ids(message) == []
    assert message["attachments"] == []
    row = await env.bot.videos.get(video)
    assert row is not None
    assert row.deleted_at is not None
    assert env.sim.calls[Operation.DELETE] == 1
    assert video not in env.sim.jobs


async def unfinished_of(videos: VideoRepository, user_id: int) -> int:
    """How many of a member's jobs are not finished (waiting in line included)."""
    rows = await videos.list_visible(user_id, None, owner_id=user_id, limit=100)
    return len([row for row in rows if not row.finished])
