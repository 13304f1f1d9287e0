"""The simulator in its openrouter dialect, on loopback with a manual clock and a key."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

from bot.simulator import ManualClock
from bot.simulator.openrouter import OpenRouterHandlers
from bot.simulator.state import SimulatorState

KEY = "sk-or-test"


@dataclass
class OpenRouterSim:
    http: httpx.AsyncClient
    state: SimulatorState
    handlers: OpenRouterHandlers
    clock: ManualClock
    base_url: str


StartOpenRouter = Callable[..., Awaitable[OpenRouterSim]]
