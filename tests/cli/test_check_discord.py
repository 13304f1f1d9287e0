"""`videobot check`, the Discord half, against the fake Discord: each problem one line with
its fix, and the token never shown."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from bot.cli.check import check_discord
from bot.config import Settings
from bot.storage import SqliteDatabase, VideoRepository
from bot.wiring import commands_in_code
from tests.e2e.fake_discord import ATTACH_FILES, EMBED_LINKS, FakeDiscord
from tests.e2e.harness import World
from tests.e2e.views import insert_video


def settings(fake: FakeDiscord, tmp_path: Path, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "discord_token": fake.token,
        "database_path": tmp_path / "videobot.sqlite3",
        **extra,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


async def register_code_commands(fake: FakeDiscord, config: Settings) -> list[dict[str, Any]]:
    code = await commands_in_code(config)
    fake.commands[None] = [{**c, "id": str(fake.new_id())} for c in code]
    return code


async def used_in(config: Settings, world: World) -> None:
    async with await SqliteDatabase.open(config.database_path) as db:
        await insert_video(
            VideoRepository(db),
            owner_id=int(world.alice["id"]),
            guild_id=world.guild_id,
            channel_id=world.channel_id,
            prompt="a cat",
            created_at=int(time.time()),
        )


def problems(out: str) -> list[str]:
    return [line.strip() for line in out.splitlines() if line.strip().startswith("problem:")]


async def run(config: Settings, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = await check_discord(config)
    out = capsys.readouterr().out
    assert config.discord_token is not None
    assert config.discord_token.get_secret_value() not in out
    return code, out


async def test_all_well(
    fake_discord: FakeDiscord, world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = settings(fake_discord, tmp_path)
    code = await register_code_commands(fake_discord, config)
    await used_in(config, world)
    result, out = await run(config, capsys)
    assert problems(out) == []
    assert result == 0
    assert f"application: VideoBot (id {fake_discord.application_id})" in out
    assert f"servers: Test Guild ({world.guild_id})" in out
    assert f"commands: {len(code)} registered globally, as in the code" in out
    assert "channels: 1 checked" in out
    # REST only: never the gateway.
    assert not [r for r in fake_discord.requests if "gateway" in r.path]


async def test_a_bad_token(
    fake_discord: FakeDiscord, world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = settings(fake_discord, tmp_path, discord_token=fake_discord.token + "x")
    result, out = await run(config, capsys)
    assert result == 1
    assert problems(out) == [
        "problem: Discord refused DISCORD_TOKEN. Fix: reset the token in the developer portal "
        "(your application, Bot, Reset Token) and put the new one in .env."
    ]


async def test_no_token(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = Settings(_env_file=None)  # type: ignore[call-arg]
    assert await check_discord(config) == 1
    [line] = problems(capsys.readouterr().out)
    assert line.startswith("problem: DISCORD_TOKEN is not set. Fix: ")


async def test_unsynced_commands(
    fake_discord: FakeDiscord, world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result, out = await run(settings(fake_discord, tmp_path), capsys)
    assert result == 1
    assert problems(out) == [
        "problem: no slash commands are registered globally. Fix: start the bot once with "
        "`make run` (a first start syncs them globally; they can take up to an hour to appear)."
    ]
    assert "channels: none used yet" in out


async def test_commands_that_differ_from_the_code(
    fake_discord: FakeDiscord, world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = settings(fake_discord, tmp_path)
    await register_code_commands(fake_discord, config)
    registered = fake_discord.commands[None]
    registered[:] = [c for c in registered if c["name"] != "help"]
    video = next(c for c in registered if c["name"] == "video")
    video["description"] = "an older description"
    registered.append({"name": "old", "type": 1, "description": "gone from the code", "id": "1"})
    result, out = await run(config, capsys)
    assert result == 1
    assert problems(out) == [
        "problem: the commands registered globally differ from the code (not registered: /help; "
        "changed: /video; no longer in the code: /old). Fix: type `@VideoBot sync` in a server "
        "the bot is in."
    ]


async def test_missing_permissions_per_channel(
    fake_discord: FakeDiscord, world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = settings(fake_discord, tmp_path)
    await register_code_commands(fake_discord, config)
    await used_in(config, world)
    fake_discord.deny_bot(world.channel_id, ATTACH_FILES | EMBED_LINKS)
    result, out = await run(config, capsys)
    assert result == 1
    assert problems(out) == [
        "problem: Test Guild #general: the bot lacks Embed Links, Attach Files. Fix: in "
        "#general's settings (Permissions), allow Embed Links, Attach Files for the bot's role, "
        "or give them to that role in Server Settings, Roles."
    ]


async def test_a_thread_is_judged_by_its_parent(
    fake_discord: FakeDiscord, world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = settings(fake_discord, tmp_path)
    await register_code_commands(fake_discord, config)
    thread = fake_discord.add_thread(world.channel_id, "entries")
    async with await SqliteDatabase.open(config.database_path) as db:
        await insert_video(
            VideoRepository(db),
            owner_id=int(world.alice["id"]),
            guild_id=world.guild_id,
            channel_id=int(thread["id"]),
            prompt="in a thread",
            created_at=int(time.time()),
        )
    fake_discord.deny_bot(world.channel_id, ATTACH_FILES)
    _, out = await run(config, capsys)
    assert problems(out)[0].startswith("problem: Test Guild #general: the bot lacks Attach Files.")


async def test_no_server_and_a_dev_guild_elsewhere(
    fake_discord: FakeDiscord, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result, out = await run(settings(fake_discord, tmp_path, dev_guild_id=99), capsys)
    assert result == 1
    assert problems(out) == [
        "problem: the bot is in no server. Fix: open the link `videobot invite` prints and add "
        "it to your server.",
        "problem: DEV_GUILD_ID 99 is not a server the bot is in. Fix: add the bot there with the "
        "link `videobot invite` prints, or correct DEV_GUILD_ID.",
    ]


async def test_a_public_bot_without_an_allowlist_is_warned_of(
    fake_discord: FakeDiscord, world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = settings(fake_discord, tmp_path)
    await register_code_commands(fake_discord, config)
    await used_in(config, world)
    assert fake_discord.application["bot_public"] is True
    result, out = await run(config, capsys)
    assert "warning: the application is public" in out
    assert "Set ALLOWED_GUILD_IDS, or turn off Public Bot" in out
    # A warning, not a problem: the bot works, and the operator decides.
    assert result == 0

    allowed = settings(fake_discord, tmp_path, allowed_guild_ids=str(world.guild_id))
    _, out = await run(allowed, capsys)
    assert "warning" not in out

    fake_discord.application["bot_public"] = False
    _, out = await run(config, capsys)
    assert "warning" not in out


async def test_servers_outside_the_allowlist_are_named(
    fake_discord: FakeDiscord, world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = settings(fake_discord, tmp_path, allowed_guild_ids="1")
    await register_code_commands(fake_discord, config)
    _, out = await run(config, capsys)
    assert (
        f"warning: not in ALLOWED_GUILD_IDS, the bot leaves these servers when it starts: "
        f"{world.guild_id}"
    ) in out
