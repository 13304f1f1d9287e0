"""Benchmark: API requests per delivered job through each server the bot supports.

    .venv/bin/python bench/providers.py              # 5 jobs each, 4 s videos made in 2 s
    .venv/bin/python bench/providers.py --jobs 10 --skip-litellm
    .venv/bin/python bench/providers.py --only both,both-failover --jobs 4

For each target, 5 members start one `/video` each at once, through the real bot on the fake
Discord, and the bench waits until every MP4 is on its card; then it clicks Thumbnail on one.
Targets: the simulator as the contract (`openai`), its vLLM-Omni, SGLang, Aquiles-Image and
OpenRouter dialects (each with its PROVIDER preset), the real LiteLLM proxy (`make test`
installs it into .litellm/) in front of the simulator with its model list alone and
PROVIDER=litellm, and the same proxy in front of imitations of the Gemini API, fal's queue and
Runway's API (tests/litellm/upstreams.py), each configured as its README recipe
(`litellm-gemini`, `litellm-fal`, `litellm-runway`). Counted: every request the bot's API client
sent, by route, divided by the videos delivered; for the chains also what LiteLLM sent upstream.
Latency: from a member's `/video` to the MP4 on its card. Every wait is bounded; the LAST line
printed is one JSON object.

Both providers at once (`both`, `both-failover`): the simulator as the contract (`lab`) and its
OpenRouter dialect (`openrouter`), each `videobot simulator` in its own process, configured side
by side in one bot. `both`: the members' jobs alternate between a model only the lab serves and
one only OpenRouter serves. `both-failover`: every job asks for one model both serve (under the
operator's equivalence), and the lab refuses half the creates with a 402 (set through POST
/simulator/faults), so those are made at OpenRouter. Per provider: the requests the bot sent it
(by route) per video it delivered, and at the server, the creates it got and the jobs it made.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # the e2e fake and harness live in tests/, not in the package
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from bench.discord_env import start_bot, start_bot_on  # noqa: E402
from bench.stats import percentile  # noqa: E402
from bot.app import VideoBot  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.simulator import SimulatorConfig, make_app, serve_app  # noqa: E402
from bot.videoapi.presets import PRESETS  # noqa: E402
from bot.videoapi.providers import Providers, ProviderSpec  # noqa: E402
from bot.wiring import spec_client, webhook_receiver  # noqa: E402
from tests.e2e.botenv import CountingTransport  # noqa: E402
from tests.e2e.harness import Harness  # noqa: E402
from tests.e2e.views import ephemeral_answer, field, has_mp4  # noqa: E402
from tests.litellm.proxy import (  # noqa: E402
    CHAINS,
    LITELLM,
    MASTER_KEY,
    START_TIMEOUT,
    Chain,
    chains_config,
    proxy_config,
    refusing_outbound,
    start_proxy,
)
from tests.litellm.upstreams import Upstream, Upstreams, serving_upstreams  # noqa: E402
from tests.procs import free_port, start_simulator, stop, wait_for_port  # noqa: E402

DIALECTS = ("openai", "vllm-omni", "sglang", "aquiles", "openrouter")


def route_of(request: str) -> str:
    """`GET /v1/videos/<id>/content` -> `GET /videos/{id}/content`: ids folded away (OpenRouter's
    paths are under /api/v1)."""
    method, path = request.split(" ", 1)
    parts = path.removeprefix("/api").removeprefix("/v1").strip("/").split("/")
    if len(parts) >= 2 and parts[1] not in ("edits", "extensions", "characters", "models"):
        parts[1] = "{id}"
    return f"{method} /{'/'.join(parts)}"


async def run_jobs(
    harness: Harness,
    sent: list[str],
    jobs: int,
    within: float,
    models: tuple[str, ...] = (),
) -> dict[str, Any]:
    """`jobs` members' `/video` at once (their model taken in turn from `models`, else none)."""
    fake = harness.fake
    users = [fake.add_user(f"member{i}") for i in range(jobs)]
    for user in users:
        fake.add_member(harness.world.guild_id, user)
    began = time.monotonic()
    records = []
    for i, user in enumerate(users):
        options = {"prompt": f"clip {i}: a paper boat"}
        if models:
            options["model"] = models[i % len(models)]
        records.append(await harness.slash("video", options, user=user))

    # When each card was first seen with its MP4: the end-to-MP4 latency.
    seen_at: dict[int, float] = {}

    def delivered_cards() -> list[dict[str, Any]]:
        cards = [fake.original_message(record) or {} for record in records]
        for index, card in enumerate(cards):
            if has_mp4(card):
                seen_at.setdefault(index, time.monotonic() - began)
        return [card for card in cards if has_mp4(card)]

    with contextlib.suppress(AssertionError):  # timed out: report what was delivered
        await harness.wait_for(lambda: len(delivered_cards()) == jobs, within, what="every video")
    delivered = delivered_cards()
    seconds = time.monotonic() - began
    before_thumbnail = len(sent)
    thumbnail_ok = False
    if delivered:
        card = delivered[0]
        custom_id = next(
            item["custom_id"]
            for row in card.get("components") or []
            for item in row.get("components") or []
            if ":thumbnail:" in item.get("custom_id", "")
        )
        click = await harness.click(card, custom_id, user=users[0], settle=0.0)
        with contextlib.suppress(AssertionError):
            reply = await ephemeral_answer(harness, click, within)
            thumbnail_ok = any(a["filename"].endswith(".webp") for a in reply["attachments"])
    jobs_requests = Counter(route_of(r) for r in sent[:before_thumbnail])
    latencies = sorted(seen_at.values())
    return {
        "delivered": len(delivered),
        # Named on the card when several providers are configured.
        "delivered_by": dict(Counter(field(card, "Provider") or "default" for card in delivered)),
        "seconds": round(seconds, 2),
        "mp4_latency_s": {
            name: round(value, 2) if value is not None else None
            for name, value in (
                ("p50", percentile(latencies, 0.5)),
                ("max", percentile(latencies, 1.0)),
            )
        },
        "requests_per_delivered_job": round(before_thumbnail / max(1, len(delivered)), 2),
        "requests_by_route": dict(sorted(jobs_requests.items())),
        "thumbnail_requests": [route_of(r) for r in sent[before_thumbnail:]],
        "thumbnail_delivered": thumbnail_ok,
    }


