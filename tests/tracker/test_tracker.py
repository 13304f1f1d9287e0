from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from bot.storage import SqliteDatabase, VideoRepository
from bot.tracker.budget import RequestBudget
from bot.tracker.cadence import Cadence
from bot.tracker.service import STATUS_UNKNOWN
from bot.videoapi.errors import InternalServerError, RateLimitError
from bot.videoapi.models import Operation, ResponseMeta, VideoError, VideoPage

from .conftest import Env, MakeEnv, cycle_until, drain


async def test_events_follow_a_job_from_queued_to_completed(env: Env) -> None:
    tracker = env.tracker()
    events = tracker.subscribe()
    video_id = await env.create(tracker)
    await cycle_until(env, tracker, lambda: video_id not in tracker.tracked)

    seen = drain(events)
    statuses = [e.job.status for e in seen]
    assert statuses[0] == "in_progress"
    assert statuses[-1] == "completed"
    assert statuses.count("completed") == 1
    progress = [e.job.progress for e in seen]
    assert progress == sorted(progress)
    assert seen[-1].previous_status == "in_progress"
    stored = await env.videos.get(video_id)
    assert stored is not None
    assert stored.status == "completed"
    assert stored.completed_at is not None


async def test_jobs_covered_by_the_list_page_cause_no_retrieve(env: Env) -> None:
    tracker = env.tracker()
    ids = [await env.create(tracker) for _ in range(5)]
    env.state.calls.clear()
    await cycle_until(env, tracker, lambda: not tracker.tracked)
    assert env.state.calls[Operation.RETRIEVE] == 0
    assert env.state.calls[Operation.LIST] > 0
    for video_id in ids:
        row = await env.videos.get(video_id)
        assert row is not None
        assert row.status == "completed"


async def test_pages_are_followed_only_while_due_jobs_are_unseen(make_env: MakeEnv) -> None:
    env = await make_env()
    tracker = env.tracker(page_size=2)
    ours = []
    for _ in range(3):  # a second apart: no ties, the order is the contract's
        ours.append(await env.create(tracker))
        env.clock.advance(1)
    for _ in range(3):  # newer videos of someone else on the same key
        await env.api.create("not ours")
    env.state.calls.clear()
    # The cycle reports its cost, which the request budget is charged.
    assert await tracker.refresh_due() == 4
    # 6 videos newest first, 2 a page. The newest two of ours have no cursor of ours before
    # them, so pages are read from the top, past someone else's videos, while that is no
    # dearer than retrieving (2 pages; the middle one is then retrieved). The oldest one's
    # page would hold no other job of ours: it is retrieved.
    assert env.state.calls[Operation.LIST] == 2
    assert env.state.calls[Operation.RETRIEVE] == 2
    assert set(ours) <= tracker.tracked


async def test_a_busy_key_falls_back_to_retrieve_after_a_few_pages(env: Env) -> None:
    tracker = env.tracker(page_size=2)
    ours = [await env.create(tracker) for _ in range(2)]
    env.clock.advance(1)
    for _ in range(20):  # newer
        await env.api.create("not ours")
    env.state.calls.clear()
    await tracker.refresh_due()
    # Paging through someone else's hundreds of videos would cost more than two retrieves.
    assert env.state.calls[Operation.LIST] == 3
    assert env.state.calls[Operation.RETRIEVE] == 2
    assert set(ours) <= tracker.tracked


async def test_a_job_whose_page_would_hold_no_other_is_retrieved(env: Env) -> None:
    tracker = env.tracker()
    await env.create(tracker)
    env.state.calls.clear()
    assert await tracker.refresh_due() == 1
    assert env.state.calls[Operation.LIST] == 0
    assert env.state.calls[Operation.RETRIEVE] == 1


async def test_a_provider_without_list_still_works(make_env: MakeEnv) -> None:
    env = await make_env(disabled_operations=frozenset({Operation.LIST}))
    tracker = env.tracker()
    events = tracker.subscribe()
    await env.create(tracker)
    video_id = await env.create(tracker)
    await cycle_until(env, tracker, lambda: not tracker.tracked)
    assert drain(events)[-1].job.status == "completed"
    assert env.state.calls[Operation.RETRIEVE] > 0
    assert env.api.supports(Operation.LIST) is False
    assert video_id not in tracker.tracked


