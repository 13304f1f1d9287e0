"""One error handler for every application command, routing by the error's type."""

from __future__ import annotations

import logging
import secrets
from typing import Any, TypeVar

import discord
from discord import app_commands

from bot.errors import NotAllowed, SpendingRefused, UserError
from bot.ui.permissions import (
    MISSING_ACCESS,
    MISSING_PERMISSIONS,
    NEEDED,
    cannot,
    missing,
)
from bot.ui.spending import denied_text, refusal_text
from bot.ui.text import MESSAGE_MAX, excerpt, timestamp
from bot.videoapi.errors import (
    APIConnectionError,
    InternalServerError,
    InvalidParameterError,
    ModelUnavailableError,
    RateLimitError,
    UnsupportedOperationError,
    VideoAPIError,
)
from bot.videoapi.providers import ProviderRemoved

log = logging.getLogger(__name__)

# Permissions as Discord's settings name them, where the attribute's name differs.
PERMISSION_NAMES = {"manage_guild": "Manage Server"}


# How much of a member's input an answer quotes back.
QUOTE_MAX = 40


def describe(error: BaseException) -> str | None:
    """The message for an error the user can act on, or None for a bug."""
    if isinstance(error, SpendingRefused):
        return refusal_text(error.refused, error.scope, error.now)
    if isinstance(error, NotAllowed):
        return denied_text(error.reason, error.access)
    if isinstance(error, UserError | InvalidParameterError):
        return str(error)
    if isinstance(error, UnsupportedOperationError):
        return f"That is not supported by this provider ({error.operation.value})."
    if isinstance(error, ProviderRemoved):
        return f"I can't do that: {error.message}."
    if isinstance(error, ModelUnavailableError):
        return f"The provider retired model {error.model}; choose another."
    if isinstance(error, RateLimitError):
        return "The video provider is rate limiting us right now. Try again in a minute."
    if isinstance(error, InternalServerError | APIConnectionError):
        return "The video provider is not answering properly right now. Try again shortly."
    if isinstance(error, VideoAPIError) and error.status is not None and error.status < 500:
        return f"The video provider refused this: {error.message}"
    if isinstance(error, app_commands.TransformerError):
        # An option Discord sent without what it names (a member who left, a channel or role
        # Discord did not resolve): nothing was done with it.
        given = excerpt(str(error.value), QUOTE_MAX)
        return f"I couldn't use `{given}` as a {error.type.name}: pick one from Discord's list."
    if isinstance(error, app_commands.CommandOnCooldown):
        retry_at = discord.utils.utcnow().timestamp() + error.retry_after
        return f"Slow down: you can use this again {timestamp(retry_at)}."
    if isinstance(error, app_commands.MissingPermissions):
        names = (
            PERMISSION_NAMES.get(p, p.replace("_", " ").title()) for p in error.missing_permissions
        )
        return f"You need {', '.join(names)} to do that."
    if isinstance(error, app_commands.BotMissingPermissions):
        return f"I need {', '.join(error.missing_permissions)} in this channel to do that."
    if isinstance(error, app_commands.NoPrivateMessage):
        return "That only works in a server."
    if isinstance(error, app_commands.CheckFailure):
        return "You can't use that here."
    return None


def refused_text(interaction: discord.Interaction[Any], error: discord.Forbidden) -> str | None:
    """Discord refused the bot a permission: which ones it lacks in this channel, plainly."""
    if error.code not in (MISSING_ACCESS, MISSING_PERMISSIONS):
        return None
    where = f"<#{interaction.channel_id}>" if interaction.channel_id else "this channel"
    lacking = missing(interaction.app_permissions)
    if lacking:
        return cannot(where, lacking)
    labels = ", ".join(n.label for n in NEEDED)
    return (
        f"Discord refused me a permission for that from {where}. "
        f"I need {labels} in every channel I work in."
    )


def bug_text(error: BaseException, where: str) -> str:
    """Log a bug under a new error id; what tells the user that id."""
    error_id = secrets.token_hex(4)
    log.error("error %s in %s", error_id, where, exc_info=error)
    return f"Something went wrong on my side. If it keeps happening, quote error `{error_id}`."


def explain(error: BaseException, where: str) -> str:
    """What tells the user about `error` where no handler answers for it (a reaction, a job
    that waited): its message, or a bug's id."""
    return describe(error) or bug_text(error, where)


def fitted(text: str) -> str:
    """`text` within Discord's message limit: an error may quote a very long input."""
    return text if len(text) <= MESSAGE_MAX else excerpt(text, MESSAGE_MAX)


async def reply(interaction: discord.Interaction[Any], text: str) -> None:
    """Answer ephemerally, whether or not the interaction was answered already."""
    text = fitted(text)
    if interaction.response.is_done():
        await interaction.followup.send(text, ephemeral=True)
    else:
        await interaction.response.send_message(text, ephemeral=True)


async def report_error(interaction: discord.Interaction[Any], error: BaseException) -> None:
    """Tell the user what went wrong: specific when they can act on it, an id when it is a bug."""
    text = describe(error)
    if text is None and isinstance(error, discord.Forbidden):
        text = refused_text(interaction, error)
    if text is None:
        command = interaction.command.qualified_name if interaction.command else "a component"
        text = bug_text(error, command)
    try:
        await reply(interaction, text)
    except discord.HTTPException:
        log.warning("could not tell the user about an error", exc_info=True)


# The bot the tree belongs to (bot.app.VideoBot), left open: the edge is imported by the app.
ClientT = TypeVar("ClientT", bound=discord.Client)


class VideoTree(app_commands.CommandTree[ClientT]):
    async def on_error(
        self, interaction: discord.Interaction[ClientT], error: app_commands.AppCommandError
    ) -> None:
        cause = error.original if isinstance(error, app_commands.CommandInvokeError) else error
        await report_error(interaction, cause)
