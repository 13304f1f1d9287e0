"""Simulators on loopback with a manual clock, and a spec check of every response they give.

Every test's HTTP client validates each response against the contract, so the whole suite, not
only test_spec_responses.py, proves the simulator answers in the spec's shapes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

import httpx
import pytest
import yaml

from bot.simulator import OPENROUTER_KEY, STATE_KEY, ManualClock, SimulatorConfig, make_app
from bot.simulator.server import serve_app
from tests.specs import OPENAI_VIDEOS_SPEC

from .harness import Sim, SpecChecker, StartSim
from .openrouter import KEY, OpenRouterSim, StartOpenRouter


@pytest.fixture(scope="session")
def spec_checker() -> SpecChecker:
    return SpecChecker(yaml.safe_load(OPENAI_VIDEOS_SPEC.read_text()))


@pytest.fixture
async def start(spec_checker: SpecChecker) -> AsyncIterator[StartSim]:
    """Start a simulator with config overrides; a manual clock and job_seconds=10 by default."""

    async def check(response: httpx.Response) -> None:
        await response.aread()
        spec_checker.check(response)

    async with AsyncExitStack() as stack:

        async def _start(*, headers: dict[str, str] | None = None, **overrides: Any) -> Sim:
            clock = overrides.setdefault("clock", ManualClock())
            overrides.setdefault("job_seconds", 10)
            app = make_app(SimulatorConfig(**overrides))
            base_url = await stack.enter_async_context(serve_app(app))
            client = await stack.enter_async_context(
                httpx.AsyncClient(
                    base_url=f"{base_url}/", headers=headers, event_hooks={"response": [check]}
                )
            )
            return Sim(client, app[STATE_KEY], clock, base_url)

        yield _start


@pytest.fixture
async def sim(start: StartSim) -> Sim:
    return await start()


@pytest.fixture
async def start_openrouter() -> AsyncIterator[StartOpenRouter]:
    """Start the openrouter dialect with config overrides; its key is `KEY`."""
    async with AsyncExitStack() as stack:

        async def _start(**overrides: Any) -> OpenRouterSim:
            clock = ManualClock()
            config = SimulatorConfig(
                dialect="openrouter", api_key=KEY, clock=clock, job_seconds=10, **overrides
            )
            app = make_app(config)
            base_url = await stack.enter_async_context(serve_app(app))
            http = await stack.enter_async_context(
                httpx.AsyncClient(
                    base_url=f"{base_url}/", headers={"Authorization": f"Bearer {KEY}"}
                )
            )
            return OpenRouterSim(http, app[STATE_KEY], app[OPENROUTER_KEY], clock, base_url)

        yield _start


@pytest.fixture
async def orsim(start_openrouter: StartOpenRouter) -> OpenRouterSim:
    return await start_openrouter()
