"""The tracker against servers that are not OpenAI's: refused listing, re-encoded ids, odd statuses.

A tracker on a real SQLite file and a VideoClient whose server is respx: each test says exactly
what the provider answers, route by route.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from bot.simulator import ManualClock
from bot.storage import Database, SqliteDatabase, VideoRepository
from bot.timing.backoff import Backoff
from bot.tracker.cadence import Cadence
from bot.tracker.service import Tracker
from bot.videoapi.client import VideoClient
from bot.videoapi.errors import RateLimitError
from bot.videoapi.models import Operation, Video
from bot.videoapi.presets import preset

from .conftest import ASKED, drain

BASE_URL = "https://gateway.test/v1"
# LiteLLM's list route without a provider named.
LIST_REFUSED = {"error": {"message": "custom_llm_provider is required", "code": "400"}}
UNKNOWN_STATUS_LOG = "a status the bot does not know"


async def _no_sleep(_: float) -> None:
    return None


def video(video_id: str, status: str = "processing", **fields: Any) -> dict[str, Any]:
    return {"id": video_id, "object": "video", "status": status, **fields}


@dataclass
class Gateway:
    router: respx.Router
    api: VideoClient
    videos: VideoRepository
    clock: ManualClock

    def tracker(self) -> Tracker:
        return Tracker(
            self.api, self.videos, clock=self.clock, cadence=Cadence(base=5, floor=1, ceiling=30)
        )

    async def job(self, video_id: str) -> str:
        """A job the provider accepted, stored as the bot stores it."""
        answer = Video.model_validate(video(video_id, "queued", created_at=int(self.clock.now)))
        await self.videos.insert(
            answer, owner_id=1, guild_id=10, channel_id=100, kind="create", prompt="a cat", **ASKED
        )
        return video_id

    def retrieve(self, video_id: str) -> respx.Route:
        return self.router.get(f"/videos/{video_id}")

    def list(self) -> respx.Route:
        return self.router.get("/videos")


MakeGateway = Callable[..., Any]


@pytest.fixture
async def make_gateway(tmp_path: Path) -> AsyncIterator[MakeGateway]:
    databases: list[Database] = []
    clients: list[VideoClient] = []

    async def make(**client_options: Any) -> Gateway:
        router = respx.Router(base_url=BASE_URL, assert_all_called=False)
        api = VideoClient(
            BASE_URL,
            None,
            max_retries=0,
            backoff=Backoff(sleep=_no_sleep),
            transport=httpx.MockTransport(router.handler),
            **client_options,
        )
        clients.append(api)
        clock = ManualClock()
        db = await SqliteDatabase.open(tmp_path / f"videobot-{len(databases)}.sqlite3")
        databases.append(db)
        return Gateway(router, api, VideoRepository(db, clock=clock), clock)

    yield make
    for client in clients:
        await client.aclose()
    for db in databases:
        await db.close()


@pytest.fixture
async def gateway(make_gateway: MakeGateway) -> Gateway:
    result: Gateway = await make_gateway()
    return result


async def eventually(condition: Callable[[], bool], within: float = 2.0) -> None:
    async with asyncio.timeout(within):
        # Polls state that the tracker's own task changes; there is no event to wait on.
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.01)


async def run_until(tracker: Tracker, condition: Callable[[], bool]) -> None:
    """Let the tracker's own loop run (it backs off there) until `condition`, then stop it."""
    await tracker.start()
    try:
        await eventually(condition)
    finally:
        await tracker.stop()


# Listing refused.


async def test_a_list_refused_with_400_is_given_up_and_the_same_cycle_retrieves(
    gateway: Gateway,
) -> None:
    listing = gateway.list().respond(400, json=LIST_REFUSED)
    ids = [await gateway.job(f"video_{n}") for n in range(3)]
    retrieves = [gateway.retrieve(video_id).respond(json=video(video_id)) for video_id in ids]
    tracker = gateway.tracker()
    for video_id in ids:
        await tracker.track(video_id)

    # The refused page, then one retrieve per due job.
    assert await tracker.refresh_due() == 1 + len(ids)

    assert listing.call_count == 1
    assert [route.call_count for route in retrieves] == [1, 1, 1]
    assert gateway.api.supports(Operation.LIST) is False
    for video_id in ids:
        row = await gateway.videos.get(video_id)
        assert row is not None
        assert row.status == "in_progress"

    # Later cycles go straight to retrieving.
    for _ in range(3):
        gateway.clock.advance(60)
        assert await tracker.refresh_due() == len(ids)
    assert listing.call_count == 1
    assert [route.call_count for route in retrieves] == [4, 4, 4]


