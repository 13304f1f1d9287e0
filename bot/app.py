"""The Bot subclass and its lifetime: everything it needs is built in run_bot() and passed in."""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import Final

import aiohttp
import discord
from discord.ext import commands

from bot.backend import open_api
from bot.config import Settings
from bot.storage import Database
from bot.videoapi.client import VideoClient

log = logging.getLogger(__name__)

EXTENSIONS: Final[tuple[str, ...]] = ()


def intents() -> discord.Intents:
    # Reactions arrive as raw events; no message content is needed for slash commands.
    chosen = discord.Intents.default()
    chosen.guild_reactions = True
    chosen.message_content = False
    return chosen


class StartupError(Exception):
    """The bot cannot start; the message says why in one line."""


class VideoBot(commands.Bot):
    def __init__(self, *, settings: Settings, db: Database, api: VideoClient) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents(),
            allowed_mentions=discord.AllowedMentions(
                everyone=False, roles=False, users=True, replied_user=False
            ),
            help_command=None,
        )
        self.settings = settings
        self.db = db
        self.api = api

    async def setup_hook(self) -> None:
        for extension in EXTENSIONS:
            await self.load_extension(extension)
        if self.settings.dev_guild_id is not None:
            guild = discord.Object(self.settings.dev_guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
            log.info("synced %d commands to the development guild", len(synced))


async def run_bot(settings: Settings) -> None:
    """Open the database and the API, run the bot until SIGTERM/SIGINT, then close in order."""
    token = settings.require_discord_token()
    async with await Database.open(settings.database_path) as db, open_api(settings) as api:
        bot = VideoBot(settings=settings, db=db, api=api)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, lambda: asyncio.create_task(bot.close()))
        async with bot:
            try:
                await bot.start(token.get_secret_value())
            except discord.LoginFailure:
                raise StartupError("DISCORD_TOKEN was refused by Discord") from None
            except (aiohttp.ClientConnectionError, OSError) as exc:
                raise StartupError(f"cannot reach Discord: {exc}") from None
