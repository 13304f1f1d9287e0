"""Which of the contract's operations a slash command needs, kept in the command's extras.

`/help` leaves out the commands whose operation the provider is known to lack.
"""

from __future__ import annotations

from typing import Any, Final

from discord import app_commands

from bot.videoapi.models import Operation

_KEY: Final = "videobot.operation"


def requires(operation: Operation) -> dict[str, Operation]:
    """`@app_commands.command(..., extras=requires(Operation.CREATE))`"""
    return {_KEY: operation}


def required(command: app_commands.Command[Any, ..., Any]) -> Operation | None:
    operation = command.extras.get(_KEY)
    return operation if isinstance(operation, Operation) else None
