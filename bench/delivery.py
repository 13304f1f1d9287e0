"""Benchmark: a finished video reaches its owner, when it is too big and when the provider errs.

    .venv/bin/python bench/delivery.py fit       # a ~30 MiB 12 s 1792x1024 MP4 under 10 MiB
    .venv/bin/python bench/delivery.py faults    # 20 jobs of 10 users, 20 % 500 and 20 % 429

Everything runs in this process, on loopback: the fake Discord of the end-to-end tests, the
simulator, and the real `VideoBot` on a fresh SQLite file, logged in by the e2e `Harness`.

fit: the simulator serves a noisy (realistically heavy) 12 s 1792x1024 MP4 with audio; Discord
takes 10 MiB. Printed: the source's size, the delivered file's size, resolution and codec (read
back with PyAV), the encode time (from the re-encoder's log line) and the process's peak RSS
while the bot delivered it (alone, and with the media pool's child that encodes), against its
RSS before.

faults: 10 members start 2 jobs each at once while the simulator answers 20 % of all requests
with a 500 (`--after-create` of them after the job was made, a lost answer) and 20 % with a
429. Where a job's answer was lost and the provider has no such job, the card offers Retry and
the bench clicks it, as the owner would. Printed: delivered, Retry clicks, commands run again
(none: the bench never sends a command twice), jobs the provider made, and whether any job was
made twice (more provider jobs than delivered videos).

Every wait is bounded (`--timeout`). The LAST line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
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
from bot.simulator import SimulatorConfig, SimulatorState  # noqa: E402
from bot.storage.videos import NOT_CONFIRMED  # noqa: E402
from tests.e2e.fake_discord import FakeDiscord, FakeInteraction, walk_components  # noqa: E402
from tests.e2e.views import field, has_card  # noqa: E402

MIB = 1024 * 1024
RETRY_PREFIX = "videobot:v2:retry:"


class EncodeLog(logging.Handler):
    """Picks the re-encoder's and delivery's own words out of the log."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def mp4_upload(fake: FakeDiscord, message: dict[str, Any] | None) -> bytes | None:
    for attachment in (message or {}).get("attachments") or []:
        if attachment["filename"].endswith(".mp4"):
            return fake.uploads[int(attachment["id"])]
    return None


def describe_mp4(data: bytes, folder: Path) -> dict[str, Any]:
    import av

    path = folder / "delivered.mp4"
    path.write_bytes(data)
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        frames = sum(1 for _ in container.decode(video=0))
        return {
            "width": video.codec_context.width,
            "height": video.codec_context.height,
            "codec": video.codec_context.name,
            "pix_fmt": video.codec_context.pix_fmt,
            "audio": bool(container.streams.audio),
            "frames_decoded": frames,
            "faststart": data.find(b"moov") < data.find(b"mdat"),
        }


async def bench_fit(args: argparse.Namespace) -> dict[str, Any]:
    log = EncodeLog()
    logging.getLogger().addHandler(log)
    logging.getLogger().setLevel(logging.INFO)
    with tempfile.TemporaryDirectory(prefix="videobot-bench-") as folder:
        tmp = Path(folder)
        async with AsyncExitStack() as stack:
            sim = SimulatorConfig(job_seconds=1.0, noisy_assets=True)
            fake, harness, state = await start_on_simulator(stack, tmp, sim)
            fake.set_attachment_limit(10 * MIB)
            options = {"prompt": "surf at dusk", "size": "1792x1024", "seconds": "12"}
            # Rendered now, so that the simulator's own work is not in the bot's peak.
            source_path = await noisy_mp4(state, options["size"], options["seconds"])
            record = await harness.slash("video", options, user=harness.world.alice)
            began = time.monotonic()
            with PeakRss(children=True) as rss:
                while time.monotonic() - began < args.timeout:
                    data = mp4_upload(fake, fake.original_message(record))
                    if data is not None:
                        break
                    await asyncio.sleep(0.1)
            delivered_after = time.monotonic() - began
            result: dict[str, Any] = {
                "delivered": data is not None,
                "source_mib": round(source_path.stat().st_size / MIB, 2),
                "limit_mib": 10,
                "job_to_delivery_s": round(delivered_after, 2),
                "rss_before_mib": round(rss.baseline / MIB, 1),
                "rss_peak_mib": round(rss.peak / MIB, 1),
                # The re-encode runs in the media pool's child process.
                "rss_peak_with_children_mib": round(rss.peak_with_children / MIB, 1),
                "log": [line for line in log.lines if "encod" in line or "fit" in line],
            }
            if data is not None:
                result["delivered_mib"] = round(len(data) / MIB, 2)
                result |= describe_mp4(data, tmp)
            return result


