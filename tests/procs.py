"""Servers that tests run as child processes on loopback: ports, start-up, shutdown."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

LOG_TAIL_BYTES = 4000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _tail(log: Path | None) -> str:
    if log is None or not log.exists():
        return ""
    text = log.read_bytes()[-LOG_TAIL_BYTES:].decode(errors="replace")
    return f"; the end of {log}:\n{text}"


def wait_for_port(
    port: int,
    process: subprocess.Popen[bytes],
    name: str,
    timeout: float,
    log: Path | None = None,
) -> None:
    """Return once `port` accepts connections; fail with the log's end if it never does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"{name} exited with {process.returncode} before listening{_tail(log)}"
            )
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{name} did not listen on {port} within {timeout:.0f} s{_tail(log)}")


def start_simulator(
    port: int, log: Path, job_seconds: float, *, dialect: str = "openai", seed: int = 0
) -> subprocess.Popen[bytes]:
    """`videobot simulator` as a user runs it, with jobs that finish in `job_seconds`,
    imitating `dialect` (with that preset's models and prices where there is one)."""
    env = {**os.environ, "SIMULATOR_JOB_SECONDS": str(job_seconds), "OPENAI_API_KEY": ""}
    env.pop("PROVIDERS_FILE", None)
    if dialect != "openai":
        env["PROVIDER"] = dialect
    command = ["--port", str(port), "--dialect", dialect, "--seed", str(seed)]
    return subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "bot", "simulator", *command],
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        env=env,
    )


def stop(*processes: subprocess.Popen[bytes]) -> None:
    for process in processes:
        process.terminate()
        process.wait(timeout=10)
