"""Who may delete is decided where the video is, not where the member acts."""

from __future__ import annotations

from bot.simulator import SimulatorConfig, make_app

from .botenv import BotEnv, StartBot
from .fake_discord import MANAGE_MESSAGES
from .views import (
    JSON,
    assert_deleted,
    button_id,
    ephemeral_answer,
    has_mp4,
    settle_listeners,
    video_id,
    video_key,
)

REFUSED = "Only the owner can delete this video"
ASKED = "cannot be undone"


async def moderated_elsewhere(start_bot: StartBot) -> tuple[BotEnv, JSON, int]:
    """Alice's video in #general, where the moderators may not manage messages and Bob may;
    and #mods, where the moderators may and Bob may not."""
    env = await start_bot(sim_app=make_app(SimulatorConfig(job_seconds=0.0)), edit_interval=0.02)
    h, world, fake = env.harness, env.harness.world, env.harness.fake
    mods = int(fake.add_channel(world.guild_id, "mods")["id"])
    moderator = fake.member(world.guild_id, int(world.moderator["id"]))
    assert moderator is not None
    [role] = moderator["roles"]
    fake.channels[world.channel_id]["permission_overwrites"] += [
        {"id": role, "type": 0, "allow": "0", "deny": str(MANAGE_MESSAGES)},
        {"id": world.bob["id"], "type": 1, "allow": str(MANAGE_MESSAGES), "deny": "0"},
    ]
    h.feed("GUILD_CREATE", fake.guild_create_payload(world.guild_id))
    rec = await h.slash("video", {"prompt": "a lighthouse at dusk"}, user=world.alice)
    card = await h.original(rec, has_mp4)
    return env, card, mods


async def test_videos_delete_checks_the_videos_channel(start_bot: StartBot) -> None:
    env, card, mods = await moderated_elsewhere(start_bot)
    h, world = env.harness, env.harness.world
    options = {"video": video_id(card)}
    rec = await h.slash("videos delete", options, user=world.moderator, channel_id=mods)
    assert (await ephemeral_answer(h, rec))["content"].startswith(REFUSED)
    rec = await h.slash("videos delete", options, user=world.bob, channel_id=mods)
    assert ASKED in (await ephemeral_answer(h, rec))["content"]


async def test_the_delete_button_checks_the_videos_channel(start_bot: StartBot) -> None:
    env, card, mods = await moderated_elsewhere(start_bot)
    h, world = env.harness, env.harness.world
    # The card posted again in #mods: its Delete button is pressed there.
    rec = await h.slash("videos show", {"video": video_id(card)}, user=world.bob, channel_id=mods)
    shown = await h.original(rec, has_mp4)
    delete = button_id("delete", video_key(card))
    rec = await h.click(shown, delete, user=world.moderator)
    assert (await ephemeral_answer(h, rec))["content"].startswith(REFUSED)
    rec = await h.click(shown, delete, user=world.bob)
    assert ASKED in (await ephemeral_answer(h, rec))["content"]


async def test_the_delete_reaction_checks_the_videos_channel(start_bot: StartBot) -> None:
    env, card, _ = await moderated_elsewhere(start_bot)
    h, world = env.harness, env.harness.world
    await h.react(card, world.moderator, "❌")
    await settle_listeners()
    row = await env.bot.videos.get(video_id(card))
    assert row is not None
    assert row.deleted_at is None
    await h.react(card, world.bob, "❌")
    await settle_listeners()
    await assert_deleted(env, card, video_id(card), world.bob)
