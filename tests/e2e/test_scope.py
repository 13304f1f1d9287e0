"""Who may build on which video: members of the guild where it was made, and its owner anywhere."""

from __future__ import annotations

from dataclasses import dataclass

from bot.videoapi.models import Operation

from .botenv import BotEnv, StartBot
from .fake_discord import FakeDiscord
from .harness import Harness, World
from .views import (
    JSON,
    ephemeral_reply,
    field,
    has_card,
    has_mp4,
    status,
    unfinished_of,
    video_id,
    video_ref,
)

NOT_FOUND = "I can't find that video"


@dataclass
class OtherGuild:
    guild: JSON
    channel_id: int
    carol: JSON


def other_guild(fake: FakeDiscord, world: World) -> OtherGuild:
    """A second guild with its own channel and member; Alice is a member of both.

    Made before the bot starts, so that it learns of the guild from GUILD_CREATE."""
    guild = fake.add_guild("Other Guild")
    guild_id = int(guild["id"])
    channel = fake.add_channel(guild_id, "elsewhere")
    carol = fake.add_user("carol")
    fake.add_member(guild_id, carol)
    fake.add_member(guild_id, world.alice)
    return OtherGuild(guild, int(channel["id"]), carol)


async def make_video(h: Harness, prompt: str, user: JSON, channel_id: int | None = None) -> str:
    """A finished video's provider id."""
    return video_id(await make_card(h, prompt, user, channel_id))


async def make_card(h: Harness, prompt: str, user: JSON, channel_id: int | None = None) -> JSON:
    rec = await h.slash("video", {"prompt": prompt}, user=user, channel_id=channel_id)
    return await h.original(rec, has_mp4, within=15)


async def test_remix_in_scope_and_out_of_it(
    start_bot: StartBot, fake_discord: FakeDiscord, world: World
) -> None:
    elsewhere = other_guild(fake_discord, world)
    env: BotEnv = await start_bot(job_seconds=0.5)
    h = env.harness
    parent = await make_video(h, "a lighthouse at dusk", world.alice)

    # Bob, in the guild where Alice made it: a new job, his own, showing where it came from.
    rec = await h.slash("remix", {"video": parent, "prompt": "now at night"}, user=world.bob)
    card = await h.original(rec, has_card)
    assert not h.is_ephemeral(card)
    assert field(card, "By") == f"<@{world.bob['id']}>"
    lineage = field(card, "Remix of") or ""
    assert lineage.startswith("#1 ")
    assert f"by <@{world.alice['id']}>" in lineage
    assert "a lighthouse at dusk" in lineage
    child = await env.bot.videos.get(video_id(card))
    assert child is not None
    assert (child.owner_id, child.parent_id, child.kind) == (int(world.bob["id"]), parent, "remix")
    assert env.sim.calls[Operation.REMIX] == 1
    done = await h.original(rec, has_mp4, within=15)
    assert field(done, "Remix of") is not None

    # Carol, in another guild, gets the answer an unknown id gets, and the API hears nothing.
    options = {"video": parent, "prompt": "steal it"}
    rec = await h.slash("remix", options, user=elsewhere.carol, channel_id=elsewhere.channel_id)
    reply = await h.wait_for(lambda: ephemeral_reply(h, rec), what="the refusal")
    assert NOT_FOUND in reply["content"]
    assert env.sim.calls[Operation.REMIX] == 1
    assert await unfinished_of(env.bot.videos, int(elsewhere.carol["id"])) == 0

    # Alice may use her own video in the other guild.
    options = {"video": parent, "prompt": "in the other server"}
    rec = await h.slash("remix", options, user=world.alice, channel_id=elsewhere.channel_id)
    card = await h.original(rec, has_card)
    assert not h.is_ephemeral(card)
    assert status(card) in ("⏳ Queued", "🎬 Generating")
    assert f"by <@{world.alice['id']}>" in (field(card, "Remix of") or "")
    assert env.sim.calls[Operation.REMIX] == 2
    await h.original(rec, has_mp4, within=15)


async def test_autocomplete_lists_only_visible_videos(
    start_bot: StartBot, fake_discord: FakeDiscord, world: World
) -> None:
    elsewhere = other_guild(fake_discord, world)
    env = await start_bot(job_seconds=0.5)
    h = env.harness
    # Choices carry the bot's short reference: a provider's id may be past Discord's 100.
    alices = video_ref(await make_card(h, "a red kite over the dunes", world.alice))
    bobs = video_ref(await make_card(h, "a blue whale " + "singing " * 30, world.bob))
    carols = video_ref(await make_card(h, "a green comet", elsewhere.carol, elsewhere.channel_id))

    rec = await h.autocomplete("remix", {"video": "", "prompt": ""}, "video", user=world.bob)
    await h.response(rec)
    choices = {c["value"]: c["name"] for c in rec.choices or []}
    assert set(choices) == {alices, bobs}
    assert choices[alices] == "a red kite over the dunes · completed · 4s"
    # A long prompt is cut to fit Discord's 100 characters, keeping the status.
    assert choices[bobs].startswith("a blue whale singing")
    assert choices[bobs].endswith("… · completed · 4s")
    assert len(choices[bobs]) <= 100

    # What is typed narrows the list.
    rec = await h.autocomplete("remix", {"video": "kite", "prompt": ""}, "video", user=world.bob)
    await h.response(rec)
    assert [c["value"] for c in rec.choices or []] == [alices]

    # In the other guild, Carol sees her own video only; Alice sees hers there as well.
    rec = await h.autocomplete(
        "remix",
        {"video": "", "prompt": ""},
        "video",
        user=elsewhere.carol,
        channel_id=elsewhere.channel_id,
    )
    await h.response(rec)
    assert [c["value"] for c in rec.choices or []] == [carols]
    rec = await h.autocomplete(
        "remix",
        {"video": "", "prompt": ""},
        "video",
        user=world.alice,
        channel_id=elsewhere.channel_id,
    )
    await h.response(rec)
    assert {c["value"] for c in rec.choices or []} == {alices, carols}
