"""A tracker on a real SQLite file, against the simulator on loopback, on one manual clock."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bot.simulator import STATE_KEY, ManualClock, SimulatorConfig, SimulatorState, make_app
from bot.simulator.server import serve_app
from bot.storage import SqliteDatabase, VideoRepository
from bot.timing.backoff import Backoff
from bot.tracker.cadence import Cadence
from bot.tracker.service import JobEvent, Tracker
from bot.videoapi.client import VideoClient

# What `api.create(prompt)` asks for: the default profile's first choices.
ASKED = {"model": "sora-2", "size": "720x1280", "seconds": "4"}


async def _no_sleep(_: float) -> None:
    return None


@dataclass
class Env:
    clock: ManualClock
    state: SimulatorState
    api: VideoClient
    videos: VideoRepository
    db_path: Path
    trackers: list[Tracker] = field(default_factory=list)

    def tracker(self, videos: VideoRepository | None = None, **options: Any) -> Tracker:
        options.setdefault("clock", self.clock)
        options.setdefault("cadence", Cadence(base=5, floor=1, ceiling=30))
        tracker = Tracker(self.api, videos or self.videos, **options)
        self.trackers.append(tracker)
        return tracker

    def set_faults(self, **faults: Any) -> None:
        self.state.config = self.state.config.model_copy(update=faults)

    async def create(self, tracker: Tracker | None = None, prompt: str = "a cat") -> str:
        video = await self.api.create(prompt)
        await self.videos.insert(
            video,
            owner_id=1,
            guild_id=10,
            channel_id=100,
            kind="create",
            prompt=prompt,
            **ASKED,
        )
        if tracker is not None:
            await tracker.track(video.id)
        return video.id


async def cycle_until(
    env: Env, tracker: Tracker, done: Callable[[], bool], *, step: float = 1.0, limit: int = 500
) -> None:
    """Advance the manual clock and run refresh cycles until `done()`."""
    for _ in range(limit):
        if done():
            return
        env.clock.advance(step)
        await tracker.refresh_due()
    raise AssertionError("the tracker did not get there")


def drain(queue: Any) -> list[JobEvent]:
    events = []
    while not queue.empty():
        events.append(queue.get_nowait())
    return events


MakeEnv = Callable[..., Awaitable[Env]]


@pytest.fixture
async def make_env(tmp_path: Path) -> AsyncIterator[MakeEnv]:
    async with AsyncExitStack() as stack:

        async def make(**config: Any) -> Env:
            clock = ManualClock()
            config.setdefault("job_seconds", 20)
            app = make_app(SimulatorConfig(clock=clock, **config))
            base_url = await stack.enter_async_context(serve_app(app))
            api = await stack.enter_async_context(
                VideoClient(base_url, None, max_retries=0, backoff=Backoff(sleep=_no_sleep))
            )
            path = tmp_path / "videobot.sqlite3"
            db = await stack.enter_async_context(await SqliteDatabase.open(path))
            env = Env(clock, app[STATE_KEY], api, VideoRepository(db, clock=clock), path)
            stack.push_async_callback(_stop_all, env)
            return env

        yield make


async def _stop_all(env: Env) -> None:
    for tracker in env.trackers:
        await tracker.stop()


@pytest.fixture
async def env(make_env: MakeEnv) -> Env:
    return await make_env()
