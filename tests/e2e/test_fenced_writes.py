"""Exactly once across processes on one PostgreSQL database, also when a process stalls: a process
stopped dead past its lease (as SIGSTOP does), one whose database goes away between posting a
result and recording it, and one killed right after posting, never show a job's result twice nor
leave its card on a stale state.

What users see is counted per job: the messages showing its MP4, the uploads of it, and the
card's state after the last write. Where each process is when it stops is made certain by
holding a request: the simulator holds the result's download, the fake Discord holds the answer
to the result's upload (which has landed).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field

import pytest
from aiohttp import web

from bot.simulator import SimulatorConfig, make_app
from bot.simulator.server import serve_app
from tests.postgres import Cluster, PostgresServer, postgres_cluster

from .botenv import BotEnv, StartBot
from .fake_discord import JSON, FakeDiscord, RecordedRequest
from .harness import Harness
from .stoppable import StartStoppable, StoppableBot, start_stoppable
from .views import (
    attachment_names,
    delivered,
    edits_of,
    has_card,
    has_mp4,
    row_when,
    status,
    uploads,
    video_id,
    video_key,
)

__all__ = ["start_stoppable"]

DONE = "✅ Done"
# Lease times compressed as in test_shared_database.py; failed deliveries retried quickly.
LEASES = {
    "lease_seconds": 4.0,
    "lease_renew_seconds": 1.0,
    "delivery_retry_seconds": 0.3,
    "delivery_retry_max_seconds": 1.0,
}
# Long enough to see a job taken over (a lease term and a renewal) and delivered.
TAKEOVER = 30.0


@dataclass
class Seen:
    """What users saw of one job."""

    showing_mp4: int
    uploads: int
    card_status: str
    card_has_mp4: bool
    last_write_carried_mp4: bool


def seen(fake: FakeDiscord, key: int, card_id: int) -> Seen:
    name = f"video-{key}.mp4"
    showing = [m for m in fake.messages.values() if name in attachment_names(m)]
    carried = [r for r in uploads(fake) if any(p.filename == name for p in r.files)]
    card = fake.messages[card_id]
    writes = edits_of(fake, card_id)
    last = bool(writes) and any(p.filename == name for p in writes[-1].files)
    return Seen(len(showing), len(carried), status(card), has_mp4(card), last)


ONCE = (1, 1, DONE, True, True)


def as_tuple(what: Seen) -> tuple[int, int, str, bool, bool]:
    return (
        what.showing_mp4,
        what.uploads,
        what.card_status,
        what.card_has_mp4,
        what.last_write_carried_mp4,
    )


async def start_job(h: Harness) -> JSON:
    rec = await h.slash("video", {"prompt": "a lighthouse in fog"}, user=h.world.alice)
    return await h.original(rec, lambda m: has_card(m) and status(m) == "⏳ Queued", within=15)


def download(request: web.Request) -> bool:
    return request.path.endswith("/content")


def create(request: web.Request) -> bool:
    return request.method == "POST" and request.path.endswith("/videos")


@dataclass
class HeldRequest:
    """The simulator carries out the first request `where` picks and holds its answer until
    released: its process is provably between sending it and going on (a result's download
    before its upload, a create that made the job before its card)."""

    where: Callable[[web.Request], bool]
    reached: asyncio.Event = field(default_factory=asyncio.Event)
    go_on: asyncio.Event = field(default_factory=asyncio.Event)

    @web.middleware
    async def middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if not self.where(request) or self.reached.is_set():
            return await handler(request)
        response = await handler(request)
        self.reached.set()
        await self.go_on.wait()
        return response


def landed_upload(request: RecordedRequest) -> bool:
    return bool(request.files) and 200 <= request.status < 300


async def dropped(bot: StoppableBot, key: int) -> None:
    """Wait until the resumed process has found its lease lost and dropped the job."""
    parts = bot.env.bot

    def gone() -> bool:
        assert parts.leases is not None
        return key not in parts.delivery.pending and parts.leases.fence(key) is None

    await bot.until(gone, 15, f"the resumed process to drop job {key}")


class _MainThreadErrors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == threading.main_thread().ident:
            self.records.append(record)


@pytest.fixture
def main_thread_clean() -> Iterator[None]:
    """Fails the test if anything but the stopped bot's thread logged an error: a stopped bot
    reports, once resumed, the transaction the server ended while it was stopped, and the
    harnesses (whose handlers see every thread) are told to allow that."""
    handler = _MainThreadErrors()
    logging.getLogger().addHandler(handler)
    yield
    logging.getLogger().removeHandler(handler)
    assert not handler.records, [r.getMessage() for r in handler.records]


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    """A PostgreSQL server of this test's own, which it stops and starts again."""
    with postgres_cluster() as made:
        yield made


