"""`videobot simulator` warns when it listens beyond this machine with no key."""

from __future__ import annotations

import logging

import pytest
from aiohttp import web

from bot.__main__ import main
from bot.simulator import server

WARNING = "the simulator listens on"
EVERYWHERE = "0.0.0.0"  # noqa: S104 - what the warning is about


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Where the simulator would have listened: nothing is served."""
    seen: list[tuple[str, int]] = []

    def run_app(app: web.Application, *, host: str, port: int, print: object) -> None:
        seen.append((host, port))

    monkeypatch.setattr(web, "run_app", run_app)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    return seen


@pytest.mark.parametrize("host", [EVERYWHERE, "::", "192.168.1.20", "bot.example"])
def test_a_host_beyond_this_machine_with_no_key_is_warned_about(
    served: list[tuple[str, int]], caplog: pytest.LogCaptureFixture, host: str
) -> None:
    with caplog.at_level(logging.WARNING, logger=server.__name__):
        assert main(["simulator", "--host", host, "--port", "8089"]) == 0
    assert served == [(host, 8089)]
    [warning] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert warning.getMessage().startswith(f"{WARNING} {host} with no key")
    assert "--api-key" in warning.getMessage()


@pytest.mark.parametrize(
    "args",
    [
        ["--host", "127.0.0.1"],
        ["--host", "::1"],
        ["--host", "localhost"],
        ["--host", EVERYWHERE, "--api-key", "sk-sim"],
    ],
)
def test_loopback_or_a_key_is_not_warned_about(
    served: list[tuple[str, int]], caplog: pytest.LogCaptureFixture, args: list[str]
) -> None:
    with caplog.at_level(logging.WARNING, logger=server.__name__):
        assert main(["simulator", *args]) == 0
    assert len(served) == 1
    assert WARNING not in caplog.text
