"""The real bot on the fake Discord of the end-to-end tests, for benchmarks: one setup for all.

The fake records every request with its time; the bot is logged in and fed READY and
GUILD_CREATE by the e2e `Harness`, as in `tests/e2e/botenv.py`, on a fresh SQLite file.
"""

from __future__ import annotations

from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import aiohttp
from pydantic import SecretStr

from bot.config import Settings
from bot.simulator import STATE_KEY, SimulatorConfig, SimulatorState, make_app, serve_app
from bot.storage import SqliteDatabase
from bot.videoapi.backend import VideoBackend
from bot.videoapi.providers import Providers
from bot.wiring import Tuning, build_bot, provider_client
from tests.e2e.botenv import CountingTransport
from tests.e2e.fake_discord import FakeDiscord
from tests.e2e.harness import Harness, build_world, pointed_at


async def start_bot(
    stack: AsyncExitStack,
    tmp: Path,
    api_url: str,
    *,
    api_key: str | None = None,
    edit_interval: float = 1.0,
    **settings: Any,
) -> tuple[FakeDiscord, Harness, list[str]]:
    """A started bot on a new fake Discord; the list fills with the API requests it sends."""
    config = Settings(_env_file=None, discord_token="fake", **settings)  # type: ignore[call-arg]
    counting = CountingTransport()
    key = SecretStr(api_key) if api_key is not None else None
    api = await stack.enter_async_context(provider_client(config, api_url, key, transport=counting))
    fake, harness = await start_bot_on(stack, tmp, config, api, edit_interval=edit_interval)
    return fake, harness, counting.sent


async def start_bot_on(
    stack: AsyncExitStack,
    tmp: Path,
    config: Settings,
    api: VideoBackend | Providers,
    *,
    edit_interval: float = 1.0,
) -> tuple[FakeDiscord, Harness]:
    """A started bot on a new fake Discord, on the providers given."""
    fake = await stack.enter_async_context(FakeDiscord())
    stack.enter_context(pointed_at(fake))
    world = build_world(fake)
    db = await stack.enter_async_context(await SqliteDatabase.open(tmp / "videobot.sqlite3"))
    session = await stack.enter_async_context(aiohttp.ClientSession())
    bot = build_bot(config, db, api, session, Tuning(edit_interval=edit_interval))
    harness = Harness(fake, bot, world)
    await harness.start()
    harness.allow_errors()  # benchmarks report what went wrong instead of failing
    stack.push_async_callback(harness.close)
    return fake, harness


async def start_on_simulator(
    stack: AsyncExitStack, tmp: Path, sim_config: SimulatorConfig, **settings: Any
) -> tuple[FakeDiscord, Harness, SimulatorState]:
    """A started bot on a new fake Discord and a new in-process simulator."""
    sim_app = make_app(sim_config)
    base_url = await stack.enter_async_context(serve_app(sim_app))
    fake, harness, _ = await start_bot(stack, tmp, base_url, **settings)
    return fake, harness, sim_app[STATE_KEY]
