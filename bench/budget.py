"""Benchmark: 100 concurrent /video against a monthly budget that fits exactly 10.

    .venv/bin/python bench/budget.py
    .venv/bin/python bench/budget.py --interactions 500 --fits 25

The real bot on the fake Discord with the simulator as its API (set up by bench/interactions.py's
helpers), each interaction from its own member so that no concurrency limit is in the way: the
budget alone decides. The budget is set to what `--fits` videos of the default model and length
cost. Every INTERACTION_CREATE is fed in one go; the run waits (at most `--timeout` seconds) until
every interaction has its answer: a card for a started job, an ephemeral refusal otherwise.

Printed: started, refused, API calls made for the refused (requests the simulator received
carrying a refused prompt, and create calls beyond the started), and the first-response
(deferral) p50/p99. The LAST line is one JSON object with every figure.
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
if str(ROOT) not in sys.path:  # the e2e fake and harness live in tests/, bench/ is a namespace
    sys.path.insert(0, str(ROOT))

from bench.interactions import burst, start_bench_bot  # noqa: E402
from bench.stats import percentile  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.simulator import SimulatorConfig  # noqa: E402
from bot.spending.money import MICROS_PER_USD, micros, usd  # noqa: E402
from bot.videoapi.models import Operation  # noqa: E402
from tests.e2e.fake_discord import FakeDiscord, FakeInteraction, is_loading  # noqa: E402
from tests.e2e.harness import Harness  # noqa: E402
from tests.e2e.views import has_card  # noqa: E402


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interactions", type=int, default=100)
    parser.add_argument("--fits", type=int, default=10, help="how many videos the budget pays")
    parser.add_argument("--job-seconds", type=float, default=60.0)
    parser.add_argument("--timeout", type=float, default=60.0, help="give up this long after")
    return parser.parse_args(argv)


def answered(harness: Harness, record: FakeInteraction) -> str | None:
    """ "started" (its card is up), "refused" (an ephemeral answer), or None while pending."""
    original = harness.fake.original_message(record)
    if original is not None and not is_loading(original) and has_card(original):
        return "started"
    for message in [original, *harness.followups(record)]:
        if message is not None and harness.is_ephemeral(message) and not is_loading(message):
            return "refused" if "budget" in message.get("content", "") else "other"
    return None


async def run(args: argparse.Namespace) -> dict[str, Any]:
    profile = Settings(_env_file=None).profile()  # type: ignore[call-arg]
    model, seconds = profile.default_model, int(profile.default_seconds)
    one = micros(profile.price_for(model)) * seconds
    budget = one * args.fits
    with tempfile.TemporaryDirectory(prefix="videobot-bench-") as tmp:
        async with FakeDiscord() as fake, AsyncExitStack() as stack:
            env = await start_bench_bot(
                stack,
                fake,
                Path(tmp),
                members=args.interactions,
                sim=SimulatorConfig(job_seconds=args.job_seconds),
                edit_interval=5.0,
                settings={
                    "monthly_budget_usd": str(budget / MICROS_PER_USD),
                    "daily_seconds_per_user": "none",
                },
            )
            harness = env.harness
            try:
                prompts = [
                    f"budget clip {i}: a heron in the rain" for i in range(args.interactions)
                ]
                payloads = [
                    harness.command_payload("video", {"prompt": prompt}, user=user)
                    for prompt, user in zip(prompts, env.users, strict=True)
                ]
                burst_at = time.monotonic()
                records = burst(harness, payloads)
                outcomes: list[str | None] = [None] * len(records)
                deadline = burst_at + args.timeout
                while time.monotonic() < deadline:
                    outcomes = [answered(harness, r) for r in records]
                    if all(outcomes):
                        break
                    await asyncio.sleep(0.05)
                answered_s = time.monotonic() - burst_at
                # Let anything still in flight land before counting API calls.
                await asyncio.wait_for(env.bot.jobs.idle(), args.timeout)
            finally:
                await harness.close()
            sim = env.sim
            refused_prompts = {p for p, o in zip(prompts, outcomes, strict=True) if o == "refused"}
            started = outcomes.count("started")
            creates = sim.calls[Operation.CREATE]
            by_refused = sum(1 for job in sim.jobs.values() if job.prompt in refused_prompts)
            acks = [r.ack_latency for r in records if r.ack_latency is not None]
            return {
                "interactions": len(records),
                "budget": usd(budget),
                "fits": args.fits,
                "started": started,
                "refused": len(refused_prompts),
                "other_answers": outcomes.count("other"),
                "unanswered": outcomes.count(None),
                "api_create_calls": creates,
                "api_calls_by_refused": by_refused + max(0, creates - started),
                "first_response_p50_ms": _ms(percentile(acks, 0.50)),
                "first_response_p99_ms": _ms(percentile(acks, 0.99)),
                "all_answered_s": round(answered_s, 3),
                "bot_errors": len(harness.errors),
                "exact": started == args.fits and by_refused == 0 and creates == started,
            }


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


def main() -> None:
    args = parse_args()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    result = asyncio.run(run(args))
    r = result
    print(f"{r['interactions']} concurrent /video, a budget of {r['budget']} (fits {r['fits']})")
    print(f"  started                  {r['started']}")
    print(
        f"  refused                  {r['refused']} (other answers {r['other_answers']}, "
        f"unanswered {r['unanswered']})"
    )
    print(
        f"  API calls by the refused {r['api_calls_by_refused']} "
        f"(create calls in all: {r['api_create_calls']})"
    )
    print(
        f"  first response (defer)   p50 {r['first_response_p50_ms']} ms, "
        f"p99 {r['first_response_p99_ms']} ms; all answered in {r['all_answered_s']} s"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