async def test_an_upstream_failure_ends_the_job_with_the_providers_reason(env: Env) -> None:
    tracker = env.tracker()
    events = tracker.subscribe()
    video_id = await env.create(tracker)
    env.clock.advance(3)
    env.state.fail(video_id, VideoError(code="moderation_blocked", message="Blocked by policy."))
    await cycle_until(env, tracker, lambda: not tracker.tracked)
    [event] = [e for e in drain(events) if e.job.status == "failed"]
    assert event.job.error_code == "moderation_blocked"
    assert event.job.error_message == "Blocked by policy."


async def test_the_deadline_ends_a_stuck_job(make_env: MakeEnv) -> None:
    env = await make_env(job_seconds=10_000)
    tracker = env.tracker(deadline=60)
    events = tracker.subscribe()
    video_id = await env.create(tracker)
    await cycle_until(env, tracker, lambda: not tracker.tracked, step=5)
    [event] = [e for e in drain(events) if e.job.status == "failed"]
    assert event.job.id == video_id
    assert event.job.error_code == "timeout"
    assert "45" not in (event.job.error_message or "")
    assert "1 min" in (event.job.error_message or "")


async def test_a_job_the_provider_forgot_ends_failed(env: Env) -> None:
    tracker = env.tracker()
    events = tracker.subscribe()
    video_id = await env.create(tracker)
    del env.state.jobs[video_id]
    await cycle_until(env, tracker, lambda: not tracker.tracked)
    [event] = drain(events)
    assert event.job.status == "failed"
    assert event.job.error_code == "not_found"


async def test_one_bad_job_never_stops_the_others(make_env: MakeEnv) -> None:
    env = await make_env(disabled_operations=frozenset({Operation.LIST}))
    tracker = env.tracker()
    events = tracker.subscribe()
    bad = await env.create(tracker)
    good = await env.create(tracker)
    real_retrieve = env.api.retrieve

    async def broken_for_one(video_id: str):  # type: ignore[no-untyped-def]
        if video_id == bad:
            raise ValueError("a malformed answer")
        return await real_retrieve(video_id)

    env.api.retrieve = broken_for_one  # type: ignore[method-assign]
    await cycle_until(env, tracker, lambda: good not in tracker.tracked)
    assert bad in tracker.tracked
    assert [e.job.id for e in drain(events) if e.job.status == "completed"] == [good]


async def test_a_stopped_tracker_replaced_by_a_new_one_publishes_each_completion_once(
    env: Env,
) -> None:
    delivered: list[str] = []

    async def deliver(queue: asyncio.Queue) -> None:  # type: ignore[type-arg]
        # What delivery does: post once, then record it; a crash between loses nothing.
        for event in drain(queue):
            if event.job.finished and await env.videos.mark_delivered(event.job.id):
                delivered.append(event.job.id)

    first = env.tracker()
    first_events = first.subscribe()
    early = await env.create(first)
    env.clock.advance(15)
    late = await env.create(first)
    await cycle_until(env, first, lambda: early not in first.tracked)
    # The first process stops before delivery saw the completion: it must come again.
    await first.stop()

    second = env.tracker()
    second_events = second.subscribe()
    await second.start()
    await second.stop()  # only the replay and loading; cycles run by hand below
    assert late in second.tracked
    await cycle_until(env, second, lambda: not second.tracked)
    await deliver(second_events)
    assert sorted(delivered) == sorted([early, late])

    # A third start finds nothing left to publish.
    third = env.tracker()
    third_events = third.subscribe()
    await third.start()
    await third.stop()
    assert third.tracked == frozenset()
    assert drain(third_events) == []
    assert [e.job.id for e in drain(first_events) if e.job.finished] == [early]


async def test_a_429_storm_backs_the_whole_tracker_off_and_it_recovers(make_env: MakeEnv) -> None:
    env = await make_env(job_seconds=2)
    tracker = env.tracker(clock=lambda: env.clock.now, backoff_base=0.2, backoff_max=0.4)
    events = tracker.subscribe()
    video_id = await env.create()
    env.set_faults(rate_429=1.0, retry_after_seconds=0)
    await tracker.start()
    await tracker.track(video_id)
    await _eventually(lambda: tracker.paused_until > env.clock.now)
    calls_when_paused = env.state.calls[Operation.LIST]
    await asyncio.sleep(0.1)
    assert env.state.calls[Operation.LIST] == calls_when_paused  # no request while paused

    env.set_faults(rate_429=0.0)
    env.clock.advance(10)
    tracker.wake()
    await _eventually(lambda: not tracker.tracked, within=5)
    assert drain(events)[-1].job.status == "completed"