@pytest.fixture
async def sim_served() -> AsyncIterator[Callable[[web.Application], Awaitable[str]]]:
    """`await serve(app)`: the simulator app served on loopback until the test ends."""
    async with AsyncExitStack() as stack:

        async def serve(app: web.Application) -> str:
            return await stack.enter_async_context(serve_app(app))

        yield serve


async def test_a_process_stopped_past_its_lease_with_an_edit_pending_leaves_the_card_alone(
    main_thread_clean: None,
    postgres: PostgresServer,
    sim_served: Callable[[web.Application], Awaitable[str]],
    start_stoppable: StartStoppable,
    start_bot: StartBot,
) -> None:
    url = await postgres.new_database()
    api_url = await sim_served(make_app(SimulatorConfig(job_seconds=10.0)))
    # Its progress edits wait 30 s: any progress it learns is an edit pending.
    paused = await start_stoppable(
        api_url=api_url, database_url=url, settings=LEASES, edit_interval=30.0
    )
    other = await start_bot(api_url=api_url, database_url=url, settings=LEASES)
    # A transaction it had open when stopped is ended by the server (its locks would hold the
    # other process up): resumed, it reports the failure of that transaction.
    paused.env.harness.allow_errors()
    other.harness.allow_errors()  # the main thread's own are failed by main_thread_clean
    fake = other.harness.fake
    card = await start_job(paused.env.harness)
    job, key, card_id = video_id(card), video_key(card), int(card["id"])
    await row_when(other.bot.videos, job, lambda r: r.progress > 0, within=15)
    await paused.until(lambda: key in paused.env.bot.delivery.pending, 5, "an edit pending")

    await paused.stop_dead()
    # The other process takes the job over once the lease ran out, and delivers it.
    await row_when(other.bot.videos, job, delivered, within=TAKEOVER)
    await other.bot.delivery.idle()
    assert as_tuple(seen(fake, key, card_id)) == ONCE
    writes = len(fake.requests)
    paused.resume()

    await dropped(paused, key)
    await other.bot.delivery.idle()
    assert as_tuple(seen(fake, key, card_id)) == ONCE
    assert not [r for r in fake.requests[writes:] if r.method == "PATCH"]


async def test_a_process_stopped_between_download_and_upload_posts_nothing(
    main_thread_clean: None,
    postgres: PostgresServer,
    sim_served: Callable[[web.Application], Awaitable[str]],
    start_stoppable: StartStoppable,
    start_bot: StartBot,
) -> None:
    url = await postgres.new_database()
    sim_app = make_app(SimulatorConfig(job_seconds=2.0))
    held = HeldRequest(download)
    sim_app.middlewares.append(held.middleware)
    api_url = await sim_served(sim_app)
    paused = await start_stoppable(api_url=api_url, database_url=url, settings=LEASES)
    other = await start_bot(api_url=api_url, database_url=url, settings=LEASES)
    # A transaction it had open when stopped is ended by the server (its locks would hold the
    # other process up): resumed, it reports the failure of that transaction.
    paused.env.harness.allow_errors()
    other.harness.allow_errors()  # the main thread's own are failed by main_thread_clean
    fake = other.harness.fake
    card = await start_job(paused.env.harness)
    job, key, card_id = video_id(card), video_key(card), int(card["id"])
    await asyncio.wait_for(held.reached.wait(), 15)

    # Stopped with its file on the way: when it resumes it has it, and uploads next.
    await paused.stop_dead()
    held.go_on.set()
    await row_when(other.bot.videos, job, delivered, within=TAKEOVER)
    await other.bot.delivery.idle()
    assert as_tuple(seen(fake, key, card_id)) == ONCE
    paused.resume()

    await dropped(paused, key)
    assert as_tuple(seen(fake, key, card_id)) == ONCE


