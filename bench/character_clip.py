"""Peak RSS while the bot saves a 50 MiB `/character create` clip from Discord's CDN to disk.

"before" is discord.py's `Attachment.save` (what the cog called: the whole file read into bytes,
then written on the event loop); "after" is `bot.interactions.attachments.save` (streamed in
chunks through the bot's own aiohttp session). Each runs in a fresh child process, side by side,
against a loopback server that serves the clip from a file, while a thread samples RSS and a
task measures the longest the event loop went without running.

    .venv/bin/python bench/character_clip.py [--mib 50]

Stops by itself (every wait is bounded). The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import aiohttp
import discord
import discord.http
from aiohttp import web
from rss import PeakRss

from bot.interactions import attachments

MIB = 1024 * 1024
TIMEOUT = 60.0


async def _lag(stop: asyncio.Event, worst: list[float]) -> None:
    """The longest gap between two 5 ms ticks: how long the loop was blocked."""
    while not stop.is_set():
        started = time.monotonic()
        await asyncio.sleep(0.005)
        worst[0] = max(worst[0], time.monotonic() - started - 0.005)


async def child(variant: str, folder: Path) -> dict[str, object]:
    clip = folder / "clip.mp4"
    app = web.Application()
    app.router.add_get("/clip.mp4", lambda _: web.FileResponse(clip))
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    url = f"http://127.0.0.1:{port}/clip.mp4"
    payload = {"id": "1", "filename": "clip.mp4", "size": clip.stat().st_size, "url": url}
    payload["proxy_url"] = url
    async with aiohttp.ClientSession() as session:
        http = discord.http.HTTPClient(asyncio.get_running_loop())
        http._HTTPClient__session = session
        attachment = discord.Attachment(data=payload, state=SimpleNamespace(http=http))
        stop, worst = asyncio.Event(), [0.0]
        ticker = asyncio.create_task(_lag(stop, worst))
        target = folder / "saved.mp4"
        started = time.monotonic()
        with PeakRss() as rss:
            if variant == "before":
                await asyncio.wait_for(attachment.save(target), TIMEOUT)
            else:
                save = attachments.save(session, attachment, target, limit=clip.stat().st_size)
                await asyncio.wait_for(save, TIMEOUT)
        took = time.monotonic() - started
        stop.set()
        await asyncio.wait_for(ticker, TIMEOUT)
    await runner.cleanup()
    assert target.stat().st_size == clip.stat().st_size
    return {
        "rss_before_mib": round(rss.baseline / MIB, 1),
        "peak_rss_mib": round(rss.peak / MIB, 1),
        "added_mib": round((rss.peak - rss.baseline) / MIB, 1),
        "loop_blocked_ms": round(worst[0] * 1000, 1),
        "seconds": round(took, 2),
    }


def run_child(variant: str, folder: Path) -> dict[str, object]:
    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, __file__, "--child", variant, "--folder", str(folder)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT * 2,
        check=True,
    )
    result: dict[str, object] = json.loads(done.stdout.splitlines()[-1])
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=50)
    parser.add_argument("--child", choices=["before", "after"])
    parser.add_argument("--folder", type=Path)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(asyncio.run(child(args.child, args.folder))))
        sys.exit(0)
    with tempfile.TemporaryDirectory(prefix="videobot-bench-") as name:
        folder = Path(name)
        # Random bytes: what matters is the size, and nothing on the way can compress them.
        with (folder / "clip.mp4").open("wb") as file:
            for _ in range(args.mib):
                file.write(os.urandom(MIB))
        result = {variant: run_child(variant, folder) for variant in ("before", "after")}
    for variant, figures in result.items():
        print(
            f"{variant}: peak RSS {figures['peak_rss_mib']} MiB (+{figures['added_mib']} MiB), "
            f"event loop blocked up to {figures['loop_blocked_ms']} ms"
        )
    print(json.dumps({"clip_mib": args.mib, **result}))
