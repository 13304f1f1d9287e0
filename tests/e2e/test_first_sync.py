"""First start syncs the slash commands once, and only when none are registered."""

from __future__ import annotations

import logging

import pytest

from bot.interactions.sync import code_payloads

from .botenv import StartBot
from .harness import World

GLOBAL_PUT = "PUT /applications/{application_id}/commands"
GUILD_PUT = "PUT /applications/{application_id}/guilds/{guild_id}/commands"


async def test_first_start_syncs_once(
    start_bot: StartBot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.app")
    env = await start_bot()
    fake = env.harness.fake
    assert len(fake.requests_to(GLOBAL_PUT)) == 1
    code = {c["name"] for c in code_payloads(env.bot.tree)}
    assert {c["name"] for c in fake.commands[None]} == code
    [line] = [r.getMessage() for r in caplog.records if "first start" in r.getMessage()]
    assert "globally" in line
    assert "up to an hour" in line

    caplog.clear()
    await start_bot()  # a restart: the commands are there now
    assert len(fake.requests_to(GLOBAL_PUT)) == 1
    assert not [r for r in caplog.records if r.name == "bot.app" and r.levelno >= logging.INFO]


async def test_registered_commands_that_differ_are_logged_not_synced(
    start_bot: StartBot, caplog: pytest.LogCaptureFixture
) -> None:
    env = await start_bot()
    fake = env.harness.fake
    fake.commands[None] = [c for c in fake.commands[None] if c["name"] != "help"]
    caplog.clear()
    await start_bot()
    assert len(fake.requests_to(GLOBAL_PUT)) == 1
    [line] = [r.getMessage() for r in caplog.records if "differ" in r.getMessage()]
    assert "not registered: /help" in line
    assert "@VideoBot sync" in line


async def test_a_development_guild_is_synced_instead(start_bot: StartBot, world: World) -> None:
    env = await start_bot(settings={"dev_guild_id": world.guild_id})
    fake = env.harness.fake
    assert fake.requests_to(GLOBAL_PUT) == []
    assert len(fake.requests_to(GUILD_PUT)) == 1
