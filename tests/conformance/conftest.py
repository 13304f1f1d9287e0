"""Prism, a validator we did not write, between the client and the simulator.

Prism's proxy mode checks every request against the spec before forwarding it, and every
response on the way back; with --errors a violation becomes a problem+json answer instead.
Prism corrupts binary multipart parts when it forwards them, so uploads go to Prism in mock
mode, which validates the request just the same and answers from the spec's schemas.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.procs import free_port, start_simulator, stop, wait_for_port
from tests.specs import OPENAI_VIDEOS_SPEC

REPO = Path(__file__).resolve().parents[2]
PRISM = REPO / "node_modules" / ".bin" / "prism"
START_TIMEOUT = 60.0


def _prism(mode: list[str], port: int, log: Path) -> subprocess.Popen[bytes]:
    command = [str(PRISM), *mode, "--errors", "--host", "127.0.0.1", "--port", str(port)]
    return subprocess.Popen(  # noqa: S603 - the locally installed Prism
        command, stdout=log.open("wb"), stderr=subprocess.STDOUT
    )


@pytest.fixture(scope="session")
def logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not PRISM.exists():
        pytest.fail("Prism is not installed: run `make test`, which runs `npm ci` first")
    return tmp_path_factory.mktemp("conformance")


@pytest.fixture(scope="session")
def prism_url(logs: Path) -> Iterator[str]:
    """Prism proxying to a simulator run as `videobot simulator`."""
    sim_port, prism_port = free_port(), free_port()
    simulator = start_simulator(sim_port, logs / "simulator.log", job_seconds=0.6)
    upstream = f"http://127.0.0.1:{sim_port}/v1"
    prism = _prism(["proxy", str(OPENAI_VIDEOS_SPEC), upstream], prism_port, logs / "proxy.log")
    try:
        wait_for_port(sim_port, simulator, "the simulator", START_TIMEOUT, logs / "simulator.log")
        wait_for_port(prism_port, prism, "Prism", START_TIMEOUT, logs / "proxy.log")
        yield f"http://127.0.0.1:{prism_port}"
    finally:
        stop(prism, simulator)


@pytest.fixture(scope="session")
def prism_mock_url(logs: Path) -> Iterator[str]:
    port = free_port()
    prism = _prism(["mock", str(OPENAI_VIDEOS_SPEC)], port, logs / "mock.log")
    try:
        wait_for_port(port, prism, "Prism", START_TIMEOUT, logs / "mock.log")
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(prism)


@dataclass
class Violations:
    """Every problem Prism reported, by request."""

    found: list[tuple[str, Any]] = field(default_factory=list)


class CheckingTransport(httpx.AsyncHTTPTransport):
    """Records Prism's problem reports so a test can fail on any of them."""

    def __init__(self, violations: Violations) -> None:
        super().__init__()
        self.violations = violations

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await super().handle_async_request(request)
        if response.headers.get("content-type", "").startswith("application/problem+json"):
            await response.aread()
            where = f"{request.method} {request.url.path}"
            self.violations.found.append((where, response.json()))
        return response


@pytest.fixture
def violations() -> Violations:
    return Violations()


@pytest.fixture
def transport(violations: Violations) -> CheckingTransport:
    return CheckingTransport(violations)
