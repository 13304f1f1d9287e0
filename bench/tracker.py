"""Benchmark: our job tracker against a naive poller, on the in-process simulator.

    .venv/bin/python bench/tracker.py                      # N = 1, 100, 1000
    .venv/bin/python bench/tracker.py --jobs 1000
    .venv/bin/python bench/tracker.py --jobs 10000 --skip-naive

For each N, N jobs are created through `VideoClient.create` (spread over a short window) on a
fresh simulator served on loopback, and followed to their end twice, one after another:

- tracker: `bot.tracker.Tracker` on a fresh SQLite file in a temporary directory; each job is
  inserted with `VideoRepository.insert` then `track()`ed; observed when its finished event
  arrives on the subscriber queue (so after the tracker stored it);
- naive: `retrieve` every unfinished job every poll interval, concurrently (at most
  `--naive-concurrency` in flight); observed when the finished answer arrives. No database.

Job durations are drawn log-uniformly between 30 s and 10 min (`job_seconds_max`), and every
duration and time constant is divided by `--compress`: the naive poll interval and the tracker's
`Cadence` (base 5 s, and its floor and ceiling unless `--unscaled-cadence`) and deadline (45 min).
Latencies are reported in bench seconds and multiplied back to real-time seconds. One thing
compression cannot scale: `created_at` is whole seconds in the contract, so the tracker's age
estimates are coarser by the compression factor.

Measured per phase, each phase in its own subprocess (`--phase`), so RSS figures are per phase:
- requests per finished job: the simulator's own per-operation counters, creates excluded;
- latency: observation time minus the job's real end in the simulator (`Job.ends`), both
  `time.time()`;
- peak RSS: a 10 ms psutil sampler thread (and the kernel's ru_maxrss as a check), and its growth
  over the RSS just before the simulator started. Both include the in-process simulator, which
  holds the same jobs in both phases.

Every phase stops by itself: at the latest `--grace` (bench) seconds after the last job's end.
The naive poller does not scale to 10,000 jobs in compressed time (it needs N / interval
requests a second on a machine that also runs the server); `--skip-naive` runs the tracker only.
The LAST line printed is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import logging
import math
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import psutil  # type: ignore[import-untyped]

from bot.simulator import STATE_KEY, SimulatorConfig, SimulatorState, make_app, serve_app
from bot.storage import SqliteDatabase, VideoRepository
from bot.tasks import cancel_and_wait
from bot.videoapi.client import VideoClient
from bot.videoapi.errors import VideoAPIError
from bot.videoapi.models import FINISHED_STATUSES, Operation, Video

PHASES = ("tracker", "naive")
MIB = 1024 * 1024
OnCreated = Callable[[Video], Awaitable[None]]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 100, 1000], metavar="N")
    parser.add_argument(
        "--compress", type=float, default=20.0, help="divide every duration by this (default 20)"
    )
    parser.add_argument("--min-seconds", type=float, default=30.0, help="real, shortest job")
    parser.add_argument("--max-seconds", type=float, default=600.0, help="real, longest job")
    parser.add_argument("--poll", type=float, default=5.0, help="real base poll interval")
    parser.add_argument(
        "--create-window", type=float, default=5.0, help="bench seconds over which jobs start"
    )
    parser.add_argument("--create-concurrency", type=int, default=50)
    parser.add_argument("--naive-concurrency", type=int, default=50)
    parser.add_argument(
        "--grace", type=float, default=None, help="bench seconds after the last job's end"
    )
    parser.add_argument(
        "--unscaled-cadence",
        action="store_true",
        help="give the tracker Cadence(base=poll/compress) only, its floor and ceiling unscaled",
    )
    parser.add_argument("--skip-naive", action="store_true", help="tracker only (memory runs)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--phase", choices=PHASES, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.grace is None:
        args.grace = max(5.0, 0.5 * args.max_seconds / args.compress)
    return args


# Measurements.


class RssSampler(threading.Thread):
    """Peak RSS of this process, sampled off the event loop so a busy loop cannot hide a peak."""

    def __init__(self, interval: float = 0.01) -> None:
        super().__init__(daemon=True, name="rss-sampler")
        self._process = psutil.Process()
        self._interval = interval
        self._done = threading.Event()
        self.peak: int = self._process.memory_info().rss

    def run(self) -> None:
        while not self._done.wait(self._interval):
            self.peak = max(self.peak, self._process.memory_info().rss)

    def finish(self) -> int:
        self._done.set()
        self.join()
        return self.peak


class WarningCounter(logging.Handler):
    """Warnings and errors logged during a phase (the tracker logs its trouble)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.counts: Counter[str] = Counter()
        self.samples: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.counts[record.name] += 1
        if len(self.samples) < 5:
            self.samples.append(f"{record.name}: {record.getMessage()}"[:300])