async def test_a_refused_list_does_not_pause_the_tracker(gateway: Gateway) -> None:
    listing = gateway.list().respond(400, json=LIST_REFUSED)
    ids = [await gateway.job(f"video_{n}") for n in range(2)]
    retrieves = [
        gateway.retrieve(video_id).respond(json=video(video_id, "completed")) for video_id in ids
    ]
    tracker = gateway.tracker()
    events = tracker.subscribe()

    await run_until(tracker, lambda: all(route.called for route in retrieves))

    assert tracker.paused_until == 0.0
    assert listing.call_count == 1
    assert sorted(event.job.id for event in drain(events)) == ids
    assert tracker.tracked == frozenset()


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(httpx.Response(429, json={"error": {"message": "slow down"}}), id="429"),
        pytest.param(httpx.Response(500, text="Internal Server Error"), id="500"),
        pytest.param(httpx.Response(503, json={"error": {"message": "overloaded"}}), id="503"),
    ],
)
async def test_provider_trouble_on_list_still_backs_off(
    gateway: Gateway, answer: httpx.Response
) -> None:
    listing = gateway.list().mock(return_value=answer)
    # Two jobs: a page is worth listing (a lone job is retrieved).
    ids = [await gateway.job(f"video_{n}") for n in range(2)]
    retrieves = [gateway.retrieve(video_id).respond(json=video(video_id)) for video_id in ids]
    tracker = gateway.tracker()

    await run_until(tracker, lambda: tracker.paused_until > gateway.clock.now)

    assert listing.call_count == 1
    assert [route.call_count for route in retrieves] == [0, 0]
    # Not a refusal of the route: listing is tried again after the pause.
    assert gateway.api.supports(Operation.LIST) is not False
    assert tracker.tracked == frozenset(ids)


# Answers with another id.


async def test_a_retrieve_answer_with_another_id_is_applied_to_the_job_asked_about(
    make_gateway: MakeGateway,
) -> None:
    gateway: Gateway = await make_gateway(profile=preset("litellm"))
    asked = await gateway.job("video_bGl0ZWxsbTpjdXN0b21fbGxtX3Byb3ZpZGVyOm9wZW5haQ==")
    retrieve = gateway.retrieve(asked).respond(
        json=video("video_c29tZXRoaW5nIGVsc2U=", "succeeded", completed_at=1_700_000_100)
    )
    tracker = gateway.tracker()
    events = tracker.subscribe()
    await tracker.track(asked)

    await tracker.refresh_due()

    assert retrieve.call_count == 1
    [event] = drain(events)
    assert (event.job.id, event.job.status, event.job.progress) == (asked, "completed", 100)
    row = await gateway.videos.get(asked)
    assert row is not None
    assert (row.status, row.completed_at) == ("completed", 1_700_000_100)
    assert await gateway.videos.get("video_c29tZXRoaW5nIGVsc2U=") is None
    assert tracker.tracked == frozenset()


# Unknown statuses.


async def test_an_unknown_status_is_logged_once_per_job_and_the_job_keeps_running(
    make_gateway: MakeGateway, caplog: pytest.LogCaptureFixture
) -> None:
    gateway: Gateway = await make_gateway(profile=preset("litellm"))
    ids = [await gateway.job(f"video_{n}") for n in range(2)]
    for video_id in ids:
        gateway.retrieve(video_id).respond(json=video(video_id, "warming_up"))
    tracker = gateway.tracker()
    events = tracker.subscribe()
    for video_id in ids:
        await tracker.track(video_id)

    with caplog.at_level(logging.WARNING, logger="bot.tracker.service"):
        for _ in range(4):
            assert await tracker.refresh_due() == len(ids)
            gateway.clock.advance(60)

    warnings = [r.getMessage() for r in caplog.records if UNKNOWN_STATUS_LOG in r.getMessage()]
    assert len(warnings) == len(ids)
    for video_id in ids:
        [line] = [message for message in warnings if video_id in message]
        assert "'warming_up'" in line
        row = await gateway.videos.get(video_id)
        assert row is not None
        assert row.status == "in_progress"
        assert not row.finished
    assert tracker.tracked == frozenset(ids)
    assert all(not event.job.finished for event in drain(events))