async def on_openrouter_webhooks(args: argparse.Namespace) -> dict[str, Any]:
    """The openrouter dialect announcing each ended job, signed, to the bot's receiver."""
    secret = "whsec-bench"
    listen = f"127.0.0.1:{free_port()}"
    hooks = f"http://{listen}/hooks/openrouter"
    with tempfile.TemporaryDirectory(prefix="videobot-bench-") as folder:
        async with AsyncExitStack() as stack:
            config = SimulatorConfig(
                job_seconds=args.job_seconds,
                dialect="openrouter",
                profile=PRESETS["openrouter"],
                openrouter_webhook_secret=secret,
            )
            url = await stack.enter_async_context(serve_app(make_app(config)))
            settings = {
                "provider": "openrouter",
                "webhook_public_url": hooks,
                "webhook_listen": listen,
                "openrouter_webhook_secret": secret,
            }
            _, harness, sent = await start_bot(
                stack, Path(folder), url, poll_interval=1.0, **settings
            )
            bot = harness.client
            assert isinstance(bot, VideoBot)
            await stack.enter_async_context(webhook_receiver(bot.settings, bot.tracker))
            return await run_jobs(harness, sent, args.jobs, args.within)


async def on_dialect(dialect: str, args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="videobot-bench-") as folder:
        async with AsyncExitStack() as stack:
            config = SimulatorConfig(
                job_seconds=args.job_seconds, dialect=dialect, profile=PRESETS[dialect]
            )
            url = await stack.enter_async_context(serve_app(make_app(config)))
            _, harness, sent = await start_bot(
                stack, Path(folder), url, provider=dialect, poll_interval=1.0
            )
            return await run_jobs(harness, sent, args.jobs, args.within)


@asynccontextmanager
async def litellm_proxy(folder: Path, job_seconds: float) -> AsyncIterator[str]:
    """The real proxy, with its model list alone (the README's), in front of a simulator."""
    with refusing_outbound() as outbound:
        sim_port, proxy_port = free_port(), free_port()
        simulator = start_simulator(sim_port, folder / "simulator.log", job_seconds=job_seconds)
        upstream = f"http://127.0.0.1:{sim_port}/v1"
        (folder / "config.yaml").write_text(proxy_config(upstream, pinned=False))
        proxy = start_proxy(folder, proxy_port, outbound.port)
        try:
            wait_for_port(sim_port, simulator, "the simulator", START_TIMEOUT)
            wait_for_port(proxy_port, proxy, "LiteLLM", START_TIMEOUT, folder / "proxy.log")
            yield f"http://127.0.0.1:{proxy_port}/v1"
        finally:
            stop(proxy, simulator)


