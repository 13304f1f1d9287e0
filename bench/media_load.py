"""Benchmark: one member's media requests against everyone else's results.

    .venv/bin/python bench/media_load.py [--others 20] [--clicks 20] [--downloads 8]

Everything runs in this process, on loopback: the fake Discord of the end-to-end tests, the
simulator, and the real `VideoBot` on a fresh SQLite file, logged in by the e2e `Harness`.
The simulator serves MP4s that weigh what real renders do (`noisy_assets`) and ignores `variant`,
as vLLM-Omni, SGLang and Aquiles do, so every thumbnail is made from the MP4; Discord takes
10 MiB. One member's video is 12 s at 1792x1024 (about 30 MiB, so it must be re-encoded to be
sent); the others' are 4 s at 720x1280 (about 5 MiB, sent as they are).

Run twice, each in its own process on a fresh bot: `quiet`, the others' jobs alone; `loaded`,
the same jobs while that one member clicks Thumbnail on their card `--clicks` times and runs
`/videos download` of the big video `--downloads` times, one every 0.1 s from when the others'
jobs start; `uncooled`, as `loaded` with the per-member cooldown off, so that what remains is the
media pool and the cache of fitted videos (code without a cooldown runs `loaded` alike). Printed for
each: the others' end-to-MP4 latency (from the job's end in the
simulator to its MP4 first seen on its card, polled every 50 ms), p50/p95/max; the peak RSS of
this process, and of it with its child processes (the media pool's workers); and what the
member got (files, cooldown answers, other answers).

Runs against whatever `bot` package sits next to this `bench/` folder, so copying this file
into a checkout of older code measures that code the same way. Every wait is bounded
(`--timeout`). The LAST line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import subprocess
import sys
import tempfile
import time
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # the e2e fake and harness live in tests/, not in the package
    sys.path.insert(0, str(ROOT))

from bench.discord_env import start_on_simulator  # noqa: E402
from bench.rss import PeakRss  # noqa: E402
from bench.stats import percentile  # noqa: E402
from bot.simulator import SimulatorConfig, dialect_edge  # noqa: E402
from bot.simulator.dialects import DIALECTS  # noqa: E402
from tests.e2e.fake_discord import FakeInteraction  # noqa: E402
from tests.e2e.harness import Harness  # noqa: E402
from tests.e2e.views import (  # noqa: E402
    ephemeral_reply,
    has_mp4,
    is_loading,
    video_id,
    video_key,
    video_ref,
)

MIB = 1024 * 1024
BIG = {"prompt": "surf at dusk", "size": "1792x1024", "seconds": "12"}
SMALL = {"size": "720x1280", "seconds": "4"}
SPACING = 0.1
SCENARIOS = ("quiet", "loaded", "uncooled")


def ignore_variant() -> None:
    """The contract's simulator, but sending the MP4 for every variant."""
    dialects = dict(DIALECTS)
    dialects["openai"] = dataclasses.replace(DIALECTS["openai"], ignores_variant=True)
    dialect_edge.DIALECTS = dialects  # type: ignore[assignment]


