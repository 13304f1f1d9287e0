"""Prism, a validator we did not write, between the client and the simulator.

Prism's proxy mode checks every request against the spec before forwarding it, and every
response on the way back; with --errors a violation becomes a problem+json answer instead.
Prism corrupts binary multipart parts when it forwards them, so uploads go to Prism in mock
mode, which validates the request just the same and answers from the spec's schemas.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.specs import OPENAI_VIDEOS_SPEC

REPO = Path(__file__).resolve().parents[2]
PRISM = REPO / "node_modules" / ".bin" / "prism"
START_TIMEOUT = 60.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_for_port(port: int, process: subprocess.Popen[bytes], name: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{name} did not listen on {port} within {START_TIMEOUT:.0f} s")


def _prism(mode: list[str], port: int, log: Path) -> subprocess.Popen[bytes]:
    command = [str(PRISM), *mode, "--errors", "--host", "127.0.0.1", "--port", str(port)]
    return subprocess.Popen(  # noqa: S603 - the locally installed Prism
        command, stdout=log.open("wb"), stderr=subprocess.STDOUT
    )


def _stop(*processes: subprocess.Popen[bytes]) -> None:
    for process in processes:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not PRISM.exists():
        pytest.fail("Prism is not installed: run `make test`, which runs `npm ci` first")
    return tmp_path_factory.mktemp("conformance")


@pytest.fixture(scope="session")
def prism_url(logs: Path) -> Iterator[str]:
    """Prism proxying to a simulator run as `videobot simulator`."""
    sim_port, prism_port = _free_port(), _free_port()
    env = {**os.environ, "SIMULATOR_JOB_SECONDS": "0.6", "OPENAI_API_KEY": ""}
    simulator = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "bot", "simulator", "--port", str(sim_port)],
        stdout=(logs / "simulator.log").open("wb"),
        stderr=subprocess.STDOUT,
        env=env,
    )
    upstream = f"http://127.0.0.1:{sim_port}/v1"
    prism = _prism(["proxy", str(OPENAI_VIDEOS_SPEC), upstream], prism_port, logs / "proxy.log")
    try:
        _wait_for_port(sim_port, simulator, "the simulator")
        _wait_for_port(prism_port, prism, "Prism")
        yield f"http://127.0.0.1:{prism_port}"
    finally:
        _stop(prism, simulator)


@pytest.fixture(scope="session")
def prism_mock_url(logs: Path) -> Iterator[str]:
    port = _free_port()
    prism = _prism(["mock", str(OPENAI_VIDEOS_SPEC)], port, logs / "mock.log")
    try:
        _wait_for_port(port, prism, "Prism")
        yield f"http://127.0.0.1:{port}"
    finally:
        _stop(prism)


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