async def on_litellm(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="videobot-bench-") as folder:
        async with (
            litellm_proxy(Path(folder), args.job_seconds) as url,
            AsyncExitStack() as stack,
        ):
            _, harness, sent = await start_bot(
                stack, Path(folder), url, api_key=MASTER_KEY, provider="litellm", poll_interval=1.0
            )
            return await run_jobs(harness, sent, args.jobs, args.within)


def upstream_route(request: str) -> str:
    """An upstream request with its job ids (32 hex digits, the imitations') folded away."""
    method, path = request.split(" ", 1)
    parts = [f"{{id}}{p[32:]}" if p[:32].isalnum() and len(p) >= 32 else p for p in path.split("/")]
    return f"{method} {'/'.join(parts)}"


@asynccontextmanager
async def litellm_chains(folder: Path, job_seconds: float) -> AsyncIterator[tuple[str, Upstreams]]:
    """One proxy in front of the Gemini, fal and Runway imitations, as tests/litellm runs it."""
    with refusing_outbound() as outbound, serving_upstreams(job_seconds) as upstreams:
        port = free_port()
        roots = {upstream.name: upstream.url for upstream in upstreams.all()}
        (folder / "config.yaml").write_text(chains_config(roots))
        proxy = start_proxy(folder, port, outbound.port)
        try:
            wait_for_port(port, proxy, "LiteLLM", START_TIMEOUT, folder / "proxy.log")
            yield f"http://127.0.0.1:{port}/v1", upstreams
        finally:
            stop(proxy)
        if outbound.seen:
            raise RuntimeError(f"LiteLLM tried to call out: {outbound.seen}")


async def on_chain(
    url: str, upstream: Upstream, chain: Chain, args: argparse.Namespace
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="videobot-bench-") as folder:
        async with AsyncExitStack() as stack:
            _, harness, sent = await start_bot(
                stack,
                Path(folder),
                url,
                api_key=MASTER_KEY,
                provider="litellm",
                poll_interval=1.0,
                **chain.settings,
            )
            upstream.take()
            result = await run_jobs(harness, sent, args.jobs, args.within)
    upstream_requests = Counter(upstream_route(r) for r in upstream.take())
    per_video = max(1, result["delivered"])
    result["upstream_requests_per_delivered_job"] = {
        route: round(count / per_video, 2) for route, count in sorted(upstream_requests.items())
    }
    result["upstream_model"] = upstream.asked_models[-1] if upstream.asked_models else None
    return result


async def on_chains(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="videobot-bench-") as folder:
        async with litellm_chains(Path(folder), args.job_seconds) as (url, upstreams):
            for chain in CHAINS:
                upstream: Upstream = getattr(upstreams, chain.name)
                name = f"litellm-{chain.name}"
                results[name] = await on_chain(url, upstream, chain, args)
                print(name, json.dumps(results[name]), flush=True)
    return results


# A model only the lab serves, one only OpenRouter serves, and the operator's name for the two
# as one model (both at $0.10/s, so a job reserved at the lab may be made at OpenRouter).
LAB_MODEL = "sora-2"
OPENROUTER_MODEL = "google/veo-3.1-fast"
SHARED = {"paper-boat": (LAB_MODEL, OPENROUTER_MODEL)}
BOTH = (("lab", "openai"), ("openrouter", "openrouter"))


