"""The Bot subclass and its lifetime; bot.wiring builds the parts it receives."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import aiohttp
import discord
from discord.ext import commands

from bot.config import Settings
from bot.contests.service import ContestService
from bot.delivery import CardPoster, Delivery, ResultFiles
from bot.interactions.cooldown import MemberCooldown
from bot.interactions.sync import code_payloads, compare
from bot.interactions.tree import VideoTree
from bot.jobs.service import Jobs
from bot.media.pool import MediaPool
from bot.spending.service import Spending
from bot.storage import Database, LedgerRepository, VideoRepository
from bot.tracker.leases import Leases
from bot.tracker.service import Tracker
from bot.videoapi.backend import VideoBackend
from bot.videoapi.providers import Providers

log = logging.getLogger(__name__)

EXTENSIONS: Final[tuple[str, ...]] = (
    "cogs.generate",
    "cogs.results",
    "cogs.library",
    "cogs.character",
    "cogs.reactions",
    "cogs.contest",
    "cogs.admin",
    "cogs.help",
    "cogs.limits",
    "cogs.usage",
)


def intents() -> discord.Intents:
    # Reactions arrive as raw events; no message content is needed for slash commands.
    chosen = discord.Intents.default()
    chosen.guild_reactions = True
    chosen.message_content = False
    return chosen


def shard_options(settings: Settings) -> dict[str, Any]:
    """SHARD_COUNT and SHARD_IDS as AutoShardedBot takes them; neither: Discord's advice."""
    options: dict[str, Any] = {"shard_count": settings.shard_count}
    if settings.shard_ids is not None:
        options["shard_ids"] = list(settings.shard_ids)
    return options


class StartupError(Exception):
    """The bot cannot start; the message says why in one line."""


@dataclass(frozen=True, slots=True)
class Parts:
    """What the bot and its cogs use, each built once by bot.wiring from the settings."""

    db: Database
    api: VideoBackend
    # The bot's own session for Discord's CDN (attachments streamed to disk): discord.py's
    # is private.
    http_session: aiohttp.ClientSession
    videos: VideoRepository
    # Other processes may share a PostgreSQL database: each job is followed by one of them.
    leases: Leases | None
    tracker: Tracker
    # Media work has its own bounded pool of child processes, apart from asyncio's threads.
    media: MediaPool
    result_files: ResultFiles
    asset_cooldown: MemberCooldown
    delivery: Delivery
    ledger: LedgerRepository
    spending: Spending
    jobs: Jobs[CardPoster]
    contests: ContestService
    # Every configured provider by name, in the operator's order (`api` is the first).
    providers: Providers


# Delivery and the contest poster post through the bot's own connection, so their builder is
# handed the bot once it exists.
BuildParts = Callable[[discord.Client], Parts]


class VideoBot(commands.AutoShardedBot):
    def __init__(self, *, settings: Settings, parts: BuildParts) -> None:
        super().__init__(
            tree_cls=VideoTree,
            command_prefix=commands.when_mentioned,
            intents=intents(),
            allowed_mentions=discord.AllowedMentions(
                everyone=False, roles=False, users=True, replied_user=False
            ),
            help_command=None,
            **shard_options(settings),
        )
        # discord.py 2.7.1 makes this queue only when it launches the shards, and close() puts
        # into it: a bot closed before it connected (a command listing, a check) would raise.
        self._AutoShardedClient__queue: asyncio.PriorityQueue[Any] = asyncio.PriorityQueue()
        self.settings = settings
        built = parts(self)
        self.db = built.db
        self.api = built.api
        self.providers = built.providers
        self.http_session = built.http_session
        self.videos = built.videos
        self.leases = built.leases
        self.tracker = built.tracker
        self.media = built.media
        self.result_files = built.result_files
        self.asset_cooldown = built.asset_cooldown
        self.delivery = built.delivery
        self.ledger = built.ledger
        self.spending = built.spending
        self.jobs = built.jobs
        self.contests = built.contests
        self._templates: list[re.Pattern[str]] = []
        self._released = False

    def add_dynamic_items(self, *items: type[discord.ui.DynamicItem[Any]]) -> None:
        super().add_dynamic_items(*items)
        self._templates.extend(item.__discord_ui_compiled_template__ for item in items)

    def handles(self, custom_id: str) -> bool:
        """Whether a button of some registered kind answers to `custom_id`."""
        return any(template.fullmatch(custom_id) for template in self._templates)

    async def load_extensions(self) -> None:
        for extension in EXTENSIONS:
            await self.load_extension(extension)

    async def setup_hook(self) -> None:
        await self.load_extensions()
        # Calls that were out when the bot stopped are settled before anything is followed,
        # then the reservations of jobs that ended while it was down.
        await self.jobs.recover()
        await self.jobs.reconcile_ledger()
        # Subscribe before start so the replay of undelivered results reaches delivery (and
        # the ledger); the line of waiting jobs moves from here on.
        self.delivery.start(self.tracker.subscribe())
        self.jobs.watch(self.tracker.subscribe())
        await self.tracker.start()
        if self.settings.dev_guild_id is not None:
            guild = discord.Object(self.settings.dev_guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
            log.info("synced %d commands to the development guild", len(synced))
        else:
            await self._sync_first_start()

    async def _sync_first_start(self) -> None:
        """Sync globally when nothing is registered yet; after that syncing is the owner's."""
        assert self.application_id is not None  # known once logged in
        try:
            registered = await self.http.get_global_commands(self.application_id)
            if not registered:
                synced = await self.tree.sync()
                log.info(
                    "first start: synced %d slash commands globally; global commands can take "
                    "up to an hour to appear in servers",
                    len(synced),
                )
                return
        except discord.HTTPException:
            log.warning("could not read or sync the slash commands", exc_info=True)
            return
        diff = compare(code_payloads(self.tree), registered)
        if diff:
            log.warning(
                "the slash commands registered with Discord differ from the code (%s): "
                "mention the bot with `sync` (@%s sync) to update them",
                diff,
                self.user.name if self.user else "videobot",
            )

    async def on_guild_available(self, guild: discord.Guild) -> None:
        # Every server the bot is in arrives as available at start.
        await self._leave_unless_allowed(guild, "at start")

    async def on_guild_join(self, guild: discord.Guild) -> None:
        await self._leave_unless_allowed(guild, "on joining")

    async def _leave_unless_allowed(self, guild: discord.Guild, when: str) -> None:
        """ALLOWED_GUILD_IDS: anyone may invite a public bot; it stays only where allowed."""
        if self.settings.guild_allowed(guild.id):
            return
        log.warning(
            "leaving server %s (%s) %s: its id is not in ALLOWED_GUILD_IDS", guild.id, guild, when
        )
        try:
            await guild.leave()
        except discord.HTTPException:
            log.warning("could not leave server %s", guild.id, exc_info=True)

    async def close(self) -> None:
        # Stop taking new work first; every row write is its own transaction, so none is half done.
        await self.tracker.stop()
        await self.jobs.stop()
        await self.delivery.stop()
        self.result_files.close()
        if self.leases is not None and not self._released:
            # Nothing of ours is in flight any more: the others may take every job at once.
            # Once: a second close() comes when the database may already be closed.
            self._released = True
            await self.leases.release()
        await super().close()
