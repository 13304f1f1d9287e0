"""Who may act, read from Discord's objects into the plain data the jobs core decides on."""

from __future__ import annotations

from typing import Any

import discord

from bot.jobs.requests import Asker


def asker_of(interaction: discord.Interaction[Any]) -> Asker:
    """Who asks and where: their roles, the channel and, in a thread, its parent."""
    user = interaction.user
    roles = frozenset(r.id for r in user.roles) if isinstance(user, discord.Member) else frozenset()
    channel = interaction.channel
    parent = getattr(channel, "parent_id", None)
    ids = tuple(i for i in (interaction.channel_id, parent) if i is not None)
    return Asker(roles, ids, age_restricted(channel))


def permissions_in(
    guild: discord.Guild | None, user: discord.abc.User | None, channel_id: int
) -> discord.Permissions:
    """What `user` may do in the channel `channel_id` (a video's, not where they act): in the
    guild at large once that channel is gone, nothing outside the guild."""
    if guild is None or not isinstance(user, discord.Member):
        return discord.Permissions.none()
    channel = guild.get_channel_or_thread(channel_id)
    return channel.permissions_for(user) if channel is not None else user.guild_permissions


def manages_messages(
    guild: discord.Guild | None, user: discord.abc.User | None, channel_id: int
) -> bool:
    """Whether `user` may manage messages in the channel `channel_id` (bot.jobs' may_delete)."""
    return permissions_in(guild, user, channel_id).manage_messages


def reacting_asker(payload: discord.RawReactionActionEvent, guild: discord.Guild | None) -> Asker:
    """As `asker_of`, for a reaction, which has no interaction: the member's roles, and the
    channel they reacted in and its parent."""
    roles = frozenset(r.id for r in payload.member.roles) if payload.member else frozenset()
    channel = guild.get_channel_or_thread(payload.channel_id) if guild else None
    parent = getattr(channel, "parent_id", None)
    ids = tuple(i for i in (payload.channel_id, parent) if i is not None)
    return Asker(roles, ids, age_restricted(channel))


def age_restricted(channel: object) -> bool:
    """Whether `channel` is age-restricted (a thread: its parent is); False when unknown."""
    is_nsfw = getattr(channel, "is_nsfw", None)
    return bool(is_nsfw()) if callable(is_nsfw) else False
