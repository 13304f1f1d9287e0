"""Benchmark: what a broken or hostile provider can cost the bot, and how soon results recover.

    .venv/bin/python bench/provider_io.py answer    # a 200 MiB status answer, then a 600 MiB video
    .venv/bin/python bench/provider_io.py drip      # a video body sent one byte a second
    .venv/bin/python bench/provider_io.py outage    # a 110 s download outage, 20 results waiting
    .venv/bin/python bench/provider_io.py outage --providers 2 --stagger=-60  # one back sooner

answer: a loopback server answers `GET /videos/{id}` with 200 MiB of JSON (no Content-Length,
so only counting can stop it) and the video with 600 MiB, downloaded with a cap of
`--max-download-mib` (PROVIDER_MAX_DOWNLOAD_MIB). Printed: the outcome of each call, the bytes
left on disk, and the process's peak RSS above its baseline while they ran.

drip: the video's body arrives a byte a second; every read gets its byte in time, so only the
download's deadline (`--deadline`, PROVIDER_DOWNLOAD_TIMEOUT_SECONDS) ends it. Printed: the
outcome and the seconds it took.

outage: 20 finished videos whose downloads fail for `--outage` seconds while the tracker's status
requests are answered every `--poll` seconds once the outage ends (delivery retry 30 s doubling
to 600 s, as in production). Time runs `--scale` times faster than written. Printed, in
unscaled seconds: how long after the outage ended the results were posted (min, p50, max),
with the provider's answers signalled to delivery and without (the behaviour before issue 18).
With `--providers N` the results are spread over N providers, provider i's outage ending
`--stagger` seconds after provider i-1's (before it, if negative); each is also printed on its
own, from its own end, with the downloads tried while it was down.

The LAST line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # the delivery test fakes live in tests/, not in the package
    sys.path.insert(0, str(ROOT))

from bench.rss import PeakRss  # noqa: E402
from bench.stats import percentile  # noqa: E402
from bot.delivery import CardViews, Delivery, ResultFiles  # noqa: E402
from bot.interactions import buttons  # noqa: E402
from bot.simulator.server import serve_app  # noqa: E402
from bot.storage import SqliteDatabase, VideoRepository  # noqa: E402
from bot.tracker.service import JobEvent  # noqa: E402
from bot.videoapi.capabilities import Capabilities  # noqa: E402
from bot.videoapi.client import MIB, VideoClient  # noqa: E402
from bot.videoapi.errors import APIConnectionError, VideoAPIError  # noqa: E402
from bot.videoapi.models import ContentVariant, Video  # noqa: E402
from bot.videoapi.providers import DEFAULT_PROVIDER  # noqa: E402
from tests.delivery.stubs import StubFit  # noqa: E402
from tests.delivery.test_service import CHANNEL, GUILD, OWNER, FakeDiscord  # noqa: E402

CHUNK = b" " * MIB


def provider(status_mib: int, video_mib: int, drip: bool) -> web.Application:
    async def status(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)
        await response.write(b'{"id": "video_1", "status": "completed", "pad": "')
        for _ in range(status_mib):
            await response.write(CHUNK)
        await response.write(b'"}')
        return response

    async def content(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "video/mp4"})
        await response.prepare(request)
        if drip:
            while True:
                await response.write(b"\0")
                await asyncio.sleep(1)
        for _ in range(video_mib):
            await response.write(CHUNK)
        return response

    app = web.Application()
    app.router.add_get("/v1/videos/{id}", status)
    app.router.add_get("/v1/videos/{id}/content", content)
    return app


async def outcome(call: Any) -> str:
    try:
        await call
    except VideoAPIError as exc:
        return f"{type(exc).__name__}: {exc}"
    return "read whole"


def folder_size(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.iterdir())


async def answer(args: argparse.Namespace) -> dict[str, Any]:
    limit = args.max_download_mib * MIB
    async with (
        serve_app(provider(200, 600, drip=False)) as base,
        VideoClient(base, None, download_limit=limit) as api,
    ):
        with PeakRss() as rss, tempfile.TemporaryDirectory() as folder:
            status = await outcome(api.retrieve("video_1"))
            video = await outcome(api.download("video_1", Path(folder) / "v.mp4"))
            left = await asyncio.to_thread(folder_size, Path(folder))
    return {
        "status_answer": status,
        "video": video,
        "bytes_left_on_disk": left,
        "peak_rss_above_baseline_mib": round((rss.peak - rss.baseline) / MIB, 1),
    }


async def drip(args: argparse.Namespace) -> dict[str, Any]:
    app = provider(0, 0, drip=True)
    async with (
        serve_app(app) as base,
        VideoClient(base, None, download_timeout=args.deadline) as api,
    ):
        started = time.monotonic()
        with tempfile.TemporaryDirectory() as folder:
            result = await outcome(api.download("video_1", Path(folder) / "v.mp4"))
    return {"video": result, "ended_after_s": round(time.monotonic() - started, 2)}


class OutageAssets:
    """Each provider's files, unreachable until its `back_at` (monotonic)."""

    def __init__(self, back_at: dict[str, float]) -> None:
        self.back_at = back_at
        # Downloads tried while their provider was down, by provider.
        self.failed = dict.fromkeys(back_at, 0)

    async def fetch(
        self,
        video_id: str,
        variant: ContentVariant,
        dest: Path,
        *,
        source: Path | None = None,
        provider: str = DEFAULT_PROVIDER,
    ) -> Path:
        if time.monotonic() < self.back_at[provider]:
            self.failed[provider] += 1
            raise APIConnectionError("could not reach the video API (ConnectError)")
        await asyncio.to_thread(dest.write_bytes, b"\0" * 1000)
        return dest