async def noisy_mp4(state: SimulatorState, size: str, seconds: str) -> Path:
    from bot.simulator.media import shared_cache

    return await shared_cache().get("video", size, seconds, big=False, noisy=True)


def retry_buttons(messages: list[dict[str, Any]]) -> list[tuple[dict[str, Any], str]]:
    return [
        (message, str(item["custom_id"]))
        for message in messages
        for item in walk_components(message.get("components") or [])
        if str(item.get("custom_id", "")).startswith(RETRY_PREFIX)
    ]


async def bench_faults(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="videobot-bench-") as folder:
        async with AsyncExitStack() as stack:
            sim = SimulatorConfig(
                job_seconds=2.0,
                rate_500=args.rate_500 - args.after_create,
                rate_500_after_create=args.after_create,
                rate_429=args.rate_429,
                retry_after_seconds=0.2,
                seed=args.seed,
            )
            fake, harness, state = await start_on_simulator(
                stack,
                Path(folder),
                sim,
                poll_interval=0.5,
                delivery_retry_seconds=1.0,
                delivery_retry_max_seconds=4.0,
            )
            users = [fake.add_user(f"member{i}") for i in range(args.users)]
            for user in users:
                fake.add_member(harness.world.guild_id, user)
            records: list[FakeInteraction] = []
            for index in range(args.jobs):
                user = users[index % len(users)]
                prompt = f"clip {index}: a paper boat on a creek"
                records.append(await harness.slash("video", {"prompt": prompt}, user=user))
            retries = 0
            videos = harness.client.videos  # type: ignore[attr-defined]
            deadline = time.monotonic() + args.timeout

            def cards() -> list[dict[str, Any]]:
                return [m for m in fake.messages.values() if has_card(m)]

            while time.monotonic() < deadline:
                for message, custom_id in retry_buttons(cards()):
                    # Clicked while its job still waits for one: a retry that itself was
                    # refused (a 429 past the client's own retries) is clicked again.
                    row = await videos.get_by_key(int(custom_id.rsplit(":", 1)[1]))
                    if row is None or row.error_code != NOT_CONFIRMED:
                        continue
                    retries += 1
                    # The card's "By" names its owner, who clicks Retry.
                    owner = int((field(message, "By") or "")[2:-1])
                    await harness.click(message, custom_id, user=owner, settle=0.0)
                    await asyncio.sleep(0.5)  # as a person would, not in a tight loop
                delivered = sum(1 for m in cards() if mp4_upload(fake, m) is not None)
                if delivered >= args.jobs:
                    break
                await asyncio.sleep(0.25)
            delivered = sum(1 for m in cards() if mp4_upload(fake, m) is not None)
            rows = await videos.list_visible(0, harness.world.guild_id, limit=100)
            return {
                # Rows that neither reached their owner nor were retried into a new job.
                "stranded": [
                    f"{r.ref} {r.status} {r.error_code} attempts={r.delivery_attempts}"
                    for r in rows
                    if (r.delivered_at is None or r.status != "completed")
                    and r.error_code != "retried"
                ],
                "jobs_asked": args.jobs,
                "users": args.users,
                "rate_500": args.rate_500,
                "rate_500_after_create": args.after_create,
                "rate_429": args.rate_429,
                "delivered": delivered,
                "retry_clicks": retries,
                "commands_run_again": 0,
                "provider_jobs": len(state.jobs),
                "duplicate_jobs": max(0, len(state.jobs) - delivered),
                "creates_sent": state.calls["create"],
            }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", choices=("fit", "faults"))
    parser.add_argument("--timeout", type=float, default=180.0)
    parser.add_argument("--jobs", type=int, default=20)
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--rate-500", type=float, default=0.2)
    parser.add_argument("--after-create", type=float, default=0.1)
    parser.add_argument("--rate-429", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    runner = bench_fit if args.scenario == "fit" else bench_faults
    result = asyncio.run(runner(args))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