async def test_a_new_job_is_refreshed_at_once(env: Env) -> None:
    tracker = env.tracker(cadence=Cadence(base=60, floor=60, ceiling=60))
    await tracker.start()
    env.state.calls.clear()
    await env.create(tracker)
    # No fixed sleep between the job's start and its first refresh.
    calls = env.state.calls
    await _eventually(lambda: calls[Operation.LIST] + calls[Operation.RETRIEVE] == 1, within=1)


async def test_a_database_from_an_older_process_is_picked_up(env: Env) -> None:
    video_id = await env.create()
    await env.videos.mark_failed(video_id, "timeout", "late")
    async with await SqliteDatabase.open(env.db_path) as db:
        tracker = env.tracker(VideoRepository(db))
        events = tracker.subscribe()
        await tracker.start()
        await tracker.stop()
    [event] = drain(events)
    assert event.job.id == video_id
    assert event.previous_status is None


async def _eventually(condition: Callable[[], bool], within: float = 2.0) -> None:
    async with asyncio.timeout(within):
        # Polls state that the tracker's own task changes; there is no event to wait on.
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.01)


def _ids_asked(env: Env, operation: str) -> list[str | None]:
    """Record what each list (its `after`) or retrieve (its id) asked for, from now on."""
    asked: list[str | None] = []
    real = getattr(env.api, operation)

    async def recording(*args: Any, **kwargs: Any) -> Any:
        asked.append(kwargs.get("after") if operation == "list" else args[0])
        return await real(*args, **kwargs)

    setattr(env.api, operation, recording)
    return asked


async def test_a_cycle_sends_no_more_than_the_budget_allows(make_env: MakeEnv) -> None:
    env = await make_env(disabled_operations=frozenset({Operation.LIST}))
    env.api.capabilities.record(Operation.LIST, served=False)
    # 60 a minute with 2 s of burst: 2 at once, then 1 a second.
    tracker = env.tracker(budget=RequestBudget(per_minute=60, burst_seconds=2))
    for _ in range(5):
        await env.create(tracker)
    env.state.calls.clear()
    assert await tracker.refresh_due() == 2
    assert await tracker.refresh_due() == 0
    env.clock.advance(1)
    assert await tracker.refresh_due() == 1
    assert env.state.calls[Operation.RETRIEVE] == 3


async def test_the_job_closest_to_its_predicted_end_is_looked_at_first(
    make_env: MakeEnv,
) -> None:
    env = await make_env(disabled_operations=frozenset({Operation.LIST}))
    env.api.capabilities.record(Operation.LIST, served=False)
    budget = RequestBudget(per_minute=600)
    tracker = env.tracker(budget=budget)
    lengths = {"long": 300.0, "short": 30.0, "middle": 100.0}
    ids = {}
    for name, seconds in lengths.items():
        ids[name] = await env.create(tracker)
        job = env.state.jobs[ids[name]]
        job.queued_until, job.ends = env.clock.now, env.clock.now + seconds
    await tracker.refresh_due()  # first sightings, running at 0%
    env.clock.advance(10)
    for video_id in ids.values():
        tracker.wake(video_id)
    await tracker.refresh_due()
    ends = {name: tracker.predicted_end(video_id) for name, video_id in ids.items()}
    assert ends["short"] < ends["middle"] < ends["long"]  # type: ignore[operator]

    while budget.try_spend(env.clock.now):  # nothing left but the next token
        pass
    env.clock.advance(0.15)
    for video_id in ids.values():
        tracker.wake(video_id)
    asked = _ids_asked(env, "retrieve")
    assert await tracker.refresh_due() == 1
    assert asked == [ids["short"]]


