"""Jobs beside another bot process on one PostgreSQL database: a call one process has out and
the jobs it put in line are its own; a process that dies leaves them to a survivor, which need
not restart for it.

Each process has its own pool, provider stub, tracker and leases; one clock moves them all.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import httpx
import pytest

from bot.storage import LeaseRepository, VideoRow
from bot.storage.postgres import PostgresDatabase
from bot.storage.videos import NOT_CONFIRMED
from bot.tracker.leases import Leases
from bot.tracker.service import JobEvent
from bot.videoapi.models import Upload, Video
from tests.jobs.test_service import (
    CHANNEL,
    GUILD,
    LIMIT,
    NOW,
    OWNER,
    Env,
    Poster,
    build_env,
    page,
    running,
    video_json,
)
from tests.postgres import PostgresServer
from tests.storage.helpers import Clock

TTL = 20.0


@dataclass
class Process:
    env: Env
    leases: Leases


@dataclass
class Pair:
    """Two processes on one database."""

    first: Process
    second: Process
    clock: Clock


@pytest.fixture
async def pair(postgres: PostgresServer) -> AsyncIterator[Pair]:
    url = await postgres.new_database()
    clock = Clock(NOW)
    async with await PostgresDatabase.open(url) as one, await PostgresDatabase.open(url) as two:
        processes = []
        for database, name in ((one, "first"), (two, "second")):
            leases = Leases(
                LeaseRepository(database), ttl=TTL, renew_every=0.01, holder=name, clock=clock
            )
            processes.append(Process(build_env(database, clock=clock, leases=leases), leases))
        try:
            yield Pair(processes[0], processes[1], clock)
        finally:
            for process in processes:
                await process.env.jobs.stop()
                await process.env.api.aclose()


async def eventually(check: Callable[[], Awaitable[VideoRow | None]]) -> VideoRow:
    for _ in range(500):
        if (found := await check()) is not None:
            return found
        await asyncio.sleep(0.01)
    raise AssertionError("it never happened")


async def sent(env: Env) -> VideoRow:
    """The row of the one call `env` has out."""

    async def one() -> VideoRow | None:
        rows = await env.videos.submitting()
        return rows[0] if rows else None

    return await eventually(one)


def hold_create(env: Env, answer: dict[str, object]) -> asyncio.Event:
    """The provider takes its time over `env`'s create call; it answers once the event is set."""
    gate = asyncio.Event()

    async def slow(request: httpx.Request) -> httpx.Response:
        await gate.wait()
        return httpx.Response(200, json=answer)

    env.router.post("/videos").mock(side_effect=slow)
    return gate


async def test_a_process_starting_leaves_the_call_another_one_has_out(pair: Pair) -> None:
    live, starting = pair.first.env, pair.second.env
    gate = hold_create(live, video_json("video_slow"))
    starting.router.get("/videos").respond(200, json=page())
    call = asyncio.create_task(live.jobs.start(live.request(), Poster()))
    await sent(live)
    # The call is slow, and its process lives: it renews its leases as its tracker does.
    for _ in range(6):
        pair.clock.now += TTL / 2
        await pair.first.leases.renew()
    await starting.jobs.recover()
    gate.set()
    row = await call
    # Not marked failed under the live process: the paid video is followed.
    assert (row.id, row.status, row.submitting_since) == ("video_slow", "queued", None)
    # Its events and result are the live process's (the leader, whichever it is, asks about it).
    assert live.tracker.held == {row.key}
    assert starting.calls("GET", "/videos") == []


async def test_a_survivor_recovers_the_call_of_a_process_that_died(pair: Pair) -> None:
    doomed, survivor = pair.first.env, pair.second.env
    hold_create(doomed, video_json("video_never_answered"))
    call = asyncio.create_task(doomed.jobs.start(doomed.request(), Poster()))
    asked = await sent(doomed)
    # It dies during the call: nothing answers it, nothing renews its lease.
    call.cancel()
    survivor.router.get("/videos").respond(200, json=page(video_json("video_made")))
    survivor.jobs.watch(asyncio.Queue[JobEvent]())
    pair.clock.now += TTL + 1

    async def confirmed() -> VideoRow | None:
        row = await survivor.videos.get_by_key(asked.key)
        return row if row is not None and row.submitting_since is None else None

    row = await eventually(confirmed)
    assert (row.id, row.status) == ("video_made", "queued")
    # Let go once recovered: followed by whichever tracker looks next.
    assert await pair.second.leases.claim_free() == {row.key}


