"""Who may do what, per cog: contest managers, the bot's owner, who may delete a video."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import discord
import pytest
from discord.ext import commands

from bot.contests.poster import ContestPoster
from bot.contests.service import ContestService
from bot.errors import UserError
from bot.interactions.buttons import ACTIONS, pressed
from bot.jobs.requests import may_delete
from bot.storage import ContestRepository, SqliteDatabase, VideoRepository, VideoRow
from cogs.admin import Admin
from cogs.contest import Contests
from tests.rows import video_row

GUILD = 100
OTHER_GUILD = 200
OWNER = 1
MEMBER = 2
ROLE = 300
NONE = discord.Permissions.none()
MANAGE_GUILD = discord.Permissions(manage_guild=True)
MANAGE_MESSAGES = discord.Permissions(manage_messages=True)
ALL = discord.Permissions.all()


class Member(discord.Member):
    """A guild member who holds the roles given (discord.py's Member needs a whole state)."""

    def __init__(self, *role_ids: int) -> None:
        self.held = set(role_ids)

    def get_role(self, role_id: int, /) -> Any:
        return discord.Object(role_id) if role_id in self.held else None


class Response:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    async def send_message(self, content: str, **options: Any) -> None:
        self.sent.append((content, options))


class Interaction:
    def __init__(
        self,
        user: Any,
        permissions: discord.Permissions = NONE,
        guild_id: int | None = GUILD,
        guild: Any = None,
    ) -> None:
        self.user = user
        self.permissions = permissions
        self.guild_id = guild_id
        self.guild = guild
        self.response = Response()
        self.client: Any = None


class User:
    def __init__(self, user_id: int) -> None:
        self.id = user_id


# -- /contest --------------------------------------------------------------------------------


@pytest.fixture
async def contests(tmp_path: Path) -> AsyncIterator[Contests]:
    async with (
        await SqliteDatabase.open(tmp_path / "videobot.sqlite3") as db,
        aiohttp.ClientSession() as session,
    ):
        # Alone on its database; nothing here posts, so the client never logs in.
        client = discord.Client(intents=discord.Intents.none())
        repository = ContestRepository(db)
        service = ContestService(
            repository,
            VideoRepository(db),
            ContestPoster(client, repository, session),
            clock=lambda: 1_800_000_000.0,
        )
        yield Contests(client, service)  # type: ignore[arg-type]


async def with_role(cog: Contests) -> ContestRepository:
    await cog.service.contests.set_manager_role(GUILD, ROLE)
    return cog.service.contests


@pytest.mark.parametrize(
    ("user", "permissions", "manager"),
    [
        pytest.param(Member(), MANAGE_GUILD, True, id="manage-server"),
        pytest.param(Member(ROLE), NONE, True, id="the-role"),
        pytest.param(Member(ROLE + 1), NONE, False, id="another-role"),
        pytest.param(Member(), MANAGE_MESSAGES, False, id="manage-messages-only"),
        pytest.param(User(MEMBER), NONE, False, id="not-a-member"),
    ],
)
async def test_who_manages_contests(
    contests: Contests, user: Any, permissions: discord.Permissions, manager: bool
) -> None:
    await with_role(contests)
    interaction: Any = Interaction(user, permissions)
    assert await contests._is_manager(interaction) is manager


async def test_without_a_role_only_manage_server_manages(contests: Contests) -> None:
    assert await contests._is_manager(Interaction(Member(), MANAGE_GUILD)) is True  # type: ignore[arg-type]
    assert await contests._is_manager(Interaction(Member(ROLE))) is False  # type: ignore[arg-type]
    with pytest.raises(UserError, match=r"^Only members with Manage Server can end contests\.$"):
        await contests._require_manager(Interaction(Member(ROLE)), "end contests")  # type: ignore[arg-type]


async def test_the_refusal_names_the_role(contests: Contests) -> None:
    await with_role(contests)
    with pytest.raises(UserError) as caught:
        await contests._require_manager(Interaction(Member()), "start contests")  # type: ignore[arg-type]
    assert str(caught.value) == (
        f"Only members with Manage Server or the <@&{ROLE}> role can start contests."
    )


@pytest.mark.parametrize("command", ["start", "cancel", "end"])
async def test_running_a_contest_is_for_managers(contests: Contests, command: str) -> None:
    interaction = Interaction(Member())
    arguments: dict[str, dict[str, Any]] = {
        "start": {"theme": "cats", "submit_for": "2h", "vote_for": "1d"},
        "cancel": {"contest": 1},
        "end": {"contest": 1},
    }
    callback: Any = getattr(contests, command).callback
    with pytest.raises(UserError, match="Only members with Manage Server"):
        await callback(contests, interaction, **arguments[command])
    assert interaction.response.sent == []
    assert await contests.service.contests.list_for_guild(GUILD) == []


async def test_choosing_the_role_needs_manage_server_not_the_role(contests: Contests) -> None:
    repository = await with_role(contests)
    callback: Any = contests.role.callback
    with pytest.raises(UserError, match="Only members with Manage Server can choose"):
        await callback(contests, Interaction(Member(ROLE)), None)
    assert await repository.manager_role(GUILD) == ROLE


# -- admin -----------------------------------------------------------------------------------


class OwnerBot:
    def __init__(self, owner_id: int) -> None:
        self._owner_id = owner_id

    async def is_owner(self, user: Any) -> bool:
        return bool(user.id == self._owner_id)


class Context:
    def __init__(self, bot: OwnerBot, author_id: int) -> None:
        self.bot = bot
        self.author = User(author_id)


async def test_sync_is_for_the_bots_owner_only() -> None:
    cog = Admin(OwnerBot(OWNER))  # type: ignore[arg-type]
    [check] = cog.sync.checks
    assert await check(Context(OwnerBot(OWNER), OWNER)) is True  # type: ignore[arg-type]
    with pytest.raises(commands.NotOwner):
        await check(Context(OwnerBot(OWNER), MEMBER))  # type: ignore[arg-type]


# -- results: who may delete a video ---------------------------------------------------------

ROW = video_row(owner_id=OWNER, guild_id=GUILD)


@pytest.mark.parametrize(
    ("user_id", "guild_id", "permissions", "allowed"),
    [
        pytest.param(OWNER, GUILD, NONE, True, id="owner-here"),
        pytest.param(OWNER, OTHER_GUILD, NONE, True, id="owner-elsewhere"),
        pytest.param(OWNER, None, NONE, True, id="owner-in-a-dm"),
        pytest.param(MEMBER, GUILD, MANAGE_MESSAGES, True, id="moderator-of-its-guild"),
        pytest.param(MEMBER, GUILD, NONE, False, id="member-of-its-guild"),
        pytest.param(MEMBER, GUILD, MANAGE_GUILD, False, id="manage-server-is-not-enough"),
        pytest.param(MEMBER, OTHER_GUILD, MANAGE_MESSAGES, False, id="moderator-elsewhere"),
        pytest.param(MEMBER, None, MANAGE_MESSAGES, False, id="in-a-dm"),
    ],
)
def test_may_delete(
    user_id: int, guild_id: int | None, permissions: discord.Permissions, allowed: bool
) -> None:
    assert may_delete(ROW, user_id, guild_id, permissions.manage_messages) is allowed


def test_a_video_made_in_a_dm_is_only_its_owners_to_delete() -> None:
    dm_video = replace(ROW, guild_id=None)
    assert may_delete(dm_video, OWNER, None, NONE.manage_messages)
    assert not may_delete(dm_video, MEMBER, None, ALL.manage_messages)
    assert not may_delete(dm_video, MEMBER, GUILD, ALL.manage_messages)


class VisibleJobs:
    """What the delete button asks of Jobs: the row, when the caller may see it."""

    async def visible(self, ref: str, user_id: int, guild_id: int | None) -> VideoRow:
        assert ref == ROW.ref
        return ROW


class ResultsBot:
    jobs = VisibleJobs()


class Moderator(Member):
    def __init__(self) -> None:
        super().__init__()
        self._user = User(MEMBER)


class Channel:
    def __init__(self, permissions: discord.Permissions) -> None:
        self.permissions = permissions

    def permissions_for(self, member: discord.Member) -> discord.Permissions:
        return self.permissions


class Guild:
    """The guild the delete is asked in: the member's permissions in each of its channels."""

    def __init__(self, channels: dict[int, discord.Permissions]) -> None:
        self.channels = channels

    def get_channel_or_thread(self, channel_id: int) -> Channel | None:
        found = self.channels.get(channel_id)
        return Channel(found) if found is not None else None


def asking(guild_id: int, in_videos_channel: discord.Permissions) -> Interaction:
    """A moderator asking from another channel, where they may manage messages."""
    channels = {ROW.channel_id: in_videos_channel, ROW.channel_id + 1: MANAGE_MESSAGES}
    interaction = Interaction(Moderator(), MANAGE_MESSAGES, guild_id, Guild(channels))
    interaction.client = ResultsBot()
    return interaction


@pytest.mark.parametrize(
    ("guild_id", "in_videos_channel"),
    [(OTHER_GUILD, MANAGE_MESSAGES), (GUILD, NONE)],
    ids=["another-guild", "not-in-the-videos-channel"],
)
async def test_the_delete_button_refuses_whoever_may_not_delete(
    guild_id: int, in_videos_channel: discord.Permissions
) -> None:
    interaction = asking(guild_id, in_videos_channel)
    with pytest.raises(UserError, match="Only the owner can delete this video"):
        await pressed(ACTIONS["delete"], interaction, ROW.ref)  # type: ignore[arg-type]
    assert interaction.response.sent == []


async def test_the_delete_button_asks_a_moderator_to_confirm() -> None:
    interaction = asking(GUILD, MANAGE_MESSAGES)
    await pressed(ACTIONS["delete"], interaction, ROW.ref)  # type: ignore[arg-type]
    [(content, options)] = interaction.response.sent
    assert content == "Delete this video for everyone? This cannot be undone."
    assert options["ephemeral"] is True
    assert [item.custom_id for item in options["view"].children] == [
        f"videobot:v2:confirm-delete:{ROW.key}"
    ]
