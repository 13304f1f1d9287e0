"""Benchmark: a burst of concurrent /video interactions against the real bot on a fake Discord.

    .venv/bin/python bench/interactions.py
    .venv/bin/python bench/interactions.py --interactions 100 --job-seconds 20 --edit-interval 5
    .venv/bin/python bench/interactions.py --profile /tmp/interactions.prof

Everything runs in this process, on loopback: the fake Discord of the end-to-end tests
(`tests/e2e/fake_discord.py`, which records every request it gets with its time), the simulator
(jobs take `--job-seconds` to `--job-seconds-max`, log-uniformly, with mixed progress
shapes), and the real `VideoBot` with the real edit interval, the
default poll interval and tracker cadence, and a fresh SQLite file in a temporary directory.
The bot is logged in and fed READY/GUILD_CREATE by the e2e `Harness`, as in `tests/e2e/botenv.py`.

Each interaction comes from its own guild member (the bot allows 2 unfinished jobs per user).
All payloads are built first, then every INTERACTION_CREATE is fed in one go: a burst, so the
bot's create requests are in flight together and most jobs share a creation second, which the
provider (the simulator: by id) lists in its own order, not the order the bot stored its rows in.

Measured:
- first response: from feeding an interaction to the fake receiving its callback (the deferral),
  i.e. `FakeInteraction.ack_latency`; also until the card replaced "thinking" (first PATCH);
- edits per job: PATCHes to the job's message through the webhook (`@original` or by id) and the
  channel route, from the card's first fill to the MP4, all recorded by the fake;
- the shortest gap between two consecutive progress PATCHes of one message, as the fake saw
  them arrive (the PATCH with the MP4 goes out at once, not an interval after the last one);
- delivery: from the job's end in the simulator (`Job.ends`, wall clock) to the fake receiving the
  PATCH that carries its MP4.

Stops by itself once every job is delivered or `--timeout` seconds after the burst. The LAST
line printed is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import itertools
import json
import logging
import math
import resource
import sys
import tempfile
import time
from collections import Counter, defaultdict
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # the e2e fake and harness live in tests/, not in the package
    sys.path.insert(0, str(ROOT))

from bench.stats import percentile  # noqa: E402
from bot.app import VideoBot  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.simulator import STATE_KEY, SimulatorConfig, SimulatorState, make_app, serve_app  # noqa: E402
from bot.storage import SqliteDatabase  # noqa: E402
from bot.timing.tasks import cancel_and_wait  # noqa: E402
from bot.videoapi.client import VideoClient  # noqa: E402
from bot.wiring import Tuning, build_bot  # noqa: E402
from tests.e2e.fake_discord import JSON, FakeDiscord, FakeInteraction, RecordedRequest  # noqa: E402
from tests.e2e.harness import Harness, build_world, pointed_at  # noqa: E402

HOOK = "/webhooks/{webhook_id}/{webhook_token}"
EDIT_ROUTES = (
    f"PATCH {HOOK}/messages/@original",
    f"PATCH {HOOK}/messages/{{message_id}}",
    "PATCH /channels/{channel_id}/messages/{message_id}",
)
CALLBACK_ROUTE = "POST /interactions/{interaction_id}/{interaction_token}/callback"
NEW_MESSAGE_ROUTE = "POST /channels/{channel_id}/messages"


@dataclass
class BenchBot:
    """The real bot logged in to the fake Discord, with one guild member per interaction."""

    harness: Harness
    bot: VideoBot
    sim: SimulatorState
    users: list[JSON]


async def start_bench_bot(
    stack: AsyncExitStack,
    fake: FakeDiscord,
    folder: Path,
    *,
    members: int,
    sim: SimulatorConfig,
    edit_interval: float,
    settings: dict[str, Any] | None = None,
) -> BenchBot:
    """Everything in this process on loopback: the simulator, a fresh SQLite file in `folder`,
    the bot logged in and fed READY/GUILD_CREATE by the e2e Harness (closed by the caller)."""
    stack.enter_context(pointed_at(fake))
    world = build_world(fake)
    users = [fake.add_user(f"bench{i:03d}") for i in range(members)]
    for user in users:
        fake.add_member(world.guild_id, user)
    sim_app = make_app(sim)
    base_url = await stack.enter_async_context(serve_app(sim_app))
    config = Settings(_env_file=None, discord_token="fake", **(settings or {}))  # type: ignore[call-arg]
    api = await stack.enter_async_context(VideoClient(base_url, None, profile=config.profile()))
    db = await stack.enter_async_context(await SqliteDatabase.open(folder / "videobot.sqlite3"))
    session = await stack.enter_async_context(aiohttp.ClientSession())
    bot = build_bot(config, db, api, session, Tuning(edit_interval=edit_interval))
    harness = Harness(fake, bot, world)
    await harness.start()
    harness.allow_errors()  # reported by the benchmark instead
    return BenchBot(harness, bot, sim_app[STATE_KEY], users)


def burst(harness: Harness, payloads: list[JSON]) -> list[FakeInteraction]:
    """Feed every INTERACTION_CREATE in one go (payloads built before)."""
    records = []
    for payload in payloads:
        records.append(harness.fake.register_interaction(payload))
        harness.feed("INTERACTION_CREATE", payload)
    return records


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interactions", type=int, default=100)
    # Varied lengths (log-uniform between the two) and mixed progress shapes: not every job is a
    # linear 60 s one, the tracker's best case.
    parser.add_argument("--job-seconds", type=float, default=20.0, help="shortest job")
    parser.add_argument("--job-seconds-max", type=float, default=120.0, help="longest job")
    parser.add_argument("--progress-shape", default="mixed")
    # The provider's request budget for status calls (PROVIDER_REQUESTS_PER_MINUTE); the
    # simulator itself has none.
    parser.add_argument("--rpm", type=float, default=300.0)
    parser.add_argument("--edit-interval", type=float, default=5.0)
    parser.add_argument(
        "--timeout", type=float, default=180.0, help="give up this long after the burst"
    )
    parser.add_argument("--profile", type=Path, help="write a cProfile of the burst's first 3 s")
    return parser.parse_args(argv)


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


def _s(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds, 3)


class LoopLag:
    """How late a 10 ms sleep wakes up: the event loop's own backlog."""

    def __init__(self) -> None:
        self.samples: list[tuple[float, float]] = []  # (monotonic, lag)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            before = time.monotonic()
            await asyncio.sleep(0.01)
            now = time.monotonic()
            self.samples.append((now, now - before - 0.01))

    async def stop(self) -> None:
        await cancel_and_wait(self._task)

    def max_between(self, start: float, end: float) -> float | None:
        lags = [lag for at, lag in self.samples if start <= at <= end]
        return max(lags) if lags else None