# Trouble that only some jobs meet.


async def test_a_500_for_some_retrieves_only_retries_those_jobs_without_pausing(
    make_gateway: MakeGateway,
) -> None:
    gateway: Gateway = await make_gateway(profile=preset("litellm"))
    bad = await gateway.job("video_unroutable")
    good = [await gateway.job(f"video_{n}") for n in range(2)]
    bad_route = gateway.retrieve(bad).respond(500, text="Internal Server Error")
    good_routes = [gateway.retrieve(video_id).respond(json=video(video_id)) for video_id in good]
    tracker = gateway.tracker()
    for video_id in (bad, *good):
        await tracker.track(video_id)

    await tracker.refresh_due()  # raising here is what pauses every job

    assert (bad_route.call_count, [route.call_count for route in good_routes]) == (1, [1, 1])
    for video_id in good:
        row = await gateway.videos.get(video_id)
        assert row is not None
        assert row.status == "in_progress"
    # The failing job waits its own back-off (cadence base 5 s, doubled), then is asked again.
    await tracker.refresh_due()
    assert bad_route.call_count == 1
    gateway.clock.advance(11)
    await tracker.refresh_due()
    assert bad_route.call_count == 2
    assert bad in tracker.tracked


async def test_a_500_for_some_retrieves_does_not_pause_the_loop(
    make_gateway: MakeGateway,
) -> None:
    gateway: Gateway = await make_gateway(profile=preset("litellm"))
    bad = await gateway.job("video_unroutable")
    good = await gateway.job("video_1")
    bad_route = gateway.retrieve(bad).respond(500, text="Internal Server Error")
    good_route = gateway.retrieve(good).respond(json=video(good))
    tracker = gateway.tracker()

    await run_until(tracker, lambda: bad_route.called and good_route.called)

    assert tracker.paused_until == 0.0


async def test_a_500_for_every_retrieve_backs_each_job_off_not_the_tracker(
    make_gateway: MakeGateway,
) -> None:
    # Each 5xx is its job's (issue 21: one Gemini job LiteLLM cannot validate 500s on every
    # look): the jobs wait their own back-off, and a job added meanwhile is asked at once.
    gateway: Gateway = await make_gateway(profile=preset("litellm"))
    ids = [await gateway.job(f"video_{n}") for n in range(2)]
    routes = [gateway.retrieve(video_id).respond(500, text="boom") for video_id in ids]
    tracker = gateway.tracker()
    for video_id in ids:
        await tracker.track(video_id)

    await tracker.refresh_due()
    assert [route.call_count for route in routes] == [1, 1]
    assert tracker.paused_until == 0.0
    assert tracker.tracked == frozenset(ids)

    fresh = await gateway.job("video_fresh")
    fresh_route = gateway.retrieve(fresh).respond(json=video(fresh))
    await tracker.track(fresh)
    await tracker.refresh_due()
    assert (fresh_route.call_count, [route.call_count for route in routes]) == (1, [1, 1])


async def test_a_429_on_some_retrieves_still_pauses_the_tracker(
    make_gateway: MakeGateway,
) -> None:
    # A rate limit is the key's, never one job's, even when other requests got through.
    gateway: Gateway = await make_gateway(profile=preset("litellm"))
    limited = await gateway.job("video_limited")
    answered = await gateway.job("video_1")
    gateway.retrieve(limited).respond(429, json={"error": {"message": "slow down"}})
    gateway.retrieve(answered).respond(json=video(answered))
    tracker = gateway.tracker()
    for video_id in (limited, answered):
        await tracker.track(video_id)

    with pytest.raises(RateLimitError):
        await tracker.refresh_due()
    # What was answered is still stored.
    row = await gateway.videos.get(answered)
    assert row is not None
    assert row.status == "in_progress"
