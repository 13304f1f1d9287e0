"""Every extension loads, and no two commands share a name (python-discord's check)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import discord
import pytest
from discord import app_commands

from bot.app import EXTENSIONS
from bot.config import Settings
from bot.wiring import commands_in_code

SUBCOMMAND_TYPES = {1, 2}  # a subcommand, a subcommand group


def settings() -> Settings:
    return Settings(_env_file=None)  # type: ignore[call-arg]


def repeated(names: list[str]) -> list[str]:
    return [name for name, count in Counter(names).items() if count > 1]


def walk(payload: dict[str, Any], prefix: str = "") -> list[str]:
    """Every qualified name in a command payload, groups and subcommands included."""
    name = f"{prefix}{payload['name']}"
    found = [name]
    children = [o for o in payload.get("options") or [] if o.get("type") in SUBCOMMAND_TYPES]
    assert not repeated([child["name"] for child in children]), name
    for child in children:
        found.extend(walk(child, f"{name} "))
    return found


async def test_every_extension_loads_and_no_two_commands_share_a_name() -> None:
    payloads = await commands_in_code(settings())
    assert not repeated([payload["name"] for payload in payloads])
    names = {name for payload in payloads for name in walk(payload)}
    assert {"video", "remix", "extend", "edit", "help", "videos list", "character create"} <= names
    assert len(EXTENSIONS) == len(set(EXTENSIONS))


async def test_a_duplicate_command_name_fails_the_load() -> None:
    async def callback(interaction: Any) -> None:
        return None

    first = app_commands.Command(name="video", description="one", callback=callback)
    second = app_commands.Command(name="video", description="two", callback=callback)
    tree: app_commands.CommandTree[Any] = app_commands.CommandTree(
        discord.Client(intents=discord.Intents.none())
    )
    tree.add_command(first)
    with pytest.raises(app_commands.CommandAlreadyRegistered):
        tree.add_command(second)
