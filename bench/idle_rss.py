"""Idle RSS with a real provider: the bot built as `videobot run` builds it, before login.

Each figure comes from a fresh child process that builds the API client, the database, the bot
and its extensions for a real provider (nothing is sent) and reports its RSS. "before" first
imports the simulator and PyAV, as bot.wiring (then bot.backend) and bot.__main__ (the
simulator) and bot.simulator.media (PyAV) did at module level until they loaded them lazily;
"after" is the code as it is.

    .venv/bin/python bench/idle_rss.py

Stops by itself (each child within 60 s). The last line is one JSON object.
"""

from __future__ import annotations

import json
import subprocess
import sys

CHILD = """
import asyncio, gc, sys
import psutil
if sys.argv[1] == "before":
    import av, bot.simulator
import aiohttp
import bot.__main__, bot.app, bot.wiring
from bot.config import Settings
from bot.storage import Database, SqliteDatabase

async def idle():
    settings = Settings(
        _env_file=None, discord_token="x", openai_api_key="sk-bench",
        openai_base_url="http://127.0.0.1:9/v1",
    )
    async with await SqliteDatabase.open(":memory:") as db, bot.wiring.open_api(settings) as api:
        session = aiohttp.ClientSession()
        client = bot.wiring.build_bot(settings, db, api, session)
        await client.load_extensions()
        gc.collect()
        rss = psutil.Process().memory_info().rss
        await client.close()
        await session.close()
    return rss

print(round(asyncio.run(idle()) / 1024 / 1024, 1))
"""


def idle_rss(variant: str) -> float:
    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", CHILD, variant],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return float(done.stdout.split()[-1])


if __name__ == "__main__":
    result = {variant: idle_rss(variant) for variant in ("before", "after")}
    result["saved_mib"] = round(result["before"] - result["after"], 1)
    print(f"idle RSS, real provider: before {result['before']} MiB, after {result['after']} MiB")
    print(json.dumps(result))
