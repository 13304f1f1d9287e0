"""Benchmark: our job tracker against a naive 10 s poller, side by side, on the same jobs.

    .venv/bin/python bench/tracker.py --jobs 100 1000 5000
    .venv/bin/python bench/tracker.py --jobs 1000 --rpm 300 --poll 10

For each N, in this order, every part in its own process:

1. the simulator (`python -m bot simulator --hold`), durations log-uniform `--min-seconds` to
   `--max-seconds` (30 s to 10 min), progress shapes mixed (linear, ease-in, stalled start,
   jumps; one per job, seeded);
2. this process creates all N jobs in a burst, as many users at once would: `--create-concurrency`
   create requests in flight, so hundreds share a creation second and the provider lists them
   in its own order (the simulator: by id), not in the order the requests started; they stay
   queued with their clocks stopped (`--hold`);
3. two followers start and get ready: **ours** (`bot.tracker.service.Tracker` on a fresh SQLite
   file, the rows stored as the bot stores them, in the order the create requests started, a request
   budget of `--rpm` a minute, the bot's default cadence) and **naive** (retrieve every
   unfinished job every `--poll` seconds, as many bots do, on aiohttp with
   `--naive-concurrency` requests in flight);
4. `POST /simulator/release` starts every job's clock at once, so N are truly concurrent, and
   both followers are told to go (ours starts as after a restart: it loads every pending row);
5. each stops once it saw every job finish, or `--grace` s after the longest job's end.

Measured:
- requests per delivered job: status requests each follower sent after the release (counted
  by its own HTTP client), over the jobs it saw finish;
- completion noticed: when ours published the finished event (after storing it) or naive got
  the finished answer, minus the job's real end in the simulator (`GET /simulator/jobs`);
- one-row read while tracking: `VideoRepository.get` of a random job every 20 ms in ours'
  process, through the same connection the tracker writes on;
- whether naive kept its schedule: every sweep must start within 10 % of its interval and end
  before the next is due. If not, the comparison is reported invalid instead of a ratio.

`--compress` divides every duration, the poll interval and the tracker's cadence by a factor
and multiplies the request budget by it (latencies are then also shown times the factor); the
default is 1, real time. Every wait has a bound. The LAST line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import random
import socket
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from stats import percentile

ROLES = ("ours", "naive")
REPO = Path(__file__).resolve().parent.parent
READ_EVERY = 0.02
# A naive sweep may start this share of its interval late and still count as on schedule.
SCHEDULE_SLACK = 0.1


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, nargs="+", default=[100, 1000], metavar="N")
    parser.add_argument("--rpm", type=float, default=300.0, help="our request budget a minute")
    parser.add_argument("--poll", type=float, default=10.0, help="naive poll interval, s")
    parser.add_argument("--min-seconds", type=float, default=30.0)
    parser.add_argument("--max-seconds", type=float, default=600.0)
    parser.add_argument("--shape", default="mixed", help="simulator progress shape")
    parser.add_argument("--compress", type=float, default=1.0)
    parser.add_argument("--grace", type=float, default=60.0, help="s after the last job's end")
    parser.add_argument("--create-concurrency", type=int, default=50)
    parser.add_argument("--naive-concurrency", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    # Internal: a follower process.
    parser.add_argument("--role", choices=ROLES, help=argparse.SUPPRESS)
    parser.add_argument("--base-url", help=argparse.SUPPRESS)
    parser.add_argument("--ids", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def _r(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def bound_after_go(args: argparse.Namespace) -> float:
    """Seconds a follower runs at most: the longest job, its queue share, and the grace."""
    return (args.max_seconds + args.grace) / args.compress


# The followers, each in its own process: "ready" on stdout, wait for "go" on stdin, run, and
# print one JSON line.


async def wait_for_go() -> float:
    print("ready", flush=True)
    line = await asyncio.wait_for(asyncio.to_thread(sys.stdin.readline), 600)
    if line.strip() != "go":
        raise SystemExit("expected go")
    return time.time()


class CountingTransport(httpx.AsyncBaseTransport):
    """Counts the requests the tracker's client sends, by operation."""

    def __init__(self) -> None:
        limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
        self._inner = httpx.AsyncHTTPTransport(limits=limits)
        self.counts: Counter[str] = Counter()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        parts = request.url.path.rstrip("/").split("/")
        operation = "list" if parts[-1] == "videos" else "retrieve"
        self.counts[f"{request.method} {operation}"] += 1
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