async def test_a_cycle_lists_only_the_page_its_due_jobs_are_on(env: Env) -> None:
    tracker = env.tracker(page_size=2)
    for _ in range(6):
        await env.create(tracker)
    await tracker.refresh_due()
    # Made in the same second: listed in the provider's own order, which the pages showed.
    listed = [video.id for video in (await env.api.list(limit=6)).data]
    tracker.wake(listed[3])
    env.state.calls.clear()
    asked = _ids_asked(env, "list")
    assert await tracker.refresh_due() == 1
    # Pages of 2: listed[0..1], listed[2..3], listed[4..5]. Only the job's own page is asked
    # for, the one after listed[1]: one page, not 3.
    assert asked == [listed[1]]
    assert env.state.calls[Operation.RETRIEVE] == 0


async def test_the_providers_remaining_count_holds_the_next_cycle(env: Env) -> None:
    tracker = env.tracker()
    for _ in range(2):  # two, so a page is worth more than a retrieve
        await env.create(tracker)
    real_list = env.api.list

    async def nearly_out(**kwargs: Any) -> VideoPage:
        page = await real_list(**kwargs)
        page._meta = ResponseMeta(ratelimit_remaining_requests=0, ratelimit_reset_requests_s=20)
        return page

    env.api.list = nearly_out  # type: ignore[method-assign]
    start = env.clock.now
    assert await tracker.refresh_due() == 1
    for seconds in (5, 10, 5):
        env.clock.advance(seconds)
        tracker.wake(next(iter(tracker.tracked)))
        assert await tracker.refresh_due() == (1 if env.clock.now >= start + 20 else 0)


async def test_a_429_retry_after_holds_every_request_that_long(env: Env) -> None:
    tracker = env.tracker()
    await env.create(tracker)
    env.set_faults(rate_429=1.0, retry_after_seconds=40)
    with pytest.raises(RateLimitError):
        await tracker.refresh_due()
    env.set_faults(rate_429=0.0)
    env.clock.advance(39)
    assert await tracker.refresh_due() == 0
    env.clock.advance(1)
    assert await tracker.refresh_due() == 1


async def test_events_carry_the_predicted_end_while_a_job_runs(make_env: MakeEnv) -> None:
    env = await make_env(job_seconds=100, queued_fraction=0)
    tracker = env.tracker()
    events = tracker.subscribe()
    video_id = await env.create(tracker)
    end = env.state.jobs[video_id].ends
    await cycle_until(env, tracker, lambda: video_id not in tracker.tracked)
    seen = drain(events)
    predicted = [e.predicted_end for e in seen if e.job.status == "in_progress"]
    # The first sightings give no pace yet; after that the prediction is the simulator's end.
    assert predicted[-1] == pytest.approx(end, abs=3)
    assert seen[-1].job.status == "completed"
    assert seen[-1].predicted_end is None


@pytest.mark.parametrize("shape", ["ease-in", "stalled-start", "jumps"])
async def test_a_job_of_any_progress_shape_is_noticed_within_seconds_of_its_end(
    make_env: MakeEnv, shape: str
) -> None:
    env = await make_env(job_seconds=300, progress_shape=shape)
    tracker = env.tracker()
    video_id = await env.create(tracker)
    end = env.state.jobs[video_id].ends
    await cycle_until(env, tracker, lambda: video_id not in tracker.tracked, limit=1000)
    # One-second steps of the manual clock: noticed within a few looks of the end.
    assert env.clock.now - end <= 6


async def test_a_look_that_may_wait_rides_on_a_page_another_job_needs(env: Env) -> None:
    tracker = env.tracker()
    first = await env.create(tracker)
    second = await env.create(tracker)
    await tracker.refresh_due()  # both queued: each may wait up to half its delay
    env.clock.advance(5)
    tracker.wake(second)  # the newer job needs a look now; the older one's may come now too
    env.state.calls.clear()
    answered = _ids_asked(env, "list")
    assert await tracker.refresh_due() == 1
    assert answered == [None]  # the newest page, which holds both
    env.clock.advance(1)
    # The older one was refreshed on that page, so it is not due again yet.
    assert await tracker.refresh_due() == 0
    assert {first, second} <= tracker.tracked


async def test_a_tracker_paused_by_a_429_pauses_that_long_and_still_stops_at_once(
    env: Env,
) -> None:
    tracker = env.tracker(clock=lambda: env.clock.now, backoff_base=0.2)
    video_id = await env.create()
    env.set_faults(rate_429=1.0, retry_after_seconds=40)
    await tracker.start()
    await tracker.track(video_id)
    await _eventually(lambda: tracker.paused_until > env.clock.now)
    assert tracker.paused_until == env.clock.now + 40
    # Bounded, so a lost cancel fails here instead of waiting out the 40 s pause.
    async with asyncio.timeout(5):
        await tracker.stop()


