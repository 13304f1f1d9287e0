"""Two trackers with leases on the real PostgreSQL server: a follower publishes its jobs' changes
when the leader's notice comes, also after its listening connection dropped, not by polling.

The follower's own reads of changes are an hour apart: whatever it publishes, a notice (or its
listener's reconnect) made it read.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass

import asyncpg
import pytest

from bot.simulator import SimulatorConfig, make_app
from bot.simulator.server import serve_app
from bot.storage import LeaseRepository, VideoRepository
from bot.storage.notices import APPLICATION_NAME, ChangeFeed
from bot.storage.postgres import PostgresDatabase
from bot.timing.backoff import Backoff
from bot.tracker.cadence import Cadence
from bot.tracker.leases import Leases
from bot.tracker.service import JobEvent, Tracker
from bot.videoapi.client import VideoClient
from tests.postgres import PostgresServer

from .conftest import ASKED

WITHIN = 15.0
TTL = 60.0  # no lease runs out during a test
HOUR = 3600.0
LEADER_CADENCE = Cadence(base=0.2, floor=0.05, ceiling=0.5)
# The follower reads changes on its own once an hour: only a notice brings a read sooner (at
# most one a second: the feed's spacing).
FOLLOWER_CADENCE = Cadence(base=HOUR, floor=HOUR, ceiling=HOUR)


@dataclass
class Process:
    tracker: Tracker
    events: asyncio.Queue[JobEvent]


@dataclass
class World:
    stack: AsyncExitStack
    url: str
    api: VideoClient
    db: PostgresDatabase

    async def tracker(self, holder: str, cadence: Cadence) -> Process:
        leases = Leases(LeaseRepository(self.db), ttl=TTL, renew_every=0.2, holder=holder)
        # Reconnects at once: the test is about coming back, not about how long it waits.
        feed = ChangeFeed(self.url, self.db, holder, backoff=Backoff(base_delay=0.01))
        tracker = Tracker(
            self.api, VideoRepository(self.db), cadence=cadence, leases=leases, changes=feed
        )
        events = tracker.subscribe()
        await tracker.start()
        self.stack.push_async_callback(tracker.stop)
        return Process(tracker, events)

    async def start_job(self, tracker: Tracker, prompt: str) -> str:
        video = await self.api.create(prompt)
        row = await VideoRepository(self.db).insert(
            video, owner_id=1, guild_id=10, channel_id=100, kind="create", prompt=prompt, **ASKED
        )
        await tracker.track(row.id)
        return row.id


@pytest.fixture
async def world(postgres: PostgresServer) -> AsyncIterator[World]:
    async with AsyncExitStack() as stack:
        app = make_app(SimulatorConfig(job_seconds=1.0))
        base_url = await stack.enter_async_context(serve_app(app))
        api = await stack.enter_async_context(VideoClient(base_url, None))
        url = await postgres.new_database()
        db = await stack.enter_async_context(await PostgresDatabase.open(url))
        yield World(stack, url, api, db)


async def finished(events: asyncio.Queue[JobEvent], video_id: str) -> JobEvent:
    async with asyncio.timeout(WITHIN):
        while True:
            event = await events.get()
            if event.job.id == video_id and event.job.finished:
                return event


async def test_a_follower_publishes_its_job_when_the_leaders_notice_comes(world: World) -> None:
    leader = await world.tracker("leader", LEADER_CADENCE)
    follower = await world.tracker("follower", FOLLOWER_CADENCE)
    assert (leader.tracker.leading, follower.tracker.leading) == (True, False)

    video_id = await world.start_job(follower.tracker, "a cat")

    event = await finished(follower.events, video_id)
    assert event.job.status == "completed"


async def test_a_follower_whose_listener_dropped_hears_the_leader_again(world: World) -> None:
    await world.tracker("leader", LEADER_CADENCE)
    follower = await world.tracker("follower", FOLLOWER_CADENCE)
    before = await world.start_job(follower.tracker, "before the drop")
    await finished(follower.events, before)  # listening: the notice came

    connection = await asyncpg.connect(world.url)
    try:
        dropped = await connection.fetchval(
            "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE application_name = $1 AND datname = current_database()",
            APPLICATION_NAME,
        )
    finally:
        await connection.close()
    assert dropped == 2  # the leader's listener and the follower's

    after = await world.start_job(follower.tracker, "after the drop")
    event = await finished(follower.events, after)
    assert event.job.status == "completed"
