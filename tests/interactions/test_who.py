"""Who may act: Discord's members, channels and threads read into the jobs core's plain data."""

from __future__ import annotations

from typing import Any

import discord
import pytest

from bot.interactions.who import asker_of, manages_messages, permissions_in, reacting_asker
from bot.jobs.requests import Asker

GUILD = 100
CHANNEL = 10
LOCKED = 11
THREAD = 12
GONE = 13
MEMBER = 1
MODERATOR = 2
ROLE = 300
MOD_ROLE = 301
MANAGE_MESSAGES = discord.Permissions(manage_messages=True).value
VIEW = discord.Permissions(view_channel=True, send_messages=True).value

JSON = dict[str, Any]


def user(user_id: int) -> JSON:
    return {"id": str(user_id), "username": f"u{user_id}", "discriminator": "0", "avatar": None}


def member(user_id: int, *roles: int) -> JSON:
    return {
        "user": user(user_id),
        "roles": [str(r) for r in roles],
        "joined_at": "2026-01-01T00:00:00+00:00",
        "deaf": False,
        "mute": False,
        "flags": 0,
    }


def role(role_id: int, permissions: int) -> JSON:
    return {"id": str(role_id), "name": f"r{role_id}", "permissions": str(permissions)}


def text_channel(channel_id: int, overwrites: list[JSON] | None = None) -> JSON:
    return {
        "id": str(channel_id),
        "type": 0,
        "guild_id": str(GUILD),
        "name": f"c{channel_id}",
        "position": 0,
        "permission_overwrites": overwrites or [],
    }


@pytest.fixture
def state() -> Any:
    # A client that never logs in: its state parses payloads as the gateway's would.
    connection = discord.Client(intents=discord.Intents.all())._connection
    connection.user = discord.ClientUser(state=connection, data=user(999))
    return connection


@pytest.fixture
def guild(state: Any) -> discord.Guild:
    # The moderator's role may manage messages everywhere but in LOCKED, where it is denied.
    denied = {"id": str(MOD_ROLE), "type": 0, "allow": "0", "deny": str(MANAGE_MESSAGES)}
    payload: JSON = {
        "id": str(GUILD),
        "name": "g",
        "owner_id": "999",
        "roles": [role(GUILD, VIEW), role(ROLE, 0), role(MOD_ROLE, MANAGE_MESSAGES)],
        "members": [member(MEMBER, ROLE), member(MODERATOR, MOD_ROLE)],
        "channels": [text_channel(CHANNEL), text_channel(LOCKED, [denied])],
        "threads": [
            {
                "id": str(THREAD),
                "type": 11,
                "guild_id": str(GUILD),
                "parent_id": str(CHANNEL),
                "owner_id": str(MEMBER),
                "name": "t",
                "message_count": 0,
                "member_count": 1,
                "thread_metadata": {
                    "archived": False,
                    "auto_archive_duration": 60,
                    "archive_timestamp": "2026-01-01T00:00:00+00:00",
                    "locked": False,
                },
            }
        ],
        "member_count": 2,
    }
    made = discord.Guild(data=payload, state=state)
    state._add_guild(made)
    return made


def interaction(
    state: Any, channel_id: int, *, guild_id: int | None = GUILD
) -> discord.Interaction[Any]:
    payload: JSON = {
        "id": "5000",
        "application_id": "6000",
        "type": 3,
        "token": "token",
        "version": 1,
        "attachment_size_limit": 10_000_000,
        # Discord sends the channel whole; a guild's is resolved from the cache.
        "channel": {"id": str(channel_id), "type": 1 if guild_id is None else 0},
        "data": {"custom_id": "x", "component_type": 2},
    }
    if guild_id is None:
        payload |= {"user": user(MEMBER)}
    else:
        payload |= {
            "guild_id": str(guild_id),
            "member": {**member(MEMBER, ROLE), "permissions": "0"},
        }
    return discord.Interaction(data=payload, state=state)


