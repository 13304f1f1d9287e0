"""Peak memory with 10,000 jobs tracked at once.

`bench/tracker.py` creates jobs over HTTP, which on this machine is slower than its compressed
jobs finish, so it never holds 10,000 unfinished jobs at once. This script puts them straight
into the simulator's state and the database (one transaction), starts the tracker on them as a
restart would, lets it run full refresh cycles, and reports the process's peak RSS.

    .venv/bin/python bench/tracker_memory.py --jobs 10000

Loopback only; stops by itself, at the latest after a bound computed from the request budget.
The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import tempfile
import time
from pathlib import Path

import psutil
from rss import PeakRss

from bot.simulator import STATE_KEY, SimulatorConfig, make_app
from bot.simulator.server import serve_app
from bot.storage import SqliteDatabase, VideoRepository
from bot.tracker.cadence import Cadence
from bot.tracker.service import Tracker
from bot.videoapi.client import VideoClient
from bot.videoapi.models import Operation

MIB = 1024 * 1024


async def main(jobs: int, cycles: int) -> dict[str, object]:
    baseline = psutil.Process().memory_info().rss
    # Jobs that run for an hour: every one stays unfinished while we measure.
    app = make_app(SimulatorConfig(job_seconds=3600))
    state = app[STATE_KEY]
    with tempfile.TemporaryDirectory() as folder, PeakRss() as rss:
        async with serve_app(app) as base_url, VideoClient(base_url, None) as api:
            db = await SqliteDatabase.open(Path(folder) / "bench.sqlite3")
            videos = VideoRepository(db)
            started = time.perf_counter()
            async with db.transaction():
                for n in range(jobs):
                    job = state.create_job(
                        model="sora-2", size="720x1280", seconds="4", prompt=f"job {n}"
                    )
                    await videos.insert(
                        job.video_at(state.now()),
                        owner_id=n,
                        guild_id=1,
                        channel_id=2,
                        kind="create",
                        prompt=f"job {n}",
                        model=job.model,
                        size=job.size,
                        seconds=job.seconds,
                    )
            seeded = time.perf_counter() - started
            tracker = Tracker(api, videos, cadence=Cadence(base=1.0, floor=0.01, ceiling=2.0))
            state.calls.clear()
            started = time.perf_counter()
            await tracker.start()
            pages_per_cycle = -(-jobs // 100)
            # The simulator counts the tracker's requests; there is no event to wait on. Bounded:
            # at its request budget the tracker needs pages / rate seconds, and some slack.
            bound = 60 + cycles * pages_per_cycle / (api.profile.requests_per_minute / 60) * 2
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(bound):
                    while state.calls[Operation.LIST] < cycles * pages_per_cycle:  # noqa: ASYNC110
                        await asyncio.sleep(0.05)
            ran = time.perf_counter() - started
            tracked = len(tracker.tracked)
            await tracker.stop()
            await db.close()
    return {
        "jobs": jobs,
        "tracked_at_once": tracked,
        "cycles": cycles,
        "list_requests": state.calls[Operation.LIST],
        "retrieve_requests": state.calls[Operation.RETRIEVE],
        "seed_seconds": round(seeded, 2),
        "cycles_seconds": round(ran, 2),
        "finished_in_bound": state.calls[Operation.LIST] >= cycles * pages_per_cycle,
        "baseline_rss_mib": round(baseline / MIB, 1),
        "peak_rss_mib": round(rss.peak / MIB, 1),
        "note": "RSS of the whole process: simulator, SQLite, httpx and tracker together",
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--cycles", type=int, default=3, help="full refresh cycles to run")
    args = parser.parse_args()
    result = asyncio.run(main(args.jobs, args.cycles))
    print(
        f"{result['tracked_at_once']} jobs tracked at once; peak RSS {result['peak_rss_mib']} MiB"
    )
    print(json.dumps(result))
