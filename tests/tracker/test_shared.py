"""Two trackers with leases on one database (two processes): one asks the provider about every
job, each publishes the events of the jobs it leases, and a survivor takes over a dead one's."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.simulator import SimulatorConfig, make_app
from bot.simulator.server import serve_app
from bot.storage import LeaseRepository, SqliteDatabase, VideoRepository
from bot.tracker.cadence import Cadence
from bot.tracker.leases import Leases
from bot.tracker.service import JobEvent, Tracker
from bot.videoapi.client import VideoClient
from tests.e2e.botenv import CountingTransport

from .conftest import ASKED

# Real time, compressed: a lease runs out 1 s after its holder stops renewing.
TTL, RENEW = 1.0, 0.2
CADENCE = Cadence(base=0.2, floor=0.05, ceiling=0.5)


@dataclass
class Process:
    tracker: Tracker
    videos: VideoRepository
    api: VideoClient
    sent: list[str]
    events: asyncio.Queue[JobEvent]

    async def start_job(self, prompt: str) -> str:
        video = await self.api.create(prompt)
        row = await self.videos.insert(
            video, owner_id=1, guild_id=10, channel_id=100, kind="create", prompt=prompt, **ASKED
        )
        await self.tracker.track(row.id)
        return row.id

    def status_requests(self) -> int:
        return sum(1 for line in self.sent if line.startswith("GET"))


@dataclass
class World:
    stack: AsyncExitStack
    base_url: str
    path: Path

    async def process(self, holder: str) -> Process:
        transport = CountingTransport()
        api = await self.stack.enter_async_context(
            VideoClient(self.base_url, None, transport=transport)
        )
        db = await self.stack.enter_async_context(await SqliteDatabase.open(self.path))
        videos = VideoRepository(db)
        leases = Leases(LeaseRepository(db), ttl=TTL, renew_every=RENEW, holder=holder)
        tracker = Tracker(api, videos, cadence=CADENCE, leases=leases)
        events = tracker.subscribe()
        await tracker.start()
        self.stack.push_async_callback(tracker.stop)
        return Process(tracker, videos, api, transport.sent, events)


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with AsyncExitStack() as stack:
        app = make_app(SimulatorConfig(job_seconds=1.0, queued_fraction=0.2))
        base_url = await stack.enter_async_context(serve_app(app))
        yield World(stack, base_url, tmp_path / "videobot.sqlite3")


async def finished(process: Process, ids: set[str], within: float = 15.0) -> dict[str, int]:
    """Wait for a finished event of each of `ids`; how many finished events each one got."""
    seen: dict[str, int] = {}
    async with asyncio.timeout(within):
        while not ids <= set(seen):
            event = await process.events.get()
            if event.job.finished:
                seen[event.job.id] = seen.get(event.job.id, 0) + 1
    return seen


def published(process: Process) -> list[JobEvent]:
    events = []
    while not process.events.empty():
        events.append(process.events.get_nowait())
    return events


async def test_one_process_asks_the_provider_and_each_publishes_its_own_jobs(
    world: World,
) -> None:
    first = await world.process("first")
    second = await world.process("second")
    assert (first.tracker.leading, second.tracker.leading) == (True, False)
    mine = {await first.start_job(f"first {n}") for n in range(2)}
    theirs = {await second.start_job(f"second {n}") for n in range(2)}

    assert set(await finished(first, mine)) == mine
    assert set(await finished(second, theirs)) == theirs
    # Each job's events went to the process that started it, and to no other.
    await asyncio.sleep(5 * RENEW)
    assert not {e.job.id for e in published(first)} & theirs
    assert not {e.job.id for e in published(second)} & mine
    # Only the leader asked the provider how the jobs were doing.
    assert first.status_requests() > 0
    assert second.status_requests() == 0


async def test_a_survivor_leads_and_publishes_a_dead_processs_jobs(world: World) -> None:
    doomed = await world.process("doomed")
    survivor = await world.process("survivor")
    assert doomed.tracker.leading
    ids = {await doomed.start_job(f"doomed {n}") for n in range(3)}
    # Dies: nothing renews, nothing is released.
    await doomed.tracker.stop()

    seen = await finished(survivor, ids)
    assert seen == dict.fromkeys(ids, 1)
    assert survivor.tracker.leading