def reaction(
    state: Any, channel_id: int, *, in_guild: bool = True
) -> discord.RawReactionActionEvent:
    data: JSON = {
        "user_id": str(MEMBER),
        "channel_id": str(channel_id),
        "message_id": "7000",
        "emoji": {"id": None, "name": "⏩"},
        "type": 0,
        "burst": False,
    }
    if in_guild:
        data |= {"guild_id": str(GUILD), "member": member(MEMBER, ROLE)}
    event = discord.RawReactionActionEvent(data, discord.PartialEmoji(name="⏩"), "REACTION_ADD")
    if in_guild:
        guild = state._get_guild(GUILD)
        event.member = discord.Member(data=data["member"], guild=guild, state=state)
    return event


def test_a_member_asks_with_their_roles_from_the_channel(state: Any, guild: discord.Guild) -> None:
    asked = asker_of(interaction(state, CHANNEL))
    assert asked == Asker(frozenset({GUILD, ROLE}), (CHANNEL,))


def test_in_a_thread_its_parent_channel_counts_too(state: Any, guild: discord.Guild) -> None:
    assert asker_of(interaction(state, THREAD)).channel_ids == (THREAD, CHANNEL)


def test_a_direct_message_has_no_roles(state: Any) -> None:
    assert asker_of(interaction(state, 55, guild_id=None)) == Asker(frozenset(), (55,))


def test_a_reaction_asks_as_a_command_would(state: Any, guild: discord.Guild) -> None:
    assert reacting_asker(reaction(state, THREAD), guild) == Asker(
        frozenset({GUILD, ROLE}), (THREAD, CHANNEL)
    )
    # The guild not cached: the channel alone, as the access rules read it.
    assert reacting_asker(reaction(state, THREAD), None).channel_ids == (THREAD,)
    assert reacting_asker(reaction(state, 55, in_guild=False), None) == Asker(frozenset(), (55,))


def test_managing_messages_is_read_in_the_videos_channel(guild: discord.Guild) -> None:
    moderator = guild.get_member(MODERATOR)
    assert manages_messages(guild, moderator, CHANNEL)
    # Denied in the video's own channel: where they act does not matter.
    assert not manages_messages(guild, moderator, LOCKED)
    assert not manages_messages(guild, guild.get_member(MEMBER), CHANNEL)


def test_a_channel_gone_falls_back_to_the_guilds_permissions(guild: discord.Guild) -> None:
    moderator = guild.get_member(MODERATOR)
    assert manages_messages(guild, moderator, GONE)
    assert permissions_in(guild, moderator, GONE) == moderator.guild_permissions


def test_outside_a_guild_nobody_manages_messages(guild: discord.Guild) -> None:
    moderator = guild.get_member(MODERATOR)
    assert permissions_in(None, moderator, CHANNEL) == discord.Permissions.none()
    # A user who is not a member object (a DM's): nothing.
    assert not manages_messages(guild, moderator._user if moderator else None, CHANNEL)


def test_prompt_rules_an_age_restricted_channel_and_its_threads_are_read_so(
    state: Any, guild: discord.Guild
) -> None:
    channel = guild.get_channel(CHANNEL)
    assert isinstance(channel, discord.TextChannel)
    assert not asker_of(interaction(state, CHANNEL)).age_restricted
    channel.nsfw = True
    assert asker_of(interaction(state, CHANNEL)).age_restricted
    assert asker_of(interaction(state, THREAD)).age_restricted
    assert reacting_asker(reaction(state, THREAD), guild).age_restricted
    assert not asker_of(interaction(state, LOCKED)).age_restricted
    # Unknown (a direct message, a channel not cached): not age-restricted.
    assert not asker_of(interaction(state, 55, guild_id=None)).age_restricted
    assert not reacting_asker(reaction(state, THREAD), None).age_restricted