def peak_concurrency(state: SimulatorState) -> int:
    """The most jobs unfinished at once on the simulator (creation does not all fit the window)."""
    edges = sorted(
        [(job.started, 1) for job in state.jobs.values()]
        + [(job.ends, -1) for job in state.jobs.values()]
    )
    running = peak = 0
    for _, step in edges:
        running += step
        peak = max(peak, running)
    return peak


def percentile(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    rank = max(0, math.ceil(fraction * len(ordered)) - 1)
    return ordered[rank]


# One phase, in its own process.


async def create_jobs(
    client: VideoClient, count: int, window: float, concurrency: int, on_created: OnCreated
) -> int:
    """Create `count` jobs evenly over `window` seconds; returns how many failed to create."""
    slots = asyncio.Semaphore(concurrency)
    start = time.monotonic()
    failures = 0

    async def one(index: int) -> None:
        nonlocal failures
        await asyncio.sleep(max(0.0, start + window * index / count - time.monotonic()))
        async with slots:
            try:
                video = await client.create(f"bench job {index}")
            except VideoAPIError:
                failures += 1
                return
            await on_created(video)

    await asyncio.gather(*(one(index) for index in range(count)))
    return failures


class Phase:
    """What both phases share: the jobs, when each was observed finished, and the bound."""

    def __init__(self, args: argparse.Namespace, state: SimulatorState) -> None:
        self.args = args
        self.state = state
        self.count: int = args.jobs[0]
        self.interval = args.poll / args.compress
        self.observed: dict[str, float] = {}
        self.all_observed = asyncio.Event()
        self.created = 0

    def observe(self, video_id: str, when: float) -> None:
        if video_id not in self.observed:
            self.observed[video_id] = when
            if len(self.observed) >= self.count:
                self.all_observed.set()

    async def wait_for_all(self, create_failures: int) -> bool:
        """Until every created job is observed or the bound passes; True if all were."""
        if create_failures:
            self.count -= create_failures
            if len(self.observed) >= self.count:
                self.all_observed.set()
        last_end = max((job.ends for job in self.state.jobs.values()), default=time.time())
        bound = max(0.0, last_end + self.args.grace - time.time())
        try:
            await asyncio.wait_for(self.all_observed.wait(), bound)
        except TimeoutError:
            return False
        return True


async def create_and_wait(
    client: VideoClient,
    phase: Phase,
    args: argparse.Namespace,
    on_created: OnCreated,
    extra: dict[str, Any],
) -> int:
    """Create the phase's jobs as configured, wait until every one was seen to finish; returns
    how many failed to create."""
    created_at = time.monotonic()
    failures = await create_jobs(
        client, phase.count, args.create_window, args.create_concurrency, on_created
    )
    extra["create_seconds"] = round(time.monotonic() - created_at, 2)
    extra["all_observed"] = await phase.wait_for_all(failures)
    return failures


async def run_tracker(
    args: argparse.Namespace, client: VideoClient, phase: Phase, extra: dict[str, Any]
) -> int:
    # Imported here, so that the naive side runs without it.
    from bot.tracker import Cadence, JobEvent, Tracker

    cadence = Cadence(base=phase.interval)
    if not args.unscaled_cadence:
        # Compress every other time constant of the cadence (floor, ceiling) like the rest.
        cadence = dataclasses.replace(
            cadence,
            **{
                field.name: getattr(cadence, field.name) / args.compress
                for field in dataclasses.fields(cadence)
                if field.name != "base" and isinstance(getattr(cadence, field.name), float)
            },
        )
    extra["cadence"] = dataclasses.asdict(cadence)
    deadline = 45 * 60.0 / args.compress
    events_seen: Counter[str] = Counter()
    finished_events: Counter[str] = Counter()
    with tempfile.TemporaryDirectory(prefix="videobot-bench-") as tmp:
        db = await SqliteDatabase.open(Path(tmp) / "bench.sqlite3")
        try:
            videos = VideoRepository(db)
            tracker = Tracker(client, videos, cadence=cadence, deadline=deadline)
            events: asyncio.Queue[JobEvent] = tracker.subscribe()
            await tracker.start()

            async def consume() -> None:
                while True:
                    event = await events.get()
                    now = time.time()
                    events_seen[event.job.status] += 1
                    if event.job.finished:
                        finished_events[event.job.id] += 1
                        phase.observe(event.job.id, now)

            async def on_created(video: Video) -> None:
                await videos.insert(
                    video,
                    owner_id=1,
                    guild_id=1,
                    channel_id=1,
                    kind="create",
                    prompt=video.prompt or "bench",
                    model=client.profile.default_model,
                    size=client.profile.default_size,
                    seconds=client.profile.default_seconds,
                )
                await tracker.track(video.id)

            async def count_tracked() -> None:
                while True:
                    extra["peak_tracked"] = max(extra["peak_tracked"], len(tracker.tracked))
                    await asyncio.sleep(0.05)

            extra["peak_tracked"] = 0
            consumer = asyncio.create_task(consume())
            counter = asyncio.create_task(count_tracked())
            try:
                failures = await create_and_wait(client, phase, args, on_created, extra)
                extra["still_tracked"] = len(tracker.tracked)
            finally:
                await tracker.stop()
                await cancel_and_wait(consumer, counter)
            rows = await videos.pending()
            extra["db_unfinished_rows"] = sum(not row.finished for row in rows)
        finally:
            await db.close()
    extra["events_by_status"] = dict(events_seen)
    extra["duplicate_finished_events"] = sum(n - 1 for n in finished_events.values() if n > 1)
    return failures


async def run_naive(
    args: argparse.Namespace, client: VideoClient, phase: Phase, extra: dict[str, Any]
) -> int:
    unfinished: dict[str, None] = {}
    slots = asyncio.Semaphore(args.naive_concurrency)
    errors = 0
    sweeps: list[float] = []

    async def on_created(video: Video) -> None:
        if video.status in FINISHED_STATUSES:
            phase.observe(video.id, time.time())
        else:
            unfinished[video.id] = None

    async def retrieve(video_id: str) -> None:
        nonlocal errors
        async with slots:
            try:
                video = await client.retrieve(video_id)
            except VideoAPIError:
                errors += 1
                return
        if video.status in FINISHED_STATUSES:
            phase.observe(video_id, time.time())
            unfinished.pop(video_id, None)

    async def poll() -> None:
        # Fixed rate: a sweep every interval, or at once when the last one overran.
        next_sweep = time.monotonic()
        while True:
            await asyncio.sleep(max(0.0, next_sweep - time.monotonic()))
            started = time.monotonic()
            await asyncio.gather(*(retrieve(video_id) for video_id in list(unfinished)))
            sweeps.append(time.monotonic() - started)
            next_sweep = max(next_sweep + phase.interval, time.monotonic())

    poller = asyncio.create_task(poll())
    try:
        failures = await create_and_wait(client, phase, args, on_created, extra)
    finally:
        await cancel_and_wait(poller)
    busy = [sweep for sweep in sweeps if sweep > 0]
    extra["retrieve_errors"] = errors
    extra["sweeps"] = len(busy)
    extra["sweep_seconds_mean"] = round(statistics.fmean(busy), 3) if busy else None
    extra["sweep_seconds_max"] = round(max(busy), 3) if busy else None
    # What a poller that kept up with its interval would have sent per job.
    durations = [job.ends - job.started for job in phase.state.jobs.values()]
    extra["nominal_requests_per_job"] = (
        round(statistics.fmean(math.floor(d / phase.interval) + 1 for d in durations), 1)
        if durations
        else None
    )
    return failures


async def run_phase(args: argparse.Namespace) -> dict[str, Any]:
    warnings = WarningCounter()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    logging.getLogger().addHandler(warnings)
    process = psutil.Process()
    baseline = process.memory_info().rss
    sampler = RssSampler()
    sampler.start()
    cpu_before = process.cpu_times()
    config = SimulatorConfig(
        job_seconds=args.min_seconds / args.compress,
        job_seconds_max=args.max_seconds / args.compress,
        seed=args.seed,
    )
    app = make_app(config)
    state = app[STATE_KEY]
    phase = Phase(args, state)
    extra: dict[str, Any] = {}
    # Enough kept-alive connections for every concurrent request: no reconnect churn.
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    started = time.monotonic()
    async with (
        serve_app(app) as base_url,
        VideoClient(base_url, None, transport=httpx.AsyncHTTPTransport(limits=limits)) as client,
    ):
        runner = run_tracker if args.phase == "tracker" else run_naive
        failures = await runner(args, client, phase, extra)
    wall = time.monotonic() - started
    peak = sampler.finish()
    cpu_after = process.cpu_times()

    calls = dict(state.calls)
    requests = sum(n for op, n in calls.items() if op != Operation.CREATE)
    latencies = [
        when - state.jobs[video_id].ends
        for video_id, when in phase.observed.items()
        if video_id in state.jobs
    ]
    finished = len(phase.observed)
    p50, p95 = percentile(latencies, 0.50), percentile(latencies, 0.95)
    return {
        "phase": args.phase,
        "jobs": args.jobs[0],
        "create_failures": failures,
        "finished_observed": finished,
        "missed": phase.count - finished,
        "requests": requests,
        "requests_by_operation": {str(op): n for op, n in sorted(calls.items())},
        "requests_per_job": round(requests / finished, 2) if finished else None,
        "peak_concurrent_jobs": peak_concurrency(state),
        "latency_p50_s": _round(p50),
        "latency_p95_s": _round(p95),
        "latency_max_s": _round(max(latencies) if latencies else None),
        "latency_p50_real_s": _round(p50 * args.compress if p50 is not None else None),
        "latency_p95_real_s": _round(p95 * args.compress if p95 is not None else None),
        "peak_rss_mib": round(peak / MIB, 1),
        "baseline_rss_mib": round(baseline / MIB, 1),
        "rss_growth_mib": round((peak - baseline) / MIB, 1),
        # Linux reports ru_maxrss in KiB.
        "ru_maxrss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "cpu_s": round(
            (cpu_after.user + cpu_after.system) - (cpu_before.user + cpu_before.system), 1
        ),
        "wall_s": round(wall, 1),
        "warnings": dict(warnings.counts),
        "warning_samples": warnings.samples,
        **extra,
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


# The driver: every phase in a fresh subprocess, then the table and the JSON line.


def phase_argv(args: argparse.Namespace, phase: str, jobs: int) -> list[str]:
    argv = [sys.executable, str(Path(__file__).resolve()), "--phase", phase, "--jobs", str(jobs)]
    for name in (
        "compress",
        "min_seconds",
        "max_seconds",
        "poll",
        "create_window",
        "create_concurrency",
        "naive_concurrency",
        "grace",
        "seed",
    ):
        argv += [f"--{name.replace('_', '-')}", str(getattr(args, name))]
    if args.unscaled_cadence:
        argv.append("--unscaled-cadence")
    return argv


def run_subprocess(args: argparse.Namespace, phase: str, jobs: int) -> dict[str, Any]:
    # The phase bounds itself; this is only a backstop against a hang.
    backstop = (
        120 + args.create_window * 4 + jobs * 0.02 + (args.max_seconds / args.compress) + args.grace
    )
    print(f"... N={jobs} {phase}", file=sys.stderr, flush=True)
    try:
        done = subprocess.run(  # noqa: S603 - our own interpreter and script
            phase_argv(args, phase, jobs),
            stdout=subprocess.PIPE,
            text=True,
            timeout=backstop,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {"phase": phase, "jobs": jobs, "error": f"killed after {backstop:.0f} s"}
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        return {"phase": phase, "jobs": jobs, "error": f"exit code {done.returncode}"}
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def ratio(ours: Any, theirs: Any) -> float | None:
    if not isinstance(ours, int | float) or not isinstance(theirs, int | float) or not theirs:
        return None
    return round(ours / theirs, 3)


ROWS = (
    ("finished / missed", lambda r: f"{r.get('finished_observed')} / {r.get('missed')}"),
    ("requests (excl. create)", lambda r: r.get("requests")),
    ("requests per finished job", lambda r: r.get("requests_per_job")),
    ("latency p50 s (real-equiv)", lambda r: _pair(r, "latency_p50")),
    ("latency p95 s (real-equiv)", lambda r: _pair(r, "latency_p95")),
    ("latency max s", lambda r: r.get("latency_max_s")),
    ("peak RSS MiB (phase process)", lambda r: r.get("peak_rss_mib")),
    ("RSS growth over baseline MiB", lambda r: r.get("rss_growth_mib")),
    ("CPU s / wall s", lambda r: f"{r.get('cpu_s')} / {r.get('wall_s')}"),
    ("create seconds", lambda r: r.get("create_seconds")),
    ("peak concurrent jobs (simulator)", lambda r: r.get("peak_concurrent_jobs")),
    ("peak jobs tracked", lambda r: r.get("peak_tracked", "-")),
)


def _pair(result: dict[str, Any], key: str) -> str:
    return f"{result.get(key + '_s')} ({result.get(key + '_real_s')})"


def print_table(jobs: int, results: dict[str, dict[str, Any]], ratios: dict[str, Any]) -> None:
    print(f"\nN = {jobs}")
    header = f"{'':32} {'tracker':>22} {'naive':>22}"
    print(header)
    print("-" * len(header))
    for label, get in ROWS:
        cells = [str(get(results[p])) if p in results else "-" for p in PHASES]
        print(f"{label:32} {cells[0]:>22} {cells[1]:>22}")
    print(
        f"{'ours / naive':32} requests {ratios['requests_per_job']}, "
        f"p50 {ratios['latency_p50']}, p95 {ratios['latency_p95']}; "
        f"requests vs nominal naive {ratios['requests_per_job_vs_nominal_naive']}"
    )
    for phase, result in results.items():
        notes = {
            key: result[key]
            for key in (
                "error",
                "requests_by_operation",
                "warnings",
                "warning_samples",
                "duplicate_finished_events",
                "still_tracked",
                "db_unfinished_rows",
                "sweeps",
                "sweep_seconds_mean",
                "sweep_seconds_max",
                "nominal_requests_per_job",
                "retrieve_errors",
            )
            if result.get(key)
        }
        print(f"  {phase}: {json.dumps(notes)}")


def main() -> None:
    args = parse_args()
    if args.phase is not None:
        print(json.dumps(asyncio.run(run_phase(args))))
        return
    summary: dict[str, Any] = {
        "compress": args.compress,
        "durations_real_s": [args.min_seconds, args.max_seconds],
        "poll_interval_s": args.poll / args.compress,
        "unscaled_cadence": args.unscaled_cadence,
        "results": {},
    }
    phases = ("tracker",) if args.skip_naive else PHASES
    for jobs in args.jobs:
        results = {phase: run_subprocess(args, phase, jobs) for phase in phases}
        tracker, naive = results["tracker"], results.get("naive", {})
        ratios = {
            "requests_per_job": ratio(
                tracker.get("requests_per_job"), naive.get("requests_per_job")
            ),
            "latency_p50": ratio(tracker.get("latency_p50_s"), naive.get("latency_p50_s")),
            "latency_p95": ratio(tracker.get("latency_p95_s"), naive.get("latency_p95_s")),
            # Against a naive poller that kept up with its interval (it may not, compressed).
            "requests_per_job_vs_nominal_naive": ratio(
                tracker.get("requests_per_job"), naive.get("nominal_requests_per_job")
            ),
        }
        print_table(jobs, results, ratios)
        summary["results"][str(jobs)] = {**results, "ours_over_naive": ratios}
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
