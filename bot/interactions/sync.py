"""Whether the slash commands registered with Discord are the ones this code defines.

Both sides are reduced to what a user sees of a command (names, descriptions, options, who may
use it); ids, versions and Discord's defaults are left out, so equal means "nothing to sync".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import discord
from discord import app_commands

Payload = Mapping[str, Any]
_LIMITS = ("min_value", "max_value", "min_length", "max_length")


def code_payloads(tree: app_commands.CommandTree[Any], guild: int | None = None) -> list[Payload]:
    """The commands as `tree.sync` would send them (globally, or to one guild)."""
    scope = None if guild is None else discord.Object(guild)
    return [command.to_dict(tree) for command in tree.get_commands(guild=scope)]


def _option(option: Payload) -> tuple[object, ...]:
    return (
        option.get("type"),
        option["name"],
        option.get("description", ""),
        bool(option.get("required")),
        tuple((c["name"], c["value"]) for c in option.get("choices") or ()),
        tuple(sorted(option.get("channel_types") or ())),
        bool(option.get("autocomplete")),
        tuple(option.get(key) for key in _LIMITS),
        tuple(_option(o) for o in option.get("options") or ()),
    )


def _shape(command: Payload) -> tuple[object, ...]:
    return (
        command.get("description", ""),
        tuple(_option(o) for o in command.get("options") or ()),
        bool(command.get("nsfw")),
        command.get("default_member_permissions"),
    )


def _key(command: Payload) -> tuple[str, int]:
    return command["name"], int(command.get("type", 1))


def _shown(key: tuple[str, int]) -> str:
    name, kind = key
    return f"/{name}" if kind == 1 else name


@dataclass(frozen=True, slots=True)
class CommandDiff:
    new: list[str]  # in the code, not registered
    changed: list[str]
    gone: list[str]  # registered, no longer in the code

    def __bool__(self) -> bool:
        return bool(self.new or self.changed or self.gone)

    def __str__(self) -> str:
        parts = [
            f"{label}: {', '.join(names)}"
            for label, names in (
                ("not registered", self.new),
                ("changed", self.changed),
                ("no longer in the code", self.gone),
            )
            if names
        ]
        return "; ".join(parts) or "in sync"


def compare(code: Sequence[Payload], registered: Sequence[Payload]) -> CommandDiff:
    ours = {_key(c): _shape(c) for c in code}
    theirs = {_key(c): _shape(c) for c in registered}
    return CommandDiff(
        new=sorted(_shown(k) for k in ours.keys() - theirs.keys()),
        changed=sorted(_shown(k) for k in ours.keys() & theirs.keys() if ours[k] != theirs[k]),
        gone=sorted(_shown(k) for k in theirs.keys() - ours.keys()),
    )
