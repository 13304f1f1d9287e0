"""The LiteLLM proxy, a gateway we did not write, on loopback in front of the simulator, and
(`chains`) in front of imitations of the Gemini API, fal's queue and Runway's API.

Two proxies share one simulator. `plain` has only the model list, as a deployment starts
out; `pinned` adds `general_settings.completion_model`, the setting that gives a model to
requests whose id carries none. The proxies reach the internet only through `Outbound`, a
forward proxy on loopback that records where each call was going and refuses it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from tests.litellm.proxy import (
    LITELLM,
    MASTER_KEY,
    START_TIMEOUT,
    Outbound,
    chains_config,
    proxy_config,
    refusing_outbound,
    start_proxy,
)
from tests.litellm.upstreams import Upstreams, serving_upstreams
from tests.procs import free_port, start_simulator, stop, wait_for_port


@pytest.fixture(scope="session")
def outbound() -> Iterator[Outbound]:
    with refusing_outbound() as recorder:
        yield recorder


@dataclass(frozen=True)
class Gateways:
    plain: str
    pinned: str
    simulator: str
    outbound_at_start: list[str]


@pytest.fixture(scope="session")
def gateways(tmp_path_factory: pytest.TempPathFactory, outbound: Outbound) -> Iterator[Gateways]:
    if not LITELLM.exists():
        pytest.fail("LiteLLM is not installed: run `make test`, which installs it first")
    logs = tmp_path_factory.mktemp("litellm")
    sim_port = free_port()
    simulator = start_simulator(sim_port, logs / "simulator.log", job_seconds=0.6)
    upstream = f"http://127.0.0.1:{sim_port}/v1"
    homes = {name: logs / name for name in ("plain", "pinned")}
    ports = {name: free_port() for name in homes}
    proxies = {}
    for name, home in homes.items():
        home.mkdir()
        (home / "config.yaml").write_text(proxy_config(upstream, pinned=name == "pinned"))
        proxies[name] = start_proxy(home, ports[name], outbound.port)
    try:
        wait_for_port(sim_port, simulator, "the simulator", START_TIMEOUT, logs / "simulator.log")
        for name, proxy in proxies.items():
            log = homes[name] / "proxy.log"
            wait_for_port(ports[name], proxy, f"LiteLLM ({name})", START_TIMEOUT, log)
        yield Gateways(
            plain=f"http://127.0.0.1:{ports['plain']}",
            pinned=f"http://127.0.0.1:{ports['pinned']}",
            simulator=upstream,
            outbound_at_start=outbound.take(),
        )
    finally:
        stop(*proxies.values(), simulator)


@dataclass(frozen=True)
class Chains:
    """One proxy in front of the Gemini, fal and Runway imitations (proxy.CHAINS)."""

    gateway: str
    upstreams: Upstreams
    outbound_at_start: list[str]


@pytest.fixture(scope="session")
def chains(tmp_path_factory: pytest.TempPathFactory, outbound: Outbound) -> Iterator[Chains]:
    if not LITELLM.exists():
        pytest.fail("LiteLLM is not installed: run `make test`, which installs it first")
    home = tmp_path_factory.mktemp("litellm-chains")
    with serving_upstreams(job_seconds=0.6) as upstreams:
        roots = {upstream.name: upstream.url for upstream in upstreams.all()}
        (home / "config.yaml").write_text(chains_config(roots))
        port = free_port()
        proxy = start_proxy(home, port, outbound.port)
        try:
            wait_for_port(port, proxy, "LiteLLM (chains)", START_TIMEOUT, home / "proxy.log")
            yield Chains(f"http://127.0.0.1:{port}", upstreams, outbound.take())
        finally:
            stop(proxy)


def _client(base_url: str) -> httpx.Client:
    headers = {"Authorization": f"Bearer {MASTER_KEY}"}
    return httpx.Client(base_url=base_url, headers=headers, timeout=30)


@pytest.fixture
def plain(gateways: Gateways, outbound: Outbound) -> Iterator[httpx.Client]:
    outbound.take()
    with _client(gateways.plain) as client:
        yield client


@pytest.fixture
def pinned(gateways: Gateways, outbound: Outbound) -> Iterator[httpx.Client]:
    outbound.take()
    with _client(gateways.pinned) as client:
        yield client


@pytest.fixture
def simulator(gateways: Gateways) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=gateways.simulator, timeout=30) as client:
        yield client


# The bot's end-to-end fixtures (a fake Discord and the bot on it), for the bot through LiteLLM.
from tests.e2e.conftest import fake_discord, start_bot, start_harness, world  # noqa: E402

__all__ = ["Chains", "Gateways", "Outbound", "fake_discord", "start_bot", "start_harness", "world"]
