"""The real bot on the fake Discord, with the simulator as its API and a real SQLite file."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import pytest
from pydantic import SecretStr

from bot.app import VideoBot
from bot.config import Settings
from bot.contests.clock import Clock
from bot.simulator import STATE_KEY, SimulatorConfig, SimulatorState, make_app
from bot.simulator.server import serve_app
from bot.storage import open_database
from bot.tracker.cadence import Cadence
from bot.videoapi.backend import VideoBackend
from bot.videoapi.providers import Providers
from bot.wiring import Tuning, build_bot, provider_client, spec_client

from .harness import Harness

StartHarness = Callable[[Any], Awaitable[Harness]]

# Short enough for quick tests, long enough to see progress edits between.
EDIT_INTERVAL = 0.3
# Tests start the next cycle at once instead of waiting out the cadence.
CADENCE = Cadence(base=0.2, floor=0.1, ceiling=0.5)
DEFAULT = Tuning()


class CountingTransport(httpx.AsyncHTTPTransport):
    """Every request the bot sends to the video API, as "METHOD /path"."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(f"{request.method} {request.url.path}")
        return await super().handle_async_request(request)


@dataclass
class BotEnv:
    harness: Harness
    bot: VideoBot
    # None when the bot talks to a server of another process (a gateway in front of one).
    sim: SimulatorState | None
    db_path: Path
    api_requests: list[str] = field(default_factory=list)
    # With a providers file: what each provider was sent, by its name.
    provider_requests: dict[str, list[str]] = field(default_factory=dict)

    def set_faults(self, **faults: Any) -> None:
        assert self.sim is not None
        self.sim.config = self.sim.config.model_copy(update=faults)


StartBot = Callable[..., Awaitable[BotEnv]]


@pytest.fixture
async def start_bot(start_harness: StartHarness, tmp_path: Path) -> AsyncIterator[StartBot]:
    """`await start_bot(job_seconds=1.0, ...)`: a bot; call again for a restart on the same DB.

    `edit_interval` (seconds between two edits of a card) may be lowered where coalescing is not
    what a test is about, as may `cadence` (how often jobs are looked at) and `reconcile_wait`;
    `contest_clock` is the time contest deadlines are read from.

    Each start gets its own simulator unless `sim_app` is passed to share one across restarts.
    `database_url` puts the bot on that PostgreSQL database instead of the test's SQLite file.
    """
    async with AsyncExitStack() as stack:

        async def start(
            *,
            sim_app: Any = None,
            settings: dict[str, Any] | None = None,
            edit_interval: float = EDIT_INTERVAL,
            api_url: str | None = None,
            api_key: str | None = None,
            database_url: str | None = None,
            cadence: Cadence = CADENCE,
            reconcile_wait: float = DEFAULT.reconcile_wait,
            contest_clock: Clock = DEFAULT.contest_clock,
            **sim: Any,
        ) -> BotEnv:
            config = Settings(
                _env_file=None,  # type: ignore[call-arg]
                discord_token="fake",
                poll_interval=0.2,
                # As `videobot run` has it: the bot's parts see the database it runs on.
                database_url=database_url,
                **(settings or {}),
            )
            counted: dict[str, list[str]] = {}
            api: VideoBackend | Providers
            counting = CountingTransport()
            if config.providers is not None:
                # The providers file's servers, each its own process: no simulator here.
                backends: dict[str, VideoBackend] = {}
                for spec in config.providers.specs:
                    each = CountingTransport()
                    counted[spec.name] = each.sent
                    backends[spec.name] = await stack.enter_async_context(
                        spec_client(config, spec, transport=each)
                    )
                api = Providers(backends, equivalents=config.providers.equivalents)
            else:
                if api_url is None:
                    if sim_app is None:
                        sim.setdefault("job_seconds", 1.0)
                        sim_app = make_app(SimulatorConfig(**sim))
                    api_url = await stack.enter_async_context(serve_app(sim_app))
                key = SecretStr(api_key) if api_key is not None else None
                api = await stack.enter_async_context(
                    provider_client(config, api_url, key, transport=counting)
                )
            db_path = tmp_path / "videobot.sqlite3"
            db = await stack.enter_async_context(await open_database(database_url, db_path))
            session = await stack.enter_async_context(aiohttp.ClientSession())
            tuning = replace(
                DEFAULT,
                edit_interval=edit_interval,
                cadence=cadence,
                reconcile_wait=reconcile_wait,
                contest_clock=contest_clock,
            )
            bot = build_bot(config, db, api, session, tuning)
            harness = await start_harness(bot)
            # Unwound first: the bot and its in-flight commands stop before the DB and API close.
            stack.push_async_callback(harness.close)
            state = sim_app[STATE_KEY] if sim_app is not None else None
            return BotEnv(harness, bot, state, db_path, counting.sent, counted)

        yield start