async def wait_until(predicate: Any, within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(0.05)
    return bool(predicate())


def answer_kind(harness: Harness, record: FakeInteraction) -> str | None:
    """What an ephemeral answer gave the member: a file, a cooldown, other words, or nothing yet."""
    message = ephemeral_reply(harness, record)
    if message is None or is_loading(message):
        return None
    if message.get("attachments"):
        return "file"
    content = str(message.get("content") or "")
    return "cooldown" if "Slow down" in content else "other: " + content[:80]


async def run(args: argparse.Namespace, loaded: bool, cooldown: bool) -> dict[str, Any]:
    from bot.simulator.media import shared_cache

    with tempfile.TemporaryDirectory(prefix="videobot-bench-") as folder:
        async with AsyncExitStack() as stack:
            sim = SimulatorConfig(job_seconds=2.0, noisy_assets=True)
            # Settings older code lacks are ignored by it.
            off = {} if cooldown else {"asset_cooldown_seconds": 0}
            fake, harness, state = await start_on_simulator(
                stack, Path(folder), sim, poll_interval=0.5, **off
            )
            fake.set_attachment_limit(10 * MIB)
            # Rendered now, so that the simulator's own work is not in what is measured.
            for options in (BIG, SMALL):
                await shared_cache().get(
                    "video", options["size"], options["seconds"], big=False, noisy=True
                )
            member = harness.world.alice
            record = await harness.slash("video", BIG, user=member)
            if not await wait_until(
                lambda: bool((fake.original_message(record) or {}).get("attachments")),
                args.timeout,
            ):
                return {"error": "the member's own video was never delivered"}
            card = fake.original_message(record)
            assert card is not None
            others = [fake.add_user(f"member{i}") for i in range(args.others)]
            for user in others:
                fake.add_member(harness.world.guild_id, user)

            with PeakRss(children=True) as rss:
                records = [
                    await harness.slash("video", {"prompt": f"clip {i}", **SMALL}, user=user)
                    for i, user in enumerate(others)
                ]
                seen: dict[int, float] = {}

                async def watch() -> None:
                    while len(seen) < len(records):
                        for index, other in enumerate(records):
                            message = fake.original_message(other)
                            if index not in seen and message is not None and has_mp4(message):
                                seen[index] = time.time()
                        await asyncio.sleep(0.05)

                watcher = asyncio.create_task(watch())
                asked: list[FakeInteraction] = []
                if loaded:
                    total = args.clicks + args.downloads
                    # Interleaved evenly, as a person mashing both would.
                    at = {k * total // max(1, args.downloads) for k in range(args.downloads)}
                    actions = ["download" if i in at else "thumbnail" for i in range(total)]
                    for action in actions:
                        if action == "thumbnail":
                            custom_id = f"videobot:v2:thumbnail:{video_key(card)}"
                            asked.append(
                                await harness.click(card, custom_id, user=member, settle=0.0)
                            )
                        else:
                            options = {"video": video_ref(card), "variant": "video"}
                            asked.append(
                                await harness.slash("videos download", options, user=member)
                            )
                        await asyncio.sleep(SPACING)
                try:
                    async with asyncio.timeout(args.timeout):
                        await watcher
                except TimeoutError:
                    watcher.cancel()
                answered = await wait_until(
                    lambda: all(answer_kind(harness, a) for a in asked), args.timeout
                )
            latencies = [
                seen[index] - state.jobs[video_id(message)].ends
                for index, other in enumerate(records)
                if index in seen and (message := fake.original_message(other)) is not None
            ]
            kinds: dict[str, int] = {}
            for a in asked:
                kind = answer_kind(harness, a) or "unanswered"
                kinds[kind] = kinds.get(kind, 0) + 1
            return {
                "others": args.others,
                "delivered": len(latencies),
                "end_to_mp4_p50_s": _s(percentile(latencies, 0.5)),
                "end_to_mp4_p95_s": _s(percentile(latencies, 0.95)),
                "end_to_mp4_max_s": _s(max(latencies, default=None)),
                "rss_before_mib": round(rss.baseline / MIB, 1),
                "rss_peak_mib": round(rss.peak / MIB, 1),
                "rss_peak_with_children_mib": round(rss.peak_with_children / MIB, 1),
                "member_asked": len(asked),
                "member_answered_in_time": answered,
                "member_got": kinds,
            }


def _s(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def scenario(name: str, argv: list[str], timeout: float) -> dict[str, Any]:
    """One scenario in a child process of its own: no warm-up or leftovers from the other."""
    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, __file__, "--scenario", name, *argv],
        capture_output=True,
        text=True,
        timeout=timeout * 3,
        check=False,
    )
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        return {"error": f"exit {done.returncode}: {done.stderr.strip()[-500:]}"}
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--others", type=int, default=20)
    parser.add_argument("--clicks", type=int, default=20)
    parser.add_argument("--downloads", type=int, default=8)
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--scenario", choices=SCENARIOS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.scenario is not None:
        ignore_variant()
        loaded, cooldown = args.scenario != "quiet", args.scenario != "uncooled"
        print(json.dumps(asyncio.run(run(args, loaded, cooldown))))
        return 0
    shared = [
        f"--others={args.others}",
        f"--clicks={args.clicks}",
        f"--downloads={args.downloads}",
        f"--timeout={args.timeout}",
    ]
    results = {}
    for name in SCENARIOS:
        results[name] = scenario(name, shared, args.timeout)
        print(f"{name}: {json.dumps(results[name])}")
    print(
        f"others' end-to-MP4 p95 (peak RSS with media workers), while one member sends "
        f"{args.clicks} Thumbnail clicks and {args.downloads} over-limit downloads: "
        + "; ".join(
            f"{name} {result.get('end_to_mp4_p95_s')} s "
            f"({result.get('rss_peak_with_children_mib')} MiB)"
            for name, result in results.items()
        )
    )
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