def _always_500_for(env: Env, bad: str) -> None:
    """`bad`'s every retrieve is a 500, as LiteLLM answers for a Gemini job it cannot validate."""
    real_retrieve = env.api.retrieve

    async def retrieve(video_id: str):  # type: ignore[no-untyped-def]
        if video_id == bad:
            raise InternalServerError("litellm.APIConnectionError: validation failed", status=500)
        return await real_retrieve(video_id)

    env.api.retrieve = retrieve  # type: ignore[method-assign]


async def test_one_jobs_repeated_500s_back_off_that_job_not_the_healthy_one(
    make_env: MakeEnv,
) -> None:
    env = await make_env(job_seconds=40, disabled_operations=frozenset({Operation.LIST}))
    tracker = env.tracker()
    events = tracker.subscribe()
    bad = await env.create(tracker)
    env.clock.advance(3)
    good = await env.create(tracker)
    _always_500_for(env, bad)
    end = env.state.jobs[good].ends

    # refresh_due raising is what paused every job before: it must not, for one job's 500s.
    await cycle_until(env, tracker, lambda: good not in tracker.tracked)

    # Noticed on its own cadence: within a few one-second looks of its end, as if alone.
    assert env.clock.now - end <= 6
    assert tracker.paused_until == 0.0
    assert [e.job.id for e in drain(events) if e.job.status == "completed"] == [good]
    assert bad in tracker.tracked


async def test_a_job_whose_status_fails_for_ten_minutes_ends_with_the_reason(
    make_env: MakeEnv,
) -> None:
    env = await make_env(job_seconds=4000, disabled_operations=frozenset({Operation.LIST}))
    tracker = env.tracker()
    events = tracker.subscribe()
    bad = await env.create(tracker)
    await tracker.refresh_due()
    _always_500_for(env, bad)
    started = env.clock.now

    await cycle_until(env, tracker, lambda: bad not in tracker.tracked, step=5)

    [failed] = [e.job for e in drain(events) if e.job.finished]
    assert (failed.status, failed.error_code) == ("failed", STATUS_UNKNOWN)
    assert failed.error_message == (
        "The provider could not say how this video is doing for 10 minutes."
    )
    # Given up once its looks had failed for ten minutes, no sooner, long before the deadline.
    assert 600 <= env.clock.now - started <= 600 + 120 + 5


async def test_how_long_a_failing_status_is_borne_is_set_per_tracker(make_env: MakeEnv) -> None:
    env = await make_env(job_seconds=4000, disabled_operations=frozenset({Operation.LIST}))
    tracker = env.tracker(status_give_up=120.0)
    bad = await env.create(tracker)
    _always_500_for(env, bad)
    started = env.clock.now

    await cycle_until(env, tracker, lambda: bad not in tracker.tracked, step=5)

    row = await env.videos.get(bad)
    assert row is not None
    assert row.error_message == "The provider could not say how this video is doing for 2 minutes."
    assert env.clock.now - started <= 120 + 40 + 5


async def test_a_status_answered_again_starts_the_count_afresh(make_env: MakeEnv) -> None:
    env = await make_env(job_seconds=4000, disabled_operations=frozenset({Operation.LIST}))
    tracker = env.tracker(status_give_up=120.0)
    flaky = await env.create(tracker)
    real_retrieve = env.api.retrieve
    answering = [False]

    async def retrieve(video_id: str):  # type: ignore[no-untyped-def]
        if not answering[0]:
            raise InternalServerError("boom", status=500)
        return await real_retrieve(video_id)

    env.api.retrieve = retrieve  # type: ignore[method-assign]
    for _ in range(20):  # 100 s of failing looks, then one answer, then failing again
        env.clock.advance(5)
        await tracker.refresh_due()
    answering[0] = True
    await cycle_until(env, tracker, lambda: env.state.calls[Operation.RETRIEVE] > 0, step=5)
    answering[0] = False
    for _ in range(20):
        env.clock.advance(5)
        await tracker.refresh_due()

    assert flaky in tracker.tracked
