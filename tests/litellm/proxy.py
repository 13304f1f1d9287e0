"""The LiteLLM proxy installed by `make test`, started on loopback in front of a simulator or of
imitations of the upstream APIs it transforms (tests/litellm/upstreams.py).

Used by the tests' fixtures and by bench/providers.py. A proxy reaches past loopback only
through `Outbound`, a forward proxy on loopback that records where each call was going and
refuses it, so nothing here ever depends on the network.
"""

from __future__ import annotations

import json
import os
import socketserver
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.litellm.upstreams import FAL_KEY, GEMINI_KEY, RUNWAY_KEY

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


@contextmanager
def refusing_outbound() -> Iterator[Outbound]:
    """A loopback forward proxy that records and refuses every call through it."""
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


def proxy_config(simulator: str, *, pinned: bool) -> str:
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


@dataclass(frozen=True)
class Chain:
    """LiteLLM in front of one provider's own API: the README recipe the tests run.

    `deployments` maps the name members choose (the proxy's `model_name`) to LiteLLM's model;
    `settings` are the bot's, besides PROVIDER=litellm, OPENAI_BASE_URL and the master key.
    """

    name: str
    deployments: dict[str, str]
    api_key: str
    # Appended to the imitation's root: what LiteLLM expects its `api_base` to hold.
    base_path: str
    settings: dict[str, str]

    @property
    def models(self) -> list[str]:
        return list(self.deployments)

    def upstream_model(self, model: str) -> str:
        """The id the upstream is asked for when a member chooses `model`."""
        return self.deployments[model].split("/", 1)[1]


CHAINS = (
    Chain(
        "gemini",
        {
            "veo-3.1-fast": "gemini/veo-3.1-fast-generate-001",
            "veo-3.1": "gemini/veo-3.1-generate-001",
        },
        GEMINI_KEY,
        "",
        {
            "provider_models": "veo-3.1-fast,veo-3.1",
            "provider_sizes": "1280x720,720x1280",
            "provider_seconds": "4,6,8",
            "provider_price_per_second": "veo-3.1-fast=0.10,veo-3.1=0.40",
        },
    ),
    Chain(
        "fal",
        {
            "seedance-2.0": "fal_ai/bytedance/seedance-2.0/text-to-video",
            "kling-3-pro": "fal_ai/fal-ai/kling-video/v3/pro/text-to-video",
        },
        FAL_KEY,
        "",
        {
            "provider_models": "seedance-2.0,kling-3-pro",
            "provider_sizes": "1280x720,720x1280",
            "provider_seconds": "5,10",
            "provider_price_per_second": "seedance-2.0=0.3034,kling-3-pro=0.168",
        },
    ),
    Chain(
        "runway",
        {"veo3.1-fast": "runwayml/veo3.1_fast", "gen4.5": "runwayml/gen4.5"},
        RUNWAY_KEY,
        "/v1",
        {
            "provider_models": "veo3.1-fast,gen4.5",
            "provider_sizes": "1280x720,720x1280",
            "provider_seconds": "4,6,8",
            "provider_price_per_second": "veo3.1-fast=0.15,gen4.5=0.12",
        },
    ),
)


# The model of the README's old Gemini recipe, shut down on 2026-10-22: kept in the chains'
# proxy to see what a retired model answers through it.
RETIRED_GEMINI = ("veo-3.1-preview", "gemini/veo-3.1-generate-preview")


def chains_config(roots: dict[str, str]) -> str:
    """One proxy for every chain, each deployment's `api_base` at its imitation's root."""
    retired = {
        "model_name": RETIRED_GEMINI[0],
        "litellm_params": {
            "model": RETIRED_GEMINI[1],
            "api_base": roots["gemini"],
            "api_key": GEMINI_KEY,
        },
    }
    deployments = [
        {
            "model_name": name,
            "litellm_params": {
                "model": model,
                "api_base": roots[chain.name] + chain.base_path,
                "api_key": chain.api_key,
            },
        }
        for chain in CHAINS
        for name, model in chain.deployments.items()
    ]
    general = {"master_key": MASTER_KEY}
    return json.dumps({"model_list": [*deployments, retired], "general_settings": general})


def proxy_env(home: Path, outbound_port: int) -> dict[str, str]:
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


def start_proxy(home: Path, port: int, outbound_port: int) -> subprocess.Popen[bytes]:
    command = [
        str(LITELLM),
        *("--config", str(home / "config.yaml")),
        *("--host", "127.0.0.1", "--port", str(port)),
    ]
    return subprocess.Popen(  # noqa: S603 - the proxy installed by `make test`
        command,
        cwd=home,
        env=proxy_env(home, outbound_port),
        stdout=(home / "proxy.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
