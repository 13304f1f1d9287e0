"""Nothing loaded that is not used: with a real provider, neither the simulator nor PyAV."""

from __future__ import annotations

import subprocess
import sys

# Imports the entry points, then builds what `videobot run` builds for a real provider (the API
# client, the bot, its extensions), without logging in; prints the unwanted modules loaded.
BUILD_FOR_A_REAL_PROVIDER = """
import asyncio, sys
import aiohttp
import bot.__main__, bot.app, bot.wiring
from bot.config import Settings
from bot.storage import Database, SqliteDatabase

async def build():
    settings = Settings(
        _env_file=None, discord_token="x", openai_api_key="sk-test",
        openai_base_url="http://127.0.0.1:9/v1",
    )
    async with await SqliteDatabase.open(":memory:") as db, bot.wiring.open_api(settings) as api:
        session = aiohttp.ClientSession()
        client = bot.wiring.build_bot(settings, db, api, session)
        await client.load_extensions()
        await client.close()
        await session.close()

asyncio.run(build())
print(" ".join(m for m in sorted(sys.modules) if m.split(".")[0] == "av" or
      m.startswith("bot.simulator") or m == "aiohttp.web"))
"""


def test_a_real_provider_loads_neither_the_simulator_nor_pyav() -> None:
    done = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", BUILD_FOR_A_REAL_PROVIDER],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.split() == [], done.stdout
