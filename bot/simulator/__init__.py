"""The Videos API contract served locally: a stateful server with real media and faults."""

from bot.simulator.app import OPENROUTER_KEY, STATE_KEY, make_app
from bot.simulator.clock import ManualClock
from bot.simulator.config import SimulatorConfig
from bot.simulator.server import run, serve, serve_app
from bot.simulator.state import SimulatorState

__all__ = [
    "OPENROUTER_KEY",
    "STATE_KEY",
    "ManualClock",
    "SimulatorConfig",
    "SimulatorState",
    "make_app",
    "run",
    "serve",
    "serve_app",
]
