"""Benchmark: API requests per delivered video per provider, with two providers at once.

    .venv/bin/python bench/several_providers.py             # 5 videos per provider, made in 2 s
    .venv/bin/python bench/several_providers.py --jobs 10

The simulator as the contract and the simulator's OpenRouter dialect, each its own
`videobot simulator` process, are the two entries of a providers file; the real bot on the fake
Discord gets `--jobs` members asking for `sora-2` (the contract) and as many asking for
`google/veo-3.1-fast` (OpenRouter), all at once, and the bench waits until every MP4 is on its
card. Counted: every request the bot sent each provider, by route, divided by the videos that
provider delivered. Every wait is bounded; the LAST line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import tempfile
import time
from collections import Counter
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # the e2e fake and harness live in tests/, not in the package
    sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402

from bench.providers import route_of  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.storage import SqliteDatabase  # noqa: E402
from bot.videoapi.backend import VideoBackend  # noqa: E402
from bot.videoapi.providers import Providers  # noqa: E402
from bot.wiring import Tuning, build_bot, spec_client  # noqa: E402
from tests.e2e.botenv import CountingTransport  # noqa: E402
from tests.e2e.fake_discord import FakeDiscord  # noqa: E402
from tests.e2e.harness import Harness, build_world, pointed_at  # noqa: E402
from tests.e2e.views import has_mp4  # noqa: E402
from tests.procs import free_port, start_simulator, stop, wait_for_port  # noqa: E402

START_TIMEOUT = 30.0
MODELS = {"contract": "sora-2", "openrouter": "google/veo-3.1-fast"}


def providers_file(folder: Path, contract_port: int, openrouter_port: int) -> Path:
    path = folder / "providers.toml"
    path.write_text(
        f'[[providers]]\nname = "contract"\nbase_url = "http://127.0.0.1:{contract_port}/v1"\n'
        '[[providers]]\nname = "openrouter"\nkind = "openrouter"\n'
        f'base_url = "http://127.0.0.1:{openrouter_port}/api/v1"\n',
        encoding="utf-8",
    )
    return path


async def measure(folder: Path, path: Path, jobs: int, within: float) -> dict[str, Any]:
    async with AsyncExitStack() as stack:
        fake = await stack.enter_async_context(FakeDiscord())
        stack.enter_context(pointed_at(fake))
        world = build_world(fake)
        config = Settings(_env_file=None, discord_token="fake", providers_file=path)  # type: ignore[call-arg]
        assert config.providers is not None
        sent: dict[str, list[str]] = {}
        backends: dict[str, VideoBackend] = {}
        for spec in config.providers.specs:
            counting = CountingTransport()
            sent[spec.name] = counting.sent
            backends[spec.name] = await stack.enter_async_context(
                spec_client(config, spec, transport=counting)
            )
        db = await stack.enter_async_context(await SqliteDatabase.open(folder / "bot.sqlite3"))
        session = await stack.enter_async_context(aiohttp.ClientSession())
        bot = build_bot(config, db, Providers(backends), session, Tuning(edit_interval=1.0))
        harness = Harness(fake, bot, world)
        await harness.start()
        harness.allow_errors()  # benchmarks report what went wrong instead of failing
        stack.push_async_callback(harness.close)

        asked = [name for name in MODELS for _ in range(jobs)]
        users = [fake.add_user(f"member{i}") for i in range(len(asked))]
        for user in users:
            fake.add_member(world.guild_id, user)
        began = time.monotonic()
        records = [
            await harness.slash("video", {"prompt": f"clip {i}", "model": MODELS[name]}, user=user)
            for i, (name, user) in enumerate(zip(asked, users, strict=True))
        ]

        def delivered() -> dict[str, int]:
            done = Counter(
                name
                for name, record in zip(asked, records, strict=True)
                if has_mp4(fake.original_message(record) or {})
            )
            return {name: done[name] for name in MODELS}

        with contextlib.suppress(AssertionError):  # timed out: report what was delivered
            await harness.wait_for(
                lambda: sum(delivered().values()) == len(asked), within, what="every video"
            )
        seconds = time.monotonic() - began
        counts = delivered()
        return {
            "seconds_to_last_mp4": round(seconds, 2),
            **{
                name: {
                    "delivered": counts[name],
                    "requests_per_delivered_video": round(
                        len(sent[name]) / max(1, counts[name]), 2
                    ),
                    "requests_by_route": dict(sorted(Counter(map(route_of, sent[name])).items())),
                }
                for name in MODELS
            },
        }


async def main(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="videobot-bench-") as name:
        folder = Path(name)
        ports = free_port(), free_port()
        contract = start_simulator(
            ports[0], folder / "contract.log", job_seconds=args.job_seconds, seed=1
        )
        openrouter = start_simulator(
            ports[1],
            folder / "openrouter.log",
            job_seconds=args.job_seconds,
            dialect="openrouter",
            seed=2,
        )
        try:
            wait_for_port(ports[0], contract, "the contract simulator", START_TIMEOUT)
            wait_for_port(ports[1], openrouter, "the openrouter simulator", START_TIMEOUT)
            path = providers_file(folder, *ports)
            return await measure(folder, path, args.jobs, args.within)
        finally:
            stop(contract, openrouter)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=5, help="videos per provider")
    parser.add_argument("--job-seconds", type=float, default=2.0)
    parser.add_argument("--within", type=float, default=120.0, help="seconds to wait at most")
    print(json.dumps(asyncio.run(main(parser.parse_args()))), flush=True)
