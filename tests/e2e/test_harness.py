"""Self-tests of the end-to-end harness, with a throwaway bot defined here (not the real one)."""

from __future__ import annotations

import asyncio
import io
import json
from typing import Any

import aiohttp
import discord
import pytest
from discord import app_commands
from discord.ext import commands

from tests.specs import DISCORD_SPEC

from .conftest import StartHarness
from .fake_discord import ATTACH_FILES, FakeDiscord, is_loading
from .harness import Harness, Upload, World

CALLBACK = "POST /interactions/{interaction_id}/{interaction_token}/callback"

# -- the throwaway bot -----------------------------------------------------------------------


class LikeButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"toy:v1:like:(?P<video>\w+)",
):
    def __init__(self, video: str) -> None:
        button: discord.ui.Button[discord.ui.View] = discord.ui.Button(
            label="Like", custom_id=f"toy:v1:like:{video}"
        )
        super().__init__(button)
        self.video = video

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: Any
    ) -> LikeButton:
        return cls(match["video"])

    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.response.edit_message(
            content=f"{interaction.user.name} liked {self.video}"
        )


class PromptModal(discord.ui.Modal, title="Remix"):
    prompt: discord.ui.TextInput[PromptModal] = discord.ui.TextInput(
        label="Prompt", custom_id="prompt"
    )

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"remixing: {self.prompt.value}", ephemeral=True)


class ToyBot(commands.Bot):
    def __init__(self, guild_id: int) -> None:
        super().__init__(command_prefix=commands.when_mentioned, intents=discord.Intents.default())
        self.guild_id = guild_id
        self.gate = asyncio.Event()
        self.events: list[str] = []

    async def setup_hook(self) -> None:
        self.add_dynamic_items(LikeButton)
        for command in (slow, secret, clip, card, remix, pick, status, post, upload):
            self.tree.add_command(command)
        self.tree.add_command(videos, guild=discord.Object(self.guild_id))

    async def on_raw_reaction_add(self, event: discord.RawReactionActionEvent) -> None:
        if self.user is None or event.user_id == self.user.id or str(event.emoji) != "⏩":
            return
        channel = self.get_channel(event.channel_id)
        assert isinstance(channel, discord.TextChannel)
        await channel.send(f"extending {event.message_id} for <@{event.user_id}>")


def toy(interaction: discord.Interaction) -> ToyBot:
    assert isinstance(interaction.client, ToyBot)
    return interaction.client


@app_commands.command(description="defer, then edit the original response")
async def slow(interaction: discord.Interaction, prompt: str) -> None:
    await interaction.response.defer(thinking=True)
    await interaction.edit_original_response(content=f"done: {prompt}")


@app_commands.command(description="an ephemeral answer")
async def secret(interaction: discord.Interaction) -> None:
    await interaction.response.send_message("only you can see this", ephemeral=True)


@app_commands.command(description="a file through a followup")
async def clip(interaction: discord.Interaction, size: int) -> None:
    await interaction.response.defer()
    file = discord.File(io.BytesIO(b"\x00" * size), filename="clip.mp4")
    try:
        await interaction.followup.send("here is your clip", file=file)
    except discord.HTTPException as exc:
        await interaction.followup.send(f"too large for Discord ({exc.status} {exc.code})")


@app_commands.command(description="a message with a persistent button")
async def card(interaction: discord.Interaction, video: str) -> None:
    view = discord.ui.View(timeout=None).add_item(LikeButton(video))
    await interaction.response.send_message(f"video {video}", view=view)


@app_commands.command(description="open a modal")
async def remix(interaction: discord.Interaction) -> None:
    await interaction.response.send_modal(PromptModal())


@app_commands.command(description="autocomplete")
async def pick(interaction: discord.Interaction, video: str) -> None:
    await interaction.response.send_message(f"picked {video}")