class PostedAt(FakeDiscord):
    """The fake Discord of the delivery tests, noting when each result arrived."""

    def __init__(self) -> None:
        super().__init__()
        self.results: dict[int, float] = {}

    def record(self, route: str, message_id: int, fields: dict[str, Any]) -> None:
        super().record(route, message_id, fields)
        if fields.get("attachments"):
            self.results.setdefault(message_id, time.monotonic())


@dataclass(frozen=True, slots=True)
class Recovery:
    # How long after its provider's outage ended each result was posted, by provider.
    after: dict[str, list[float]]
    # Downloads tried while their provider was down, by provider.
    failed: dict[str, int]


async def recovery(args: argparse.Namespace, *, signalled: bool) -> Recovery:
    scale = args.scale
    names = [DEFAULT_PROVIDER, *(f"provider_{i}" for i in range(1, args.providers))]
    capabilities = {name: Capabilities() for name in names}
    discord = PostedAt()
    started = time.monotonic()
    back_at = {
        name: started + (args.outage + i * args.stagger) * scale for i, name in enumerate(names)
    }
    with tempfile.TemporaryDirectory() as folder:
        async with await SqliteDatabase.open(Path(folder) / "bench.sqlite3") as db:
            videos = VideoRepository(db)
            assets = OutageAssets(back_at)
            files = ResultFiles(assets, StubFit(500))  # type: ignore[arg-type]
            delivery = Delivery(
                discord,  # type: ignore[arg-type]
                videos,
                files,
                capabilities,
                views=CardViews(buttons.result_buttons, buttons.waiting_buttons),
                retry_base=30 * scale,
                retry_max=600 * scale,
            )
            events: asyncio.Queue[JobEvent] = asyncio.Queue()
            delivery.start(events)

            async def tracker() -> None:
                while True:
                    await asyncio.sleep(args.poll * scale)
                    for name, known in capabilities.items():
                        if signalled and time.monotonic() >= back_at[name]:
                            known.answered()

            polling = asyncio.create_task(tracker())
            for n in range(args.videos):
                row = await videos.insert(
                    Video(id=f"video_{n}", status="completed", progress=100),
                    owner_id=OWNER,
                    guild_id=GUILD,
                    channel_id=CHANNEL,
                    kind="create",
                    prompt="a tide pool",
                    model="sora-2",
                    size="720x1280",
                    seconds="4",
                    provider=names[n % len(names)],
                )
                await videos.set_status_message(row.id, CHANNEL, 10_000 + n)
                events.put_nowait(JobEvent(row, None, None))
            longest = max(back_at.values()) - started
            await asyncio.wait_for(delivery_done(discord, args.videos), longest * 20)
            polling.cancel()
            await delivery.stop()
    after: dict[str, list[float]] = {name: [] for name in names}
    for message_id, at in discord.results.items():
        name = names[(message_id - 10_000) % len(names)]
        after[name].append((at - back_at[name]) / scale)
    return Recovery(after, assets.failed)


async def delivery_done(discord: PostedAt, count: int) -> None:
    while len(discord.results) < count:  # noqa: ASYNC110 - a fake without events
        await asyncio.sleep(0.01)


def spread(values: list[float]) -> dict[str, float | None]:
    def rounded(value: float | None) -> float | None:
        return None if value is None else round(value, 1)

    return {
        "min": rounded(min(values)),
        "p50": rounded(percentile(values, 0.5)),
        "max": rounded(max(values)),
    }


async def outage(args: argparse.Namespace) -> dict[str, Any]:
    signalled = await recovery(args, signalled=True)
    unsignalled = await recovery(args, signalled=False)
    after, before = signalled.after, unsignalled.after
    figures: dict[str, Any] = {
        "outage_s": args.outage,
        "results": args.videos,
        "posted_after_outage_s": spread([s for values in after.values() for s in values]),
        "posted_after_outage_s_without_answers": spread(
            [s for values in before.values() for s in values]
        ),
    }
    if len(after) > 1:
        figures["stagger_s"] = args.stagger
        figures["by_provider"] = {
            name: {
                "with_answers": spread(after[name]),
                "without_answers": spread(before[name]),
                "downloads_tried_while_down": signalled.failed[name],
                "downloads_tried_while_down_without_answers": unsignalled.failed[name],
            }
            for name in after
        }
    return figures


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("mode", choices=["answer", "drip", "outage"])
    parser.add_argument("--max-download-mib", type=int, default=1024)
    parser.add_argument("--deadline", type=float, default=5.0)
    parser.add_argument("--outage", type=float, default=110.0)
    parser.add_argument("--poll", type=float, default=5.0)
    parser.add_argument("--videos", type=int, default=20)
    parser.add_argument("--scale", type=float, default=0.05)
    parser.add_argument("--providers", type=int, default=1)
    parser.add_argument("--stagger", type=float, default=60.0)
    args = parser.parse_args()
    # The server's side of a connection the client cut short is no news here.
    logging.getLogger("aiohttp.server").setLevel(logging.CRITICAL)
    modes = {"answer": answer, "drip": drip, "outage": outage}
    print(json.dumps(await modes[args.mode](args)))


if __name__ == "__main__":
    asyncio.run(main())