async def run_ours(args: argparse.Namespace) -> dict[str, Any]:
    from bot.storage import SqliteDatabase, VideoRepository
    from bot.timing.tasks import cancel_and_wait
    from bot.tracker.budget import RequestBudget
    from bot.tracker.cadence import Cadence
    from bot.tracker.service import Tracker
    from bot.videoapi.client import VideoClient
    from bot.videoapi.models import Video

    started: list[str] = json.loads(args.ids.read_text())  # in the order the creates started
    ids = set(started)
    transport = CountingTransport()
    observed: dict[str, float] = {}
    reads: list[float] = []
    warnings = WarningCounter()
    logging.getLogger().addHandler(warnings)
    compress = args.compress
    with tempfile.TemporaryDirectory(prefix="videobot-bench-") as tmp:
        async with (
            VideoClient(args.base_url, None, transport=transport) as api,
            await SqliteDatabase.open(Path(tmp) / "bench.sqlite3") as db,
        ):
            videos = VideoRepository(db)
            # Store every job as the bot does: in the order the create requests started (the
            # bot writes each row before its create call), whatever order the provider lists
            # them in. The videos come from the provider's own pages.
            found: dict[str, Video] = {}
            after: str | None = None
            while True:
                page = await api.list(limit=100, order="desc", after=after)
                found |= {video.id: video for video in page.data if video.id in ids}
                if not page.has_more or not page.data:
                    break
                after = page.last_id
            async with db.transaction():
                for video in (found[video_id] for video_id in started if video_id in found):
                    await videos.insert(
                        video,
                        owner_id=1,
                        guild_id=1,
                        channel_id=1,
                        kind="create",
                        prompt="bench",
                        model="sora-2",
                        size="720x1280",
                        seconds="4",
                    )
            cadence = Cadence(base=5.0 / compress, floor=1.0 / compress, ceiling=30.0 / compress)
            tracker = Tracker(
                api,
                videos,
                cadence=cadence,
                deadline=45 * 60.0 / compress,
                budget=RequestBudget(args.rpm * compress),
            )
            events = tracker.subscribe()
            all_seen = asyncio.Event()
            peak_tracked = 0

            async def consume() -> None:
                while True:
                    event = await events.get()
                    if event.job.finished and event.job.id not in observed:
                        observed[event.job.id] = time.time()
                        if len(observed) >= len(ids):
                            all_seen.set()

            async def read_rows() -> None:
                nonlocal peak_tracked
                choices = sorted(ids)
                while True:
                    started = time.perf_counter()
                    await videos.get(random.choice(choices))
                    reads.append(time.perf_counter() - started)
                    peak_tracked = max(peak_tracked, len(tracker.tracked))
                    await asyncio.sleep(READ_EVERY)

            go = await wait_for_go()
            transport.counts.clear()
            consumer = asyncio.create_task(consume())
            await tracker.start()
            reader = asyncio.create_task(read_rows())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(all_seen.wait(), bound_after_go(args))
            ran = time.time() - go
            await tracker.stop()
            await cancel_and_wait(consumer, reader)
    return {
        "role": "ours",
        "observed": observed,
        "requests": dict(transport.counts),
        "read_p50_ms": _r(1000 * (percentile(reads, 0.50) or 0)),
        "read_p99_ms": _r(1000 * (percentile(reads, 0.99) or 0)),
        "read_max_ms": _r(1000 * max(reads, default=0)),
        "reads": len(reads),
        "peak_tracked": peak_tracked,
        "ran_s": _r(ran),
        "warnings": warnings.count,
        "warning_samples": warnings.samples,
    }


async def run_naive(args: argparse.Namespace) -> dict[str, Any]:
    import aiohttp

    unfinished = set(json.loads(args.ids.read_text()))
    total = len(unfinished)
    observed: dict[str, float] = {}
    interval = args.poll / args.compress
    requests = errors = 0
    sweeps: list[tuple[float, float]] = []  # (lateness, duration)
    connector = aiohttp.TCPConnector(limit=args.naive_concurrency)
    async with aiohttp.ClientSession(args.base_url + "/", connector=connector) as session:

        async def retrieve(video_id: str) -> None:
            nonlocal requests, errors
            requests += 1
            try:
                async with session.get(f"videos/{video_id}") as response:
                    body = await response.json(content_type=None)
            except aiohttp.ClientError:
                errors += 1
                return
            if response.status != 200:
                errors += 1
            elif body.get("status") in ("completed", "failed"):
                observed.setdefault(video_id, time.time())
                unfinished.discard(video_id)

        go = await wait_for_go()
        stop_at = time.monotonic() + bound_after_go(args)
        due = time.monotonic()
        while unfinished and time.monotonic() < stop_at:
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            started = time.monotonic()
            await asyncio.gather(*(retrieve(video_id) for video_id in list(unfinished)))
            sweeps.append((started - due, time.monotonic() - started))
            due += interval
    late = max((lateness for lateness, _ in sweeps), default=0.0)
    longest = max((duration for _, duration in sweeps), default=0.0)
    return {
        "role": "naive",
        "observed": observed,
        "requests": {"GET retrieve": requests},
        "errors": errors,
        "missed": total - len(observed),
        "sweeps": len(sweeps),
        "sweep_s_mean": _r(statistics.fmean(d for _, d in sweeps) if sweeps else None, 3),
        "sweep_s_max": _r(longest, 3),
        "sweep_late_s_max": _r(late, 3),
        "kept_schedule": late <= SCHEDULE_SLACK * interval and longest <= interval,
        "ran_s": _r(time.time() - go),
    }


