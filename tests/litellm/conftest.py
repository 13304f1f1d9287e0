"""The LiteLLM proxy, a gateway we did not write, on loopback in front of the simulator.

Two proxies share one simulator. `plain` has only the model list, as a deployment starts
out; `pinned` adds `general_settings.completion_model`, the setting that gives a model to
requests whose id carries none. The proxies reach the internet only through `Outbound`, a
forward proxy on loopback that records where each call was going and refuses it.
"""

from __future__ import annotations

import json
import os
import socketserver
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.procs import free_port, start_simulator, stop, wait_for_port

REPO = Path(__file__).resolve().parents[2]
LITELLM = REPO / ".litellm" / "bin" / "litellm"
MASTER_KEY = "sk-litellm-test-master"
MODELS = ("sora-2", "sora-2-pro")
# Imports alone take seconds on two cores; 90 s leaves room for a busy machine.
START_TIMEOUT = 90.0


@dataclass
class Outbound:
    """Request lines of the calls a proxy tried to make past loopback."""

    port: int = 0
    seen: list[str] = field(default_factory=list)

    def take(self) -> list[str]:
        seen, self.seen = self.seen, []
        return seen


def _refusing_handler(outbound: Outbound) -> type[socketserver.StreamRequestHandler]:
    class Refuse(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            outbound.seen.append(self.rfile.readline().decode(errors="replace").strip())
            self.wfile.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")

    return Refuse


@pytest.fixture(scope="session")
def outbound() -> Iterator[Outbound]:
    recorder = Outbound()
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _refusing_handler(recorder))
    recorder.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield recorder
    finally:
        server.shutdown()
        server.server_close()


@dataclass(frozen=True)
class Gateways:
    plain: str
    pinned: str
    simulator: str
    outbound_at_start: list[str]


def _config(simulator: str, *, pinned: bool) -> str:
    deployments = [
        {
            "model_name": name,
            "litellm_params": {
                "model": f"openai/{name}",
                "api_base": simulator,
                "api_key": "sk-simulator",
            },
        }
        for name in MODELS
    ]
    general: dict[str, str] = {"master_key": MASTER_KEY}
    if pinned:
        general["completion_model"] = MODELS[0]
    # JSON is YAML, which the proxy reads.
    return json.dumps({"model_list": deployments, "general_settings": general})


def _proxy_env(home: Path, outbound_port: int) -> dict[str, str]:
    forward = f"http://127.0.0.1:{outbound_port}"
    return {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        # The cost map and Anthropic's beta headers from the wheel instead of GitHub.
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "LITELLM_LOCAL_ANTHROPIC_BETA_HEADERS": "True",
        "LITELLM_LOCAL_BLOG_POSTS": "True",
        # Every other call goes through the recorder; the simulator is reached directly.
        "AIOHTTP_TRUST_ENV": "True",
        "HTTP_PROXY": forward,
        "HTTPS_PROXY": forward,
        "NO_PROXY": "127.0.0.1,localhost",
        # What the proxy sends where no deployment gives a key: never a real one.
        "OPENAI_API_KEY": "sk-not-a-real-key",
    }


def _start_proxy(home: Path, port: int, outbound_port: int) -> subprocess.Popen[bytes]:
    command = [
        str(LITELLM),
        *("--config", str(home / "config.yaml")),
        *("--host", "127.0.0.1", "--port", str(port)),
    ]
    return subprocess.Popen(  # noqa: S603 - the proxy installed by `make test`
        command,
        cwd=home,
        env=_proxy_env(home, outbound_port),
        stdout=(home / "proxy.log").open("wb"),
        stderr=subprocess.STDOUT,
    )


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
        (home / "config.yaml").write_text(_config(upstream, pinned=name == "pinned"))
        proxies[name] = _start_proxy(home, ports[name], outbound.port)
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

__all__ = ["Gateways", "Outbound", "fake_discord", "start_bot", "start_harness", "world"]