async def test_a_result_posted_while_the_database_went_away_is_recorded_not_posted_again(
    cluster: Cluster,
    sim_served: Callable[[web.Application], Awaitable[str]],
    start_stoppable: StartStoppable,
    start_bot: StartBot,
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = await cluster.server.new_database()
    api_url = await sim_served(make_app(SimulatorConfig(job_seconds=2.0)))
    poster = await start_stoppable(api_url=api_url, database_url=url, settings=LEASES)
    other = await start_bot(api_url=api_url, database_url=url, settings=LEASES)
    # The database going away makes every part of both processes complain; none may die of it.
    poster.env.harness.allow_errors()
    other.harness.allow_errors()
    fake = other.harness.fake
    upload = fake.hold_response(landed_upload)
    card = await start_job(poster.env.harness)
    job, key, card_id = video_id(card), video_key(card), int(card["id"])
    await fake.wait_for(lambda: upload.request is not None, 15)

    caplog.set_level(logging.WARNING, logger="bot.delivery.service")
    cluster.stop()
    upload.release()

    def recording_failed() -> bool:
        return any("recording the delivery of" in r.getMessage() for r in caplog.records)

    await fake.wait_for(recording_failed, 15, what="the recording to fail")
    # The database comes back while the poster is stopped: the other process, taking the job
    # over, finds the result on the card.
    await poster.stop_dead()
    await asyncio.to_thread(cluster.start)
    await row_when(other.bot.videos, job, delivered, within=TAKEOVER)
    await other.bot.delivery.idle()
    assert as_tuple(seen(fake, key, card_id)) == ONCE
    poster.resume()

    await dropped(poster, key)
    assert as_tuple(seen(fake, key, card_id)) == ONCE
    # Its card's task retried and lives no more: nothing died unretrieved.
    assert not [r for r in caplog.records if "never retrieved" in r.getMessage()]


async def kill(env: BotEnv) -> None:
    """What a process that dies leaves behind: nothing renews or delivers, nothing is released."""
    await env.bot.tracker.stop()
    await env.bot.delivery.stop()


async def test_a_result_posted_by_a_process_killed_before_recording_it_is_not_posted_again(
    postgres: PostgresServer,
    sim_served: Callable[[web.Application], Awaitable[str]],
    start_bot: StartBot,
) -> None:
    url = await postgres.new_database()
    api_url = await sim_served(make_app(SimulatorConfig(job_seconds=2.0)))
    doomed = await start_bot(api_url=api_url, database_url=url, settings=LEASES)
    other = await start_bot(api_url=api_url, database_url=url, settings=LEASES)
    fake = other.harness.fake
    upload = fake.hold_response(landed_upload)
    card = await start_job(doomed.harness)
    job, key, card_id = video_id(card), video_key(card), int(card["id"])
    await fake.wait_for(lambda: upload.request is not None, 15)

    await kill(doomed)
    upload.release()
    await row_when(other.bot.videos, job, delivered, within=TAKEOVER)
    await other.bot.delivery.idle()
    assert as_tuple(seen(fake, key, card_id)) == ONCE


async def test_the_deferred_reply_of_a_process_that_died_during_its_create_shows_the_card(
    postgres: PostgresServer,
    sim_served: Callable[[web.Application], Awaitable[str]],
    start_stoppable: StartStoppable,
    start_bot: StartBot,
) -> None:
    url = await postgres.new_database()
    sim_app = make_app(SimulatorConfig(job_seconds=2.0))
    held = HeldRequest(create)
    sim_app.middlewares.append(held.middleware)
    api_url = await sim_served(sim_app)
    dead = await start_stoppable(api_url=api_url, database_url=url, settings=LEASES)
    other = await start_bot(api_url=api_url, database_url=url, settings=LEASES)
    # Resumed only when the test ends, its database and Discord gone: whatever it says is moot.
    dead.env.harness.allow_errors()
    h = dead.env.harness
    rec = await h.slash("video", {"prompt": "a lighthouse in fog"}, user=h.world.alice)
    await asyncio.wait_for(held.reached.wait(), 15)
    await dead.stop_dead()  # the provider made the job; its process never hears of it
    try:
        # The other process finds the job at the provider, follows it, and shows it where its
        # owner is looking: the reply that said "thinking…".
        card = await h.original(rec, lambda m: has_card(m) and has_mp4(m), within=TAKEOVER)
        await row_when(other.bot.videos, video_id(card), delivered, within=10)
        await other.bot.delivery.idle()
        assert as_tuple(seen(h.fake, video_key(card), int(card["id"]))) == ONCE
        assert len(h.messages()) == 1  # no second card posted in the channel
    finally:
        held.go_on.set()  # for the simulator to close