class WarningCounter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0
        self.samples: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1
        if len(self.samples) < 3:
            self.samples.append(f"{record.name}: {record.getMessage()}"[:200])


# The driver.


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def wait_for_port(port: int, within: float) -> None:
    async with asyncio.timeout(within):
        while True:
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                await asyncio.sleep(0.1)
                continue
            writer.close()
            return


def simulator_argv(args: argparse.Namespace, port: int) -> list[str]:
    c = args.compress
    return [
        sys.executable,
        "-m",
        "bot",
        "simulator",
        "--port",
        str(port),
        "--job-seconds",
        str(args.min_seconds / c),
        "--job-seconds-max",
        str(args.max_seconds / c),
        "--progress-shape",
        args.shape,
        "--seed",
        str(args.seed),
        "--hold",
    ]


def follower_argv(args: argparse.Namespace, role: str, base_url: str, ids: Path) -> list[str]:
    argv = [sys.executable, str(Path(__file__).resolve()), "--role", role]
    argv += ["--base-url", base_url, "--ids", str(ids)]
    for name in ("rpm", "poll", "max_seconds", "grace", "compress", "naive_concurrency"):
        argv += [f"--{name.replace('_', '-')}", str(getattr(args, name))]
    return argv


async def create_jobs(base_url: str, count: int, concurrency: int) -> dict[str, int | None]:
    """Every job's creation second, by id, in the order the create requests started."""
    from bot.videoapi.client import VideoClient

    slots = asyncio.Semaphore(concurrency)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    transport = httpx.AsyncHTTPTransport(limits=limits)
    async with VideoClient(base_url, None, transport=transport) as api:

        async def one(index: int) -> tuple[str, int | None]:
            async with slots:
                video = await api.create(f"bench job {index}")
                return video.id, video.created_at

        return dict(await asyncio.gather(*(one(i) for i in range(count))))


