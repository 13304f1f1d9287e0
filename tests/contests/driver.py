"""Driving contests through the fake Discord: videos with result cards, commands, clicks, time.

Videos are stored straight in the bot's database, each with a result card carrying its MP4 as
delivery would have left it: fast and deterministic, with no generation.
"""

from __future__ import annotations

import io
import itertools
from typing import Any, cast

import discord

from bot.simulator import ManualClock
from bot.storage import ContestRow, VideoRow
from bot.videoapi.models import Video
from cogs.contest import Contests
from tests.e2e.botenv import BotEnv
from tests.e2e.fake_discord import FakeInteraction, is_loading
from tests.e2e.harness import Harness

JSON = dict[str, Any]
HOUR = 3600
DAY = 24 * HOUR
CALLBACK = "POST /interactions/{interaction_id}/{interaction_token}/callback"

_video_ids = itertools.count(1)


def cog(env: BotEnv) -> Contests:
    found = env.bot.get_cog("Contests")
    assert found is not None
    # Not isinstance: load_extension executes the module afresh, so its class is a new object.
    return cast(Contests, found)


def advance(env: BotEnv, clock: ManualClock, seconds: float) -> None:
    """Move contest time on and let the scheduler look at its deadlines."""
    clock.advance(seconds)
    cog(env).service.scheduler.wake()


async def contest(env: BotEnv, contest_id: int) -> ContestRow:
    row = await cog(env).service.contests.get(contest_id)
    assert row is not None
    return row


async def make_video(
    env: BotEnv,
    owner: JSON,
    created_at: float,
    *,
    prompt: str | None = None,
    status: str = "completed",
    files: dict[str, bytes] | None = None,
) -> VideoRow:
    """A finished video as /video leaves it: a row, and a result card with its MP4."""
    h = env.harness
    video_id = f"video_{next(_video_ids)}"
    prompt = prompt or f"{owner['username']}'s {video_id}"
    body: JSON = {
        "id": video_id,
        "model": "sora-2",
        "status": status,
        "progress": 100 if status == "completed" else 40,
        "created_at": int(created_at),
        "completed_at": int(created_at) + 30,
        "size": "1280x720",
        "seconds": "4",
    }
    if status == "failed":
        body["error"] = {"code": "moderation_blocked", "message": "blocked"}
    row = await env.bot.videos.insert(
        Video.model_validate(body),
        owner_id=int(owner["id"]),
        guild_id=h.world.guild_id,
        channel_id=h.world.channel_id,
        kind="create",
        prompt=prompt,
        model="sora-2",
        size="720x1280",
        seconds="4",
    )
    if files is None:
        files = {} if status == "failed" else {f"{video_id}.mp4": b"MP4 " + video_id.encode()}
    # Posted through the bot's own channel route, as delivery posts a result card.
    channel = env.bot.get_partial_messageable(h.world.channel_id, guild_id=h.world.guild_id)
    card = await channel.send(
        embed=discord.Embed(description=prompt),
        files=[discord.File(io.BytesIO(data), filename=name) for name, data in files.items()],
    )
    await env.bot.videos.set_status_message(row.id, h.world.channel_id, card.id)
    return await env.bot.videos.get(row.id) or row


async def answer(h: Harness, rec: FakeInteraction) -> str:
    """The text the user was finally shown in answer to a command or click."""
    message = await h.original(rec, lambda m: not is_loading(m))
    return str(message["content"])


async def run(h: Harness, command: str, options: JSON, user: JSON) -> str:
    return await answer(h, await h.slash(command, options, user=user))


def vote_id(entry_id: int) -> str:
    return f"videobot:v1:vote:{entry_id}"


async def vote(h: Harness, post: JSON, entry_id: int, user: JSON) -> str:
    return await answer(h, await h.click(post, vote_id(entry_id), user=user))


def callbacks_for(h: Harness, rec: FakeInteraction) -> int:
    return sum(1 for r in h.fake.requests_to(CALLBACK) if f"/{rec.id}/" in r.path)