@pick.autocomplete("video")
async def pick_video(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    names = ["cat video", "car chase", "dog park"]
    return [app_commands.Choice(name=n, value=n.split()[0]) for n in names if current in n]


@app_commands.command(description="edit after the token died, through the channel route")
async def status(interaction: discord.Interaction) -> None:
    await interaction.response.defer()
    message = await interaction.edit_original_response(content="working")
    await toy(interaction).gate.wait()
    try:
        await interaction.edit_original_response(content="finished")
    except discord.HTTPException as exc:
        toy(interaction).events.append(f"webhook edit failed: {exc.status} {exc.code}")
        assert isinstance(interaction.channel, discord.TextChannel)
        await interaction.channel.get_partial_message(message.id).edit(content="finished")


@app_commands.command(description="a channel message, edited later")
async def post(interaction: discord.Interaction) -> None:
    await interaction.response.send_message("on it", ephemeral=True)
    assert isinstance(interaction.channel, discord.TextChannel)
    message = await interaction.channel.send("status: queued")
    await toy(interaction).gate.wait()
    try:
        await message.edit(content="status: done")
    except discord.NotFound as exc:
        toy(interaction).events.append(f"edit failed: {exc.status} {exc.code}")
        await interaction.channel.send(
            f"{interaction.user.mention} status: done (card was deleted)"
        )


@app_commands.command(description="read an uploaded attachment")
async def upload(interaction: discord.Interaction, image: discord.Attachment) -> None:
    data = await image.read()
    size_ok = len(data) == image.size
    await interaction.response.send_message(f"{image.filename} {image.content_type} {size_ok}")


videos = app_commands.Group(name="videos", description="library")


@videos.command(name="list", description="list videos")
async def videos_list(interaction: discord.Interaction, user: discord.Member) -> None:
    await interaction.response.send_message(f"videos of {user.name}")


@pytest.fixture
async def toy_harness(start_harness: StartHarness, world: World) -> Harness:
    return await start_harness(ToyBot(world.guild_id))


# -- login and protocol ----------------------------------------------------------------------


async def test_login_without_gateway(toy_harness: Harness, fake_discord: FakeDiscord) -> None:
    routes = [r.route for r in fake_discord.requests]
    assert routes[:2] == ["GET /users/@me", "GET /oauth2/applications/@me"]
    assert all(r.authorized and "Authorization" not in r.headers for r in fake_discord.requests)
    bot = toy_harness.client
    assert bot.user is not None
    assert bot.user.id == fake_discord.application_id
    assert bot.application_id == fake_discord.application_id
    guild = bot.get_guild(toy_harness.world.guild_id)
    assert guild is not None
    assert guild.me is not None
    assert guild.get_channel(toy_harness.world.channel_id) is not None
    assert bot.is_ready()


async def test_json_content_type_and_unknown_routes(fake_discord: FakeDiscord) -> None:
    async with aiohttp.ClientSession() as session:
        auth = {"Authorization": f"Bot {fake_discord.token}"}
        async with session.get(fake_discord.api_base + "/users/@me", headers=auth) as resp:
            assert resp.headers["Content-Type"] == "application/json"
        async with session.get(fake_discord.api_base + "/users/@me") as resp:
            assert resp.status == 401
        async with session.get(fake_discord.api_base + "/gateway/bot", headers=auth) as resp:
            assert resp.status == 404
            assert resp.headers["Content-Type"] == "application/json"
            assert await resp.json() == {"message": "404: Not Found", "code": 0}
    assert [r.path for r in fake_discord.unknown_requests] == ["/gateway/bot"]
    with pytest.raises(AssertionError, match="unknown route: GET /gateway/bot"):
        fake_discord.assert_clean()
    fake_discord.unknown_requests.clear()


def openapi() -> dict[str, Any]:
    spec: dict[str, Any] = json.loads(DISCORD_SPEC.read_text())
    return spec


def test_routes_exist_in_discords_openapi() -> None:
    paths = openapi()["paths"]
    routes = FakeDiscord().route_table()
    missing = [f"{m} {p}" for m, p in routes if m.lower() not in paths.get(p, {})]
    assert not missing


async def test_message_shapes_match_openapi(toy_harness: Harness) -> None:
    schemas = openapi()["components"]["schemas"]
    rec = await toy_harness.slash("clip", {"size": 10})
    message = await toy_harness.original(rec)
    checks = [
        ("MessageResponse", message),
        ("MessageAttachmentResponse", message["attachments"][0]),
        ("ApplicationCommandInteractionMetadataResponse", message["interaction_metadata"]),
        ("InteractionCallbackResponse", toy_harness.fake.requests_to(CALLBACK)[-1].response),
    ]
    for name, payload in checks:
        missing = set(schemas[name].get("required", [])) - set(payload)
        assert not missing, f"{name} lacks {missing}"


async def test_command_sync_is_stored_and_reused(
    toy_harness: Harness, fake_discord: FakeDiscord
) -> None:
    bot = toy_harness.client
    assert isinstance(bot, ToyBot)
    synced = await bot.tree.sync()
    guild_synced = await bot.tree.sync(guild=discord.Object(toy_harness.world.guild_id))
    assert {c.name for c in synced} == {
        "slow",
        "secret",
        "clip",
        "card",
        "remix",
        "pick",
        "status",
        "post",
        "upload",
    }
    assert [c.name for c in guild_synced] == ["videos"]
    again = await bot.tree.sync()
    assert {c.id for c in again} == {c.id for c in synced}  # same names keep their ids
    payload = toy_harness.command_payload("slow", {"prompt": "x"})
    assert payload["data"]["id"] == str(next(c.id for c in synced if c.name == "slow"))


# -- interactions ----------------------------------------------------------------------------


async def test_defer_then_edit_original(toy_harness: Harness, fake_discord: FakeDiscord) -> None:
    rec = await toy_harness.slash("slow", {"prompt": "a cat"})
    await toy_harness.response(rec)
    assert rec.response_type == 5
    assert rec.ack_latency is not None
    assert rec.ack_latency < 3
    callback = fake_discord.requests_to(CALLBACK)
    assert callback[0].query == {"with_response": "1"}
    message = await toy_harness.original(rec)
    assert message["content"] == "done: a cat"
    assert not is_loading(message)
    assert not toy_harness.is_ephemeral(message)
    assert message["interaction_metadata"]["user"]["id"] == toy_harness.world.alice["id"]
    assert toy_harness.messages() == [message]


async def test_webhook_rebuilt_from_url_reaches_the_fake(
    toy_harness: Harness, fake_discord: FakeDiscord
) -> None:
    rec = await toy_harness.slash("slow", {"prompt": "dog"})
    message = await toy_harness.original(rec)
    # from_url accepts only discord.com URLs; requests still go through Route.BASE.
    url = f"https://discord.com/api/webhooks/{rec.application_id}/{rec.token}"
    hook = discord.Webhook.from_url(url, client=toy_harness.client)
    await hook.edit_message(int(message["id"]), content="edited after a restart")
    assert fake_discord.messages[int(message["id"])]["content"] == "edited after a restart"


async def test_ephemeral_message(toy_harness: Harness, world: World) -> None:
    rec = await toy_harness.slash("secret", user=world.bob)
    message = await toy_harness.original(rec)
    assert message["content"] == "only you can see this"
    assert toy_harness.is_ephemeral(message)
    assert toy_harness.messages(visible_to=world.bob) == [message]
    assert toy_harness.messages(visible_to=world.alice) == []
    channel = toy_harness.client.get_channel(world.channel_id)
    assert isinstance(channel, discord.TextChannel)
    with pytest.raises(discord.NotFound):  # ephemeral messages do not exist for channel routes
        await channel.fetch_message(int(message["id"]))


async def test_file_through_followup(toy_harness: Harness, fake_discord: FakeDiscord) -> None:
    rec = await toy_harness.slash("clip", {"size": 4096})
    message = await toy_harness.original(rec)
    assert message["content"] == "here is your clip"
    [attachment] = message["attachments"]
    assert (attachment["filename"], attachment["size"]) == ("clip.mp4", 4096)
    assert attachment["content_type"] == "video/mp4"
    [upload] = fake_discord.requests_to("POST /webhooks/{webhook_id}/{webhook_token}")
    assert [(p.name, p.filename, p.size) for p in upload.files] == [("files[0]", "clip.mp4", 4096)]
    assert upload.files[0].data == b"\x00" * 4096
    assert toy_harness.followups(rec) == []  # the first followup filled the deferred message in
    async with aiohttp.ClientSession() as session, session.get(attachment["url"]) as resp:
        assert await resp.read() == b"\x00" * 4096


async def test_attachment_size_limit(toy_harness: Harness, fake_discord: FakeDiscord) -> None:
    fake_discord.set_attachment_limit(1000)
    rec = await toy_harness.slash("clip", {"size": 2000})
    message = await toy_harness.original(rec)
    assert message["content"] == "too large for Discord (413 40005)"
    assert message["attachments"] == []


async def test_persistent_button(toy_harness: Harness, world: World) -> None:
    rec = await toy_harness.slash("card", {"video": "v123"})
    message = await toy_harness.original(rec)
    toy_harness.client._connection._view_store._views.clear()  # as after a restart
    click = await toy_harness.click(message, "toy:v1:like:v123", user=world.bob)
    await toy_harness.response(click)
    assert click.response_type == 7
    assert toy_harness.messages()[0]["content"] == "bob liked v123"
    assert toy_harness.messages()[0]["components"] == message["components"]


async def test_modal_open_and_submit(toy_harness: Harness, world: World) -> None:
    opener = await toy_harness.slash("remix")
    await toy_harness.response(opener)
    assert opener.response_type == 9
    assert opener.modal is not None
    assert opener.modal["title"] == "Remix"
    submit = await toy_harness.submit_modal(opener, {"prompt": "make it blue"})
    message = await toy_harness.original(submit)
    assert message["content"] == "remixing: make it blue"
    assert toy_harness.is_ephemeral(message)
    assert message["interaction_metadata"]["triggering_interaction_metadata"]["id"] == str(
        opener.id
    )


async def test_autocomplete(toy_harness: Harness) -> None:
    rec = await toy_harness.autocomplete("pick", {"video": "ca"}, focused="video")
    await toy_harness.response(rec)
    assert rec.response_type == 8
    assert rec.choices == [
        {"name": "cat video", "value": "cat"},
        {"name": "car chase", "value": "car"},
    ]


async def test_subcommand_of_guild_group_with_user_option(
    toy_harness: Harness, world: World
) -> None:
    payload = toy_harness.command_payload("videos list", {"user": world.bob})
    assert payload["data"]["guild_id"] == world.guild["id"]
    assert payload["data"]["options"][0]["type"] == 1
    assert payload["data"]["resolved"]["members"][world.bob["id"]]["permissions"]
    rec = await toy_harness.slash("videos list", {"user": world.bob})
    message = await toy_harness.original(rec)
    assert message["content"] == "videos of bob"


async def test_uploaded_attachment_option(toy_harness: Harness) -> None:
    rec = await toy_harness.slash("upload", {"image": Upload("ref.png", b"\x89PNG" + b"0" * 60)})
    message = await toy_harness.original(rec)
    assert message["content"] == "ref.png image/png True"


# -- failure paths ---------------------------------------------------------------------------


async def test_expired_token_falls_back_to_channel_route(
    toy_harness: Harness, fake_discord: FakeDiscord
) -> None:
    bot = toy_harness.client
    assert isinstance(bot, ToyBot)
    rec = await toy_harness.slash("status")
    await toy_harness.original(rec, lambda m: m["content"] == "working")
    fake_discord.expire_interaction(rec)
    bot.gate.set()
    message = await toy_harness.original(rec, lambda m: m["content"] == "finished")
    assert bot.events == ["webhook edit failed: 401 50027"]
    [channel_edit] = fake_discord.requests_to("PATCH /channels/{channel_id}/messages/{message_id}")
    assert channel_edit.path.endswith(f"/messages/{message['id']}")
    hook_edits = fake_discord.requests_to(
        "PATCH /webhooks/{webhook_id}/{webhook_token}/messages/@original"
    )
    assert [r.status for r in hook_edits] == [200, 401]
    assert hook_edits[1].response == {"message": "Invalid Webhook Token", "code": 50027}


async def test_deleted_message_is_unknown(
    toy_harness: Harness, fake_discord: FakeDiscord, world: World
) -> None:
    bot = toy_harness.client
    assert isinstance(bot, ToyBot)
    await toy_harness.slash("post")
    card = await toy_harness.wait_for(
        lambda: next((m for m in toy_harness.messages() if m["content"] == "status: queued"), None)
    )
    fake_discord.delete_message(int(card["id"]))
    bot.gate.set()
    await toy_harness.wait_for(lambda: bot.events)
    assert bot.events == ["edit failed: 404 10008"]
    repost = await toy_harness.wait_for(
        lambda: [m for m in toy_harness.messages() if "deleted" in m["content"]]
    )
    assert repost[0]["content"].startswith(f"<@{world.alice['id']}>")


async def test_rate_limit_is_retried(toy_harness: Harness, fake_discord: FakeDiscord) -> None:
    route = "POST /channels/{channel_id}/messages"
    fake_discord.inject_rate_limit(route, retry_after=0.05)
    await toy_harness.slash("post")
    await toy_harness.wait_for(
        lambda: any(m["content"] == "status: queued" for m in toy_harness.messages())
    )
    assert [r.status for r in fake_discord.requests_to(route)] == [429, 200]
    bot = toy_harness.client
    assert isinstance(bot, ToyBot)
    bot.gate.set()
    await toy_harness.wait_for(
        lambda: any(m["content"] == "status: done" for m in toy_harness.messages())
    )


async def test_missing_permission_and_already_acknowledged(
    toy_harness: Harness, fake_discord: FakeDiscord, world: World
) -> None:
    fake_discord.deny_bot(world.channel_id, ATTACH_FILES)
    channel = toy_harness.client.get_channel(world.channel_id)
    assert isinstance(channel, discord.TextChannel)
    with pytest.raises(discord.Forbidden) as forbidden:
        await channel.send(file=discord.File(io.BytesIO(b"x"), filename="a.txt"))
    assert forbidden.value.code == 50013
    rec = await toy_harness.slash("secret")
    await toy_harness.original(rec)
    session = toy_harness.client.http._HTTPClient__session  # type: ignore[attr-defined]
    url = f"{fake_discord.api_base}/interactions/{rec.id}/{rec.token}/callback"
    async with session.post(url, json={"type": 4, "data": {"content": "again"}}) as resp:
        assert resp.status == 400
        assert (await resp.json())["code"] == 40060


async def test_reaction_through_raw_listener(toy_harness: Harness, world: World) -> None:
    rec = await toy_harness.slash("card", {"video": "v9"})
    message = await toy_harness.original(rec)
    await toy_harness.react(message, world.bob, "⏩")
    extended = await toy_harness.wait_for(
        lambda: [m for m in toy_harness.messages() if m["content"].startswith("extending")]
    )
    assert extended[0]["content"] == f"extending {message['id']} for <@{world.bob['id']}>"
    assert toy_harness.fake.messages[int(message["id"])]["reactions"][0]["count"] == 1


async def test_token_older_than_15_minutes_is_unknown(
    toy_harness: Harness, fake_discord: FakeDiscord
) -> None:
    toy_harness.allow_errors()  # the command fails, and the tree logs it
    rec = await toy_harness.slash("secret", age=15 * 60 + 1)
    [callback] = await toy_harness.wait_for(lambda: fake_discord.requests_to(CALLBACK))
    assert (callback.status, callback.error_code) == (404, 10062)
    assert rec.response_type is None
    await toy_harness.wait_for(lambda: toy_harness.errors)


async def test_channel_routes_threads_reactions_attachments(
    toy_harness: Harness, fake_discord: FakeDiscord, world: World
) -> None:
    channel = toy_harness.client.get_channel(world.channel_id)
    assert isinstance(channel, discord.TextChannel)
    first = discord.File(io.BytesIO(b"a" * 10), filename="a.png")
    message = await channel.send("contest", file=first)
    second = discord.File(io.BytesIO(b"b" * 20), filename="b.png")
    await message.edit(attachments=[message.attachments[0], second])
    stored = fake_discord.messages[message.id]
    assert [(a["filename"], a["size"]) for a in stored["attachments"]] == [
        ("a.png", 10),
        ("b.png", 20),
    ]
    third = discord.File(io.BytesIO(b"c"), filename="c.mp4")
    edited = await message.edit(content="contest (edited)", attachments=[third])
    assert [a.filename for a in edited.attachments] == ["c.mp4"]
    assert await edited.attachments[0].read() == b"c"

    await message.add_reaction("🗳️")
    fetched = await channel.fetch_message(message.id)
    assert [(str(r.emoji), r.count, r.me) for r in fetched.reactions] == [("🗳️", 1, True)]

    thread = await message.create_thread(name="entries")
    assert thread.id == message.id
    await thread.send("entry 1")
    loose = await channel.create_thread(name="chat", type=discord.ChannelType.public_thread)
    assert loose.parent_id == channel.id
    assert [m["content"] for m in toy_harness.messages(thread.id)] == ["entry 1"]
    assert fake_discord.messages[message.id]["thread"]["name"] == "entries"
    with pytest.raises(discord.HTTPException) as again:
        await message.create_thread(name="twice")
    assert again.value.code == 160004

    fake_discord.inject_error(
        "PATCH /channels/{channel_id}/messages/{message_id}", 403, 50013, "Missing Permissions"
    )
    with pytest.raises(discord.Forbidden):
        await message.edit(content="not now")
    await message.delete()
    with pytest.raises(discord.NotFound) as gone:
        await message.edit(content="too late")
    assert gone.value.code == 10008
