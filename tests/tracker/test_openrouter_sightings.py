"""With OpenRouter's webhooks a job's end is announced: the tracker takes the verified event as
the job's state, sends no status request for it, and keeps only a slow safety look."""

from __future__ import annotations

import asyncio

from bot.tracker.cadence import Cadence
from bot.videoapi.models import Video
from bot.videoapi.openrouter.client import as_video
from bot.videoapi.openrouter.webhooks import EventData

from .conftest import Env, drain

SAFETY_LOOK = 120.0


def announced(video_id: str) -> Video:
    """The Video the receiver hands over for OpenRouter's `video.generation.completed`."""
    data = EventData(id=video_id, status="completed", usage={"cost": 0.8}, unsigned_urls=["u"])
    return as_video(data.job())


async def test_openrouter_event_is_the_jobs_state_without_a_status_request(env: Env) -> None:
    tracker = env.tracker(
        announced=True, cadence=Cadence(base=SAFETY_LOOK, floor=SAFETY_LOOK, ceiling=SAFETY_LOOK)
    )
    events = tracker.subscribe()
    video_id = await env.create(tracker)
    env.state.calls.clear()
    # Followed, but not looked at when it starts: the event will say how it ended.
    for _ in range(10):
        env.clock.advance(10)
        await tracker.refresh_due()
    assert sum(env.state.calls.values()) == 0
    tracker.sighted(video_id, announced(video_id))
    await tracker.refresh_due()
    assert sum(env.state.calls.values()) == 0
    assert video_id not in tracker.tracked
    row = await env.videos.get(video_id)
    assert row is not None
    assert (row.status, row.progress, row.cost) == ("completed", 100, 0.8)
    assert [event.job.status for event in drain(events)] == ["completed"]


async def test_openrouter_announced_job_still_gets_the_slow_safety_look(env: Env) -> None:
    tracker = env.tracker(
        announced=True, cadence=Cadence(base=SAFETY_LOOK, floor=SAFETY_LOOK, ceiling=SAFETY_LOOK)
    )
    video_id = await env.create(tracker)
    env.state.calls.clear()
    env.clock.advance(SAFETY_LOOK - 1)
    assert await tracker.refresh_due() == 0
    # No event came: the safety look asks once, and finds the job done.
    env.clock.advance(1)
    assert await tracker.refresh_due() == 1
    row = await env.videos.get(video_id)
    assert row is not None
    assert row.status == "completed"


async def test_openrouter_event_before_the_job_is_followed_is_kept_for_it(env: Env) -> None:
    tracker = env.tracker(
        announced=True, cadence=Cadence(base=SAFETY_LOOK, floor=SAFETY_LOOK, ceiling=SAFETY_LOOK)
    )
    video = await env.api.create("a cat")
    # The event can outrun the create's bookkeeping: it waits for the job to be followed.
    tracker.sighted(video.id, announced(video.id))
    await tracker.refresh_due()
    await env.videos.insert(
        video,
        owner_id=1,
        guild_id=10,
        channel_id=100,
        kind="create",
        prompt="a cat",
        model="sora-2",
        size="720x1280",
        seconds="4",
    )
    await tracker.track(video.id)
    env.state.calls.clear()
    await tracker.refresh_due()
    assert sum(env.state.calls.values()) == 0
    row = await env.videos.get(video.id)
    assert row is not None
    assert row.status == "completed"


async def test_openrouter_event_is_taken_while_the_tracker_is_paused(env: Env) -> None:
    tracker = env.tracker(clock=lambda: env.clock.now, backoff_base=0.2)
    events = tracker.subscribe()
    video_id = await env.create()
    env.set_faults(rate_429=1.0, retry_after_seconds=40)
    await tracker.start()
    await tracker.track(video_id)
    async with asyncio.timeout(5):
        # Polls state that the tracker's own task changes; there is no event to wait on.
        while tracker.paused_until <= env.clock.now:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        # Requests wait out the 429's 40 s; the event needs none and is taken at once.
        tracker.sighted(video_id, announced(video_id))
        published = await events.get()
    assert (published.job.id, published.job.status) == (video_id, "completed")
    assert tracker.paused_until > env.clock.now
    row = await env.videos.get(video_id)
    assert row is not None
    assert row.cost == 0.8
    await tracker.stop()