@contextlib.contextmanager
def simulator_processes(folder: Path, job_seconds: float) -> Iterator[dict[str, str]]:
    """The contract simulator and its OpenRouter dialect, each `videobot simulator` in its own
    process; yields each one's root URL (its API is under /v1, or /api/v1)."""
    ports = {name: free_port() for name, _ in BOTH}
    processes: dict[str, subprocess.Popen[bytes]] = {}
    try:
        for name, dialect in BOTH:
            command = [sys.executable, "-m", "bot", "simulator", "--port", str(ports[name])]
            command += ["--job-seconds", str(job_seconds), "--dialect", dialect]
            env = {**os.environ, "OPENAI_API_KEY": "", "PROVIDER": dialect}
            processes[name] = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                command,
                stdout=(folder / f"{name}.log").open("wb"),
                stderr=subprocess.STDOUT,
                env=env,
            )
        for name, process in processes.items():
            wait_for_port(ports[name], process, name, START_TIMEOUT, folder / f"{name}.log")
        yield {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    finally:
        stop(*processes.values())


class ProviderTransport(CountingTransport):
    """Counts what the bot sends one provider into a list shared by all, with whose it was."""

    def __init__(self, name: str, sent: list[str], owners: list[str]) -> None:
        super().__init__()
        self.sent, self._name, self._owners = sent, name, owners

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self._owners.append(self._name)
        return await super().handle_async_request(request)


async def on_both(args: argparse.Namespace, *, failover: bool) -> dict[str, Any]:
    sent: list[str] = []
    owners: list[str] = []
    with (
        tempfile.TemporaryDirectory(prefix="videobot-bench-") as folder,
        simulator_processes(Path(folder), args.job_seconds) as roots,
    ):
        async with AsyncExitStack() as stack, httpx.AsyncClient() as control:
            settings = Settings(_env_file=None, discord_token="fake", poll_interval=1.0)  # type: ignore[call-arg]
            backends = {}
            for name, kind in BOTH:
                api_url = roots[name] + ("/api/v1" if kind == "openrouter" else "/v1")
                spec = ProviderSpec(name, kind, api_url, None, PRESETS[kind])
                transport = ProviderTransport(name, sent, owners)
                backends[name] = await stack.enter_async_context(
                    spec_client(settings, spec, transport=transport)
                )
            if failover:
                refusals = {"create_refusals": ["credits"] * (args.jobs // 2)}
                await control.post(f"{roots['lab']}/simulator/faults", json=refusals)
            # Only the failover run names the two models as one.
            providers = Providers(backends, equivalents=SHARED if failover else None)
            _, harness = await start_bot_on(stack, Path(folder), settings, providers)
            # Only what the jobs cost: the catalogue OpenRouter's client read at start is not.
            del sent[:], owners[:]
            models = ("paper-boat",) if failover else (LAB_MODEL, OPENROUTER_MODEL)
            result = await run_jobs(harness, sent, args.jobs, args.within, models)
            servers = {
                name: (await control.get(f"{roots[name]}/simulator/jobs")).json() for name in roots
            }
    # The jobs' requests: those before the thumbnail click.
    jobs_sent = list(zip(owners, sent, strict=True))[: sum(result["requests_by_route"].values())]
    delivered_by = result["delivered_by"]
    result["by_provider"] = {}
    for name in roots:
        mine = [route_of(request) for owner, request in jobs_sent if owner == name]
        result["by_provider"][name] = {
            "delivered": delivered_by.get(name, 0),
            "requests_per_delivered_video": round(len(mine) / max(1, delivered_by.get(name, 0)), 2),
            "requests_by_route": dict(sorted(Counter(mine).items())),
            # At the server: every create it got, and the jobs those made (billable).
            "creates_received": servers[name]["calls"].get("create", 0),
            "jobs_made": len(servers[name]["jobs"]),
        }
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=5)
    parser.add_argument("--job-seconds", type=float, default=2.0)
    parser.add_argument("--within", type=float, default=120.0, help="seconds to wait, at most")
    parser.add_argument("--skip-litellm", action="store_true")
    parser.add_argument(
        "--only", default=None, help="run only these targets, comma-separated (e.g. both,openai)"
    )
    args = parser.parse_args(argv)
    only = set(args.only.split(",")) if args.only else None
    results: dict[str, Any] = {}

    def wanted(name: str) -> bool:
        return only is None or name in only

    for dialect in filter(wanted, DIALECTS):
        results[dialect] = asyncio.run(on_dialect(dialect, args))
        print(dialect, json.dumps(results[dialect]), flush=True)
    if wanted("openrouter-webhooks"):
        results["openrouter-webhooks"] = asyncio.run(on_openrouter_webhooks(args))
        print("openrouter-webhooks", json.dumps(results["openrouter-webhooks"]), flush=True)
    for name, failover in (("both", False), ("both-failover", True)):
        if wanted(name):
            results[name] = asyncio.run(on_both(args, failover=failover))
            print(name, json.dumps(results[name]), flush=True)
    if not args.skip_litellm and wanted("litellm"):
        if not LITELLM.exists():
            print("LiteLLM is not installed: run `make test` first", file=sys.stderr)
            return 2
        results["litellm"] = asyncio.run(on_litellm(args))
        print("litellm", json.dumps(results["litellm"]), flush=True)
        results.update(asyncio.run(on_chains(args)))
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