async def run_one(args: argparse.Namespace, jobs: int, tmp: Path) -> dict[str, Any]:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}/v1"
    env = {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"}
    env["PYTHONPATH"] = str(REPO)
    # Started from an empty folder, so no .env of a real deployment is read.
    simulator = await asyncio.create_subprocess_exec(
        *simulator_argv(args, port),
        cwd=tmp,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    followers: dict[str, asyncio.subprocess.Process] = {}
    try:
        await wait_for_port(port, 30)
        started = time.monotonic()
        created = await asyncio.wait_for(
            create_jobs(base_url, jobs, args.create_concurrency), 60 + jobs * 0.05
        )
        create_s = time.monotonic() - started
        ids = list(created)
        ids_file = tmp / f"ids-{jobs}.json"
        ids_file.write_text(json.dumps(ids))
        for role in ROLES:
            followers[role] = await asyncio.create_subprocess_exec(
                *follower_argv(args, role, base_url, ids_file),
                cwd=tmp,
                env=env,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                limit=64 * 1024 * 1024,
            )
        for process in followers.values():
            assert process.stdout is not None
            line = await asyncio.wait_for(process.stdout.readline(), 120 + jobs * 0.05)
            if line.strip() != b"ready":
                raise RuntimeError(f"a follower did not get ready: {line!r}")
        async with httpx.AsyncClient(timeout=30) as control:
            root = base_url.removesuffix("/v1")
            released = (await control.post(f"{root}/simulator/release")).json()
            for process in followers.values():
                assert process.stdin is not None
                process.stdin.write(b"go\n")
                await process.stdin.drain()
            results: dict[str, dict[str, Any]] = {}
            for role, process in followers.items():
                out, _ = await asyncio.wait_for(process.communicate(), bound_after_go(args) + 120)
                lines = out.decode().strip().splitlines()
                results[role] = json.loads(lines[-1]) if lines else {"error": "no output"}
            truth = (await control.get(f"{root}/simulator/jobs")).json()
    finally:
        for process in followers.values():
            if process.returncode is None:
                process.kill()
                await process.wait()
        simulator.terminate()
        await asyncio.wait_for(simulator.wait(), 30)
    ends = {job["id"]: job["ends"] for job in truth["jobs"] if job["ends"] is not None}
    shapes = Counter(job["shape"] for job in truth["jobs"])
    durations = [ends[i] - released["at"] for i in ids if i in ends]
    summary: dict[str, Any] = {
        "jobs": jobs,
        "released": released["released"],
        "create_s": _r(create_s),
        # How much of the burst shares a creation second: ties the provider orders its own way.
        "created_in_seconds": len(set(created.values())),
        "same_second_max": max(Counter(created.values()).values()),
        "shapes": dict(shapes),
        "duration_s_min_median_max": [
            _r(min(durations)),
            _r(statistics.median(durations)),
            _r(max(durations)),
        ],
    }
    for role, result in results.items():
        observed = result.pop("observed", {})
        late = [observed[i] - ends[i] for i in observed if i in ends]
        requests = sum(result.get("requests", {}).values())
        result |= {
            "finished_seen": len(observed),
            "missed": jobs - len(observed),
            "requests_total": requests,
            "requests_per_job": _r(requests / len(observed), 3) if observed else None,
            "noticed_p50_s": _r(percentile(late, 0.50)),
            "noticed_p95_s": _r(percentile(late, 0.95)),
            "noticed_max_s": _r(max(late, default=None)),
        }
        if args.compress != 1:
            for key in ("noticed_p50_s", "noticed_p95_s"):
                value = result[key]
                result[key + "_real"] = _r(value * args.compress if value is not None else None)
        summary[role] = result
    ours, naive = summary["ours"], summary["naive"]
    valid = bool(naive.get("kept_schedule")) and not naive.get("missed")
    summary["comparison_valid"] = valid
    summary["ours_over_naive"] = (
        {
            key: _r(ours[key] / naive[key], 3) if ours.get(key) and naive.get(key) else None
            for key in ("requests_per_job", "noticed_p50_s", "noticed_p95_s")
        }
        if valid
        else "invalid: the naive poller did not keep its schedule"
    )
    return summary


def print_table(summary: dict[str, Any]) -> None:
    ours, naive = summary["ours"], summary["naive"]
    print(
        f"\nN = {summary['jobs']} (created in a burst of {summary['create_s']} s, "
        f"{summary['created_in_seconds']} creation seconds, up to {summary['same_second_max']} "
        "in one; all released at once)"
    )
    rows = (
        ("finished seen / missed", lambda r: f"{r.get('finished_seen')} / {r.get('missed')}"),
        ("requests per delivered job", lambda r: r.get("requests_per_job")),
        ("requests total", lambda r: r.get("requests_total")),
        ("completion noticed p50 s", lambda r: r.get("noticed_p50_s")),
        ("completion noticed p95 s", lambda r: r.get("noticed_p95_s")),
        ("completion noticed max s", lambda r: r.get("noticed_max_s")),
        ("one-row read p99 / max ms", lambda r: f"{r.get('read_p99_ms')} / {r.get('read_max_ms')}"),
        (
            "sweep mean / max / late s",
            lambda r: (
                f"{r.get('sweep_s_mean')} / {r.get('sweep_s_max')} / {r.get('sweep_late_s_max')}"
            ),
        ),
    )
    print(f"{'':30} {'ours':>20} {'naive':>20}")
    for label, get in rows:
        print(f"{label:30} {get(ours)!s:>20} {get(naive)!s:>20}")
    print(f"ours / naive: {summary['ours_over_naive']}")


def main() -> None:
    args = parse_args()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    if args.role is not None:
        runner = run_ours if args.role == "ours" else run_naive
        print(json.dumps(asyncio.run(runner(args))), flush=True)
        return
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="videobot-bench-") as folder:
        for jobs in args.jobs:
            print(f"... N={jobs}", file=sys.stderr, flush=True)
            results[str(jobs)] = asyncio.run(run_one(args, jobs, Path(folder)))
            print_table(results[str(jobs)])
    print(
        json.dumps(
            {
                "config": {
                    key: getattr(args, key)
                    for key in ("rpm", "poll", "min_seconds", "max_seconds", "shape", "compress")
                },
                "results": results,
            }
        )
    )


if __name__ == "__main__":
    main()
