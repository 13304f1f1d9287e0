"""The real bot on the fake Discord, with the simulator as its API and a real SQLite file."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.app import VideoBot
from bot.config import Settings
from bot.simulator import STATE_KEY, SimulatorConfig, SimulatorState, make_app
from bot.simulator.server import serve_app
from bot.storage import Database
from bot.videoapi.client import VideoClient

from .harness import Harness

StartHarness = Callable[[Any], Awaitable[Harness]]

# Short enough for quick tests, long enough to see progress edits between.
EDIT_INTERVAL = 0.3


@dataclass
class BotEnv:
    harness: Harness
    bot: VideoBot
    sim: SimulatorState
    db_path: Path

    def set_faults(self, **faults: Any) -> None:
        self.sim.config = self.sim.config.model_copy(update=faults)


StartBot = Callable[..., Awaitable[BotEnv]]


@pytest.fixture
async def start_bot(start_harness: StartHarness, tmp_path: Path) -> AsyncIterator[StartBot]:
    """`await start_bot(job_seconds=1.0, ...)`: a bot; call again for a restart on the same DB.

    `edit_interval` (seconds between two edits of a card) may be lowered where coalescing is not
    what a test is about.

    Each start gets its own simulator unless `sim_app` is passed to share one across restarts.
    """
    async with AsyncExitStack() as stack:

        async def start(
            *,
            sim_app: Any = None,
            settings: dict[str, Any] | None = None,
            edit_interval: float = EDIT_INTERVAL,
            **sim: Any,
        ) -> BotEnv:
            if sim_app is None:
                sim.setdefault("job_seconds", 1.0)
                sim_app = make_app(SimulatorConfig(**sim))
            base_url = await stack.enter_async_context(serve_app(sim_app))
            api = await stack.enter_async_context(VideoClient(base_url, None))
            db_path = tmp_path / "videobot.sqlite3"
            db = await stack.enter_async_context(await Database.open(db_path))
            config = Settings(
                _env_file=None,  # type: ignore[call-arg]
                discord_token="fake",
                poll_interval=0.2,
                **(settings or {}),
            )
            bot = VideoBot(settings=config, db=db, api=api, edit_interval=edit_interval)
            # Tests start the next cycle at once instead of waiting out the cadence.
            bot.tracker._cadence = type(bot.tracker._cadence)(base=0.2, floor=0.1, ceiling=0.5)
            harness = await start_harness(bot)
            # Unwound first: the bot and its in-flight commands stop before the DB and API close.
            stack.push_async_callback(harness.close)
            return BotEnv(harness, bot, sim_app[STATE_KEY], db_path)

        yield start