async def test_a_call_nobody_answers_ends_failed_once_its_process_is_gone(pair: Pair) -> None:
    doomed, survivor = pair.first.env, pair.second.env
    hold_create(doomed, video_json("video_never_answered"))
    call = asyncio.create_task(doomed.jobs.start(doomed.request(), Poster()))
    asked = await sent(doomed)
    call.cancel()
    survivor.router.get("/videos").respond(200, json=page())
    await survivor.jobs.recover()  # a lease term had not passed: its process may still live
    assert [row.key for row in await survivor.videos.submitting()] == [asked.key]
    pair.clock.now += TTL + 1
    await survivor.jobs.recover()
    row = await survivor.videos.get_by_key(asked.key)
    assert row is not None
    assert (row.status, row.error_code) == ("failed", NOT_CONFIRMED)
    assert len(survivor.calls("GET", "/videos")) == 1


# -- the line ---------------------------------------------------------------------------------


async def slot_frees(env: Env) -> None:
    """One of OWNER's running jobs completes (seen by whichever process follows it)."""
    done = Video.model_validate(video_json("video_running_0", status="completed", progress=100))
    assert await env.videos.apply_refresh(done) is not None


async def move_line(env: Env) -> None:
    """One pass of `env`'s line, as a freed slot or its periodic look brings."""
    env.jobs.watch(asyncio.Queue[JobEvent]())
    await env.jobs.idle()


async def test_a_job_in_line_is_started_by_the_process_that_has_its_image(pair: Pair) -> None:
    queued_here, elsewhere = pair.first.env, pair.second.env
    await running(queued_here, LIMIT, tracked=False)

    async def image(size: str) -> Upload:
        return Upload("ref.png", "image/png", b"\x89PNG")

    request = queued_here.jobs.created(
        "a red kite",
        model=None,
        size=None,
        seconds=None,
        owner_id=OWNER,
        guild_id=GUILD,
        channel_id=CHANNEL,
        image=image,
    )
    waiting = await queued_here.jobs.start(request, Poster())
    assert waiting.waiting
    await slot_frees(elsewhere)
    await move_line(elsewhere)
    # The other process cannot send the image, which only the first one holds: not its to start.
    row = await elsewhere.videos.get_by_key(waiting.key)
    assert row is not None
    assert (row.waiting, row.status) == (True, "queued")
    assert elsewhere.router.calls.call_count == 0
    queued_here.router.post("/videos").respond(200, json=video_json("video_with_image"))
    await move_line(queued_here)
    row = await queued_here.videos.get_by_key(waiting.key)
    assert row is not None
    assert (row.id, row.waiting) == ("video_with_image", False)
    [sent] = queued_here.calls("POST", "/videos")
    assert sent.headers["content-type"].startswith("multipart/form-data")


async def test_the_line_keeps_its_order_across_processes(pair: Pair) -> None:
    first, second = pair.first.env, pair.second.env
    await running(first, LIMIT, tracked=False)
    earlier = await first.jobs.start(first.request("asked first"), Poster())
    later = await second.jobs.start(second.request("asked second"), Poster())
    assert (earlier.waiting, later.waiting) == (True, True)
    await slot_frees(second)
    # The one free slot is the earlier job's: the second process starts neither.
    await move_line(second)
    assert [row.key for row in await second.videos.waiting_rows()] == [earlier.key, later.key]
    assert second.delivery.refreshed == []
    first.router.post("/videos").respond(200, json=video_json("video_first"))
    await move_line(first)
    assert [row.key for row in await first.videos.waiting_rows()] == [later.key]
    assert [row.id for row in first.delivery.refreshed] == ["video_first"]
    assert second.router.calls.call_count == 0


async def test_a_survivor_starts_the_line_of_a_process_that_died(pair: Pair) -> None:
    doomed, survivor = pair.first.env, pair.second.env
    await running(doomed, LIMIT, tracked=False)
    waiting = await doomed.jobs.start(doomed.request(), Poster())
    await slot_frees(doomed)
    # Nothing renews the first process's leases any more.
    pair.clock.now += TTL + 1
    survivor.router.post("/videos").respond(200, json=video_json("video_adopted"))
    await move_line(survivor)
    [row] = survivor.delivery.refreshed
    assert (row.key, row.id) == (waiting.key, "video_adopted")
    assert survivor.tracker.held == {waiting.key}
    assert doomed.router.calls.call_count == 0