def _edited_message(fake: FakeDiscord, request: RecordedRequest) -> int | None:
    """The id of the message a recorded PATCH was aimed at."""
    parts = request.path.strip("/").split("/")
    if request.route.startswith("PATCH /channels/"):
        return int(parts[3])
    if parts[-1] != "@original":
        return int(parts[-1])
    record = fake.interactions.get(parts[2])
    return record.original_id if record is not None else None


def _mp4_job(request: RecordedRequest, files: dict[str, str]) -> str | None:
    """The provider id of the job whose MP4 a request carries (files are named by row key)."""
    for part in request.files:
        if part.filename and part.filename.endswith(".mp4"):
            return files.get(part.filename)
    return None


def measure(
    fake: FakeDiscord,
    sim: SimulatorState,
    records: list[Any],
    burst_at: float,
    wall_minus_mono: float,
    files: dict[str, str],
) -> dict[str, Any]:
    acks = [r.ack_latency for r in records if r.ack_latency is not None]
    originals = {r.original_id: r for r in records if r.original_id is not None}

    edits: defaultdict[int, list[RecordedRequest]] = defaultdict(list)
    for request in fake.requests:
        if request.route in EDIT_ROUTES:
            message_id = _edited_message(fake, request)
            if message_id is not None:
                edits[message_id].append(request)

    card_latency: list[float] = []
    per_job: list[int] = []
    gaps: list[float] = []
    failed_edits = 0
    edits_by_route: Counter[str] = Counter()
    delivery: list[float] = []
    delivered_jobs: set[str] = set()
    for message_id, record in originals.items():
        patches = sorted(edits.get(message_id, []), key=lambda r: r.at)
        if patches:
            card_latency.append(patches[0].at - record.registered_at)
        per_job.append(len(patches))
        # Progress edits keep the interval; the one carrying the MP4 goes out at once.
        progress = [patch for patch in patches if _mp4_job(patch, files) is None]
        gaps += [b.at - a.at for a, b in itertools.pairwise(progress)]
        for patch in patches:
            edits_by_route[patch.route.split()[1].split("/")[1]] += 1
            failed_edits += not 200 <= patch.status < 300
            job_id = _mp4_job(patch, files)
            if job_id is not None and 200 <= patch.status < 300 and job_id in sim.jobs:
                delivered_jobs.add(job_id)
                delivery.append(patch.at + wall_minus_mono - sim.jobs[job_id].ends)

    callbacks = fake.requests_to(CALLBACK_ROUTE)
    ends = [job.ends for job in sim.jobs.values()]
    seconds = Counter(job.created_at for job in sim.jobs.values())
    return {
        "interactions": len(records),
        "acked": len(acks),
        "callback_types": dict(Counter(r.response_type for r in records)),
        "first_response_p50_ms": _ms(percentile(acks, 0.50)),
        "first_response_p99_ms": _ms(percentile(acks, 0.99)),
        "first_response_max_ms": _ms(max(acks) if acks else None),
        "card_shown_p50_ms": _ms(percentile(card_latency, 0.50)),
        "card_shown_p99_ms": _ms(percentile(card_latency, 0.99)),
        "callbacks_done_s": _s(max((r.at for r in callbacks), default=burst_at) - burst_at),
        "jobs_created": len(sim.jobs),
        # The burst: how many creation seconds the jobs fell in, and most in one of them.
        "created_in_seconds": len(seconds),
        "same_second_max": max(seconds.values(), default=0),
        "jobs_ended_spread_s": _s(max(ends) - min(ends)) if ends else None,
        "delivered": len(delivered_jobs),
        "edits_per_job_min": min(per_job, default=None),
        "edits_per_job_mean": round(sum(per_job) / len(per_job), 2) if per_job else None,
        "edits_per_job_max": max(per_job, default=None),
        "edits_total": sum(per_job),
        "edits_by_route": dict(edits_by_route),
        "failed_edits": failed_edits,
        "min_edit_gap_s": _s(min(gaps, default=None)),
        "edit_gaps_under_interval": None,  # filled by the caller, which knows the interval
        "new_messages_posted": len(fake.requests_to(NEW_MESSAGE_ROUTE)),
        "delivery_p50_s": _s(percentile(delivery, 0.50)),
        "delivery_p95_s": _s(percentile(delivery, 0.95)),
        "delivery_max_s": _s(max(delivery, default=None)),
        "_gaps": gaps,
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    wall_minus_mono = time.time() - time.monotonic()
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    lag = LoopLag()
    lag.start()
    with tempfile.TemporaryDirectory(prefix="videobot-bench-") as tmp:
        async with FakeDiscord() as fake, AsyncExitStack() as stack:
            started = await start_bench_bot(
                stack,
                fake,
                Path(tmp),
                members=args.interactions,
                sim=SimulatorConfig(
                    job_seconds=args.job_seconds,
                    job_seconds_max=args.job_seconds_max,
                    progress_shape=args.progress_shape,
                ),
                edit_interval=args.edit_interval,
                # What is measured here is the burst, not the spending limits (bench/budget.py).
                settings={
                    "monthly_budget_usd": "none",
                    "daily_seconds_per_user": "none",
                    "provider_requests_per_minute": args.rpm,
                },
            )
            harness, bot, sim, users = started.harness, started.bot, started.sim, started.users
            # When the tracker published each job's end: splits delivery into noticing and posting.
            noticed: dict[str, float] = {}
            events = bot.tracker.subscribe()

            async def watch() -> None:
                while True:
                    event = await events.get()
                    if event.job.finished:
                        noticed.setdefault(event.job.id, time.time())

            watcher = asyncio.create_task(watch())
            try:
                payloads = [
                    harness.command_payload(
                        "video", {"prompt": f"bench clip {i}: a calico cat at a piano"}, user=user
                    )
                    for i, user in enumerate(users)
                ]
                profiler = cProfile.Profile() if args.profile else None
                if profiler is not None:
                    profiler.enable()
                burst_at = time.monotonic()
                records = burst(harness, payloads)
                fed_s = time.monotonic() - burst_at
                if profiler is not None:
                    await asyncio.sleep(3.0)
                    profiler.disable()
                    profiler.dump_stats(args.profile)

                def delivered() -> int:
                    count = 0
                    for record in records:
                        message = fake.original_message(record)
                        if message and any(
                            a["filename"].endswith(".mp4") for a in message["attachments"]
                        ):
                            count += 1
                    return count

                deadline = burst_at + args.timeout
                last_report = burst_at
                while (done := delivered()) < len(records) and time.monotonic() < deadline:
                    await asyncio.sleep(0.25)
                    if time.monotonic() - last_report >= 15:
                        last_report = time.monotonic()
                        elapsed = last_report - burst_at
                        print(f"... {elapsed:5.0f} s: {done}/{len(records)} delivered", flush=True)
                finished_at = time.monotonic()
                # Bounded like every wait here: delivery's last edits, then the report.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(bot.delivery.idle(), 60)
                # Delivery names each MP4 by the row's key, not the provider's id.
                rows = await bot.db.fetch_all("SELECT key, id FROM videos")
                files = {f"video-{row[0]}.mp4": str(row[1]) for row in rows}
            finally:
                watcher.cancel()
                await harness.close()
            result = measure(fake, sim, records, burst_at, wall_minus_mono, files)
            result["feed_all_ms"] = _ms(fed_s)
            seen = [noticed[j] - job.ends for j, job in sim.jobs.items() if j in noticed]
            result["noticed_p50_s"] = _s(percentile(seen, 0.50))
            result["noticed_p95_s"] = _s(percentile(seen, 0.95))
            result["simulator_calls"] = {op.value: n for op, n in sim.calls.items()}
            result["all_delivered"] = result["delivered"] == len(records)
            result["wall_s"] = _s(finished_at - burst_at)
            result["max_loop_lag_burst_ms"] = _ms(lag.max_between(burst_at, burst_at + 3.0))
            result["max_loop_lag_after_ms"] = _ms(lag.max_between(burst_at + 3.0, finished_at))
            result["bot_errors"] = len(harness.errors)
            result["bot_error_samples"] = [e[:200] for e in harness.errors[:3]]
            result["fake_problems"] = len(fake.unknown_requests) + len(fake.internal_errors)
            result["discord_requests"] = dict(Counter(r.route for r in fake.requests))
    await lag.stop()
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    result["cpu_s"] = _s(
        (cpu_after.ru_utime + cpu_after.ru_stime) - (cpu_before.ru_utime + cpu_before.ru_stime)
    )
    return result


def report(args: argparse.Namespace, result: dict[str, Any]) -> None:
    gaps = result.pop("_gaps")
    result["edit_gaps_under_interval"] = sum(gap < args.edit_interval for gap in gaps)
    result |= {
        "config": {
            "interactions": args.interactions,
            "job_seconds": args.job_seconds,
            "job_seconds_max": args.job_seconds_max,
            "progress_shape": args.progress_shape,
            "requests_per_minute": args.rpm,
            "edit_interval_s": args.edit_interval,
            "timeout_s": args.timeout,
        },
        "targets_met": {
            "first_response_p99_under_500ms": (result["first_response_p99_ms"] or math.inf) < 500,
            "edit_gap_at_least_interval": result["edit_gaps_under_interval"] == 0,
            "all_delivered": result["all_delivered"],
        },
    }
    r = result
    print()
    print(
        f"{r['interactions']} concurrent /video, {args.job_seconds:.0f}-"
        f"{args.job_seconds_max:.0f} s {args.progress_shape} jobs, ",
        end="",
    )
    print(f"edit interval {args.edit_interval} s (fed in {r['feed_all_ms']} ms)")
    print(
        f"  jobs created            {r['jobs_created']} in {r['created_in_seconds']} creation "
        f"seconds, up to {r['same_second_max']} in one"
    )
    print(
        f"  first response (defer)  p50 {r['first_response_p50_ms']} ms, "
        f"p99 {r['first_response_p99_ms']} ms, max {r['first_response_max_ms']} ms "
        f"[{r['acked']}/{r['interactions']} acked, types {r['callback_types']}]"
    )
    print(
        f"  card shown (1st PATCH)  p50 {r['card_shown_p50_ms']} ms, "
        f"p99 {r['card_shown_p99_ms']} ms"
    )
    print(
        f"  loop lag max            {r['max_loop_lag_burst_ms']} ms in the first 3 s, "
        f"{r['max_loop_lag_after_ms']} ms after"
    )
    print(
        f"  edits per job           min {r['edits_per_job_min']}, mean "
        f"{r['edits_per_job_mean']}, max {r['edits_per_job_max']} "
        f"(by route {r['edits_by_route']}, failed {r['failed_edits']}, "
        f"new messages {r['new_messages_posted']})"
    )
    print(
        f"  min progress edit gap   {r['min_edit_gap_s']} s "
        f"({r['edit_gaps_under_interval']} gaps under {args.edit_interval} s)"
    )
    print(
        f"  end -> MP4 attached     p50 {r['delivery_p50_s']} s, p95 {r['delivery_p95_s']} s, "
        f"max {r['delivery_max_s']} s [{r['delivered']}/{r['interactions']} delivered]"
    )
    print(
        f"    of which end -> tracker noticed  p50 {r['noticed_p50_s']} s, "
        f"p95 {r['noticed_p95_s']} s (simulator calls {r['simulator_calls']})"
    )
    print(
        f"  wall {r['wall_s']} s, CPU {r['cpu_s']} s, bot errors {r['bot_errors']}, "
        f"fake problems {r['fake_problems']}"
    )
    for sample in r["bot_error_samples"]:
        print(f"    error: {sample}")
    print(f"  targets met: {r['targets_met']}")
    print(json.dumps(result))


def main() -> None:
    args = parse_args()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    report(args, asyncio.run(run(args)))


if __name__ == "__main__":
    main()
