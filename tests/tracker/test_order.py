"""The tracker against providers that list same-second jobs in an order of their own.

Rows are stored before the create call, so the bot's order of a burst is the order the requests
started; the provider orders jobs of one second by its own rule. Every test here makes a burst
(many jobs in the same second), lists them through a fake `GET /videos` with an adversarial tie
order, and checks that every job is noticed, that each is seen (on a page or by a retrieve) at
least once every `Cadence.ceiling` seconds, and what that cost in requests. A job the tracker
gives up on is checked once more first.
"""

from __future__ import annotations

import itertools
import random
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import pytest

from bot.tracker.budget import RequestBudget
from bot.tracker.cadence import Cadence
from bot.videoapi.models import Operation, Video, VideoPage

from .conftest import Env, MakeEnv, cycle_until, drain

CADENCE = Cadence(base=5, floor=1, ceiling=30)
PAGE = 10
# Five seconds of 20 jobs each, made in a burst.
SECONDS, PER_SECOND = 5, 20
# Same-second ids (in the order they were created) and the listing's call number, to the
# order they are listed in, newest first.
TieOrder = Callable[[list[str], int], list[str]]


def _reverse(ids: list[str], call: int) -> list[str]:
    # The first created is listed first: the opposite of newest first by arrival.
    return list(ids)


def _random(ids: list[str], call: int) -> list[str]:
    return random.Random(f"ties:{len(ids)}").sample(ids, len(ids))


def _by_id(ids: list[str], call: int) -> list[str]:
    return sorted(ids, reverse=True)


def _reshuffled(ids: list[str], call: int) -> list[str]:
    # A new order on every call: no page is ever the same twice.
    return random.Random(f"ties:{len(ids)}:{call}").sample(ids, len(ids))


ORDERS: dict[str, TieOrder] = {
    "reverse": _reverse,
    "random": _random,
    "by_id": _by_id,
    "reordered_between_calls": _reshuffled,
}


class Provider:
    """The simulator's jobs listed with a tie order of its own; records every sighting."""

    def __init__(self, env: Env, tie: TieOrder) -> None:
        self.env = env
        self.tie = tie
        self.lists = 0
        self.retrieves = 0
        # The cursor of every page asked for.
        self.cursors: list[str | None] = []
        self.seen: defaultdict[str, list[float]] = defaultdict(list)
        self._retrieve = env.api.retrieve
        # Seeded ids, so an order by id is the same permutation on every run.
        ids = random.Random(0)
        env.state.new_video_id = lambda: f"video_{ids.getrandbits(128):032x}"
        env.api.list = self.list  # type: ignore[method-assign]
        env.api.retrieve = self.retrieve  # type: ignore[method-assign]

    @property
    def requests(self) -> int:
        return self.lists + self.retrieves

    def listing(self) -> list[str]:
        seconds: defaultdict[int, list[str]] = defaultdict(list)
        for job in self.env.state.jobs.values():  # in the order they were created
            seconds[job.created_at].append(job.id)
        return [
            video_id
            for second in sorted(seconds, reverse=True)
            for video_id in self.tie(seconds[second], self.lists)
        ]

    async def list(
        self, *, limit: int = 20, order: str = "desc", after: str | None = None
    ) -> VideoPage:
        assert order == "desc"
        listing = self.listing()
        self.lists += 1
        self.cursors.append(after)
        start = 0 if after is None else listing.index(after) + 1
        now = self.env.clock.now
        data = [self.env.state.jobs[i].video_at(now) for i in listing[start : start + limit]]
        for video in data:
            self.seen[video.id].append(now)
        return VideoPage(
            data=data,
            first_id=data[0].id if data else None,
            last_id=data[-1].id if data else None,
            has_more=len(listing) > start + limit,
        )

    async def retrieve(self, video_id: str) -> Video:
        self.retrieves += 1
        self.seen[video_id].append(self.env.clock.now)
        return await self._retrieve(video_id)


async def burst(env: Env, tracker: Any) -> list[str]:
    """SECONDS seconds of PER_SECOND jobs each, each stored and tracked as it was made."""
    ids = []
    for _ in range(SECONDS):
        ids += [await env.create(tracker) for _ in range(PER_SECOND)]
        env.clock.advance(1)
    return ids


def assert_seen_every_ceiling(
    provider: Provider, ids: list[str], start: float, ends: dict[str, float]
) -> list[float]:
    """Each job seen within `ceiling` of being tracked, then at least once every `ceiling`
    seconds until a look found it finished (cycles run once a second: a second of slack).
    Returns how long after its end each job was noticed."""
    late = []
    for video_id in ids:
        noticed = next(at for at in provider.seen[video_id] if at >= ends[video_id])
        looks = [start, *(at for at in provider.seen[video_id] if at <= noticed)]
        gaps = [b - a for a, b in itertools.pairwise(looks)]
        assert max(gaps) <= CADENCE.ceiling + 1, video_id
        late.append(noticed - ends[video_id])
    return late


async def follow_burst(
    make_env: MakeEnv, tie: TieOrder, *, lists: bool = True, per_minute: float = 300
) -> tuple[Provider, list[float]]:
    """A burst followed to its end through `tie`'s listing (or none); returns the provider
    and how long after its end each job was noticed."""
    env = await make_env(job_seconds=30, job_seconds_max=300, progress_shape="mixed")
    provider = Provider(env, tie)
    if not lists:
        env.api.capabilities.record(Operation.LIST, served=False)
    tracker = env.tracker(
        page_size=PAGE, cadence=CADENCE, budget=RequestBudget(per_minute=per_minute)
    )
    events = tracker.subscribe()
    start = env.clock.now
    ids = await burst(env, tracker)
    ends = {video_id: env.state.jobs[video_id].ends for video_id in ids}
    await cycle_until(env, tracker, lambda: not tracker.tracked, limit=400)
    finished = {e.job.id: e.job.status for e in drain(events) if e.job.finished}
    assert finished == dict.fromkeys(ids, "completed")  # every job noticed, none given up
    return provider, assert_seen_every_ceiling(provider, ids, start, ends)


@pytest.mark.parametrize("order", ["reverse", "random", "by_id"])
async def test_tracker_notices_every_job_whatever_the_providers_tie_order(
    make_env: MakeEnv, order: str
) -> None:
    provider, late = await follow_burst(make_env, ORDERS[order])
    # Noticed within a look of its end (a job without a pace yet is looked at every `base`
    # seconds, which may wait its slack for a shared page): the pages learned where each job
    # is listed.
    assert max(late) <= CADENCE.base * (1 + CADENCE.slack) + 1
    # 100 jobs of 30 s to 5 min: a naive 10 s poller would send ~1,000 requests; about 300.
    assert provider.requests <= 400, (provider.lists, provider.retrieves)


async def test_tracker_notices_every_job_when_the_order_changes_between_calls(
    make_env: MakeEnv,
) -> None:
    provider, late = await follow_burst(make_env, ORDERS["reordered_between_calls"])
    # No page can be trusted twice: the jobs its pages miss are retrieved, so each is still
    # seen every ceiling; it costs more requests, never a lost job.
    assert provider.retrieves > 0
    assert max(late) <= CADENCE.ceiling + 1
    assert provider.requests <= 1_000, (provider.lists, provider.retrieves)


async def test_tracker_without_a_list_sees_every_job_every_ceiling_whatever_the_order(
    make_env: MakeEnv,
) -> None:
    # Enough budget for a retrieve of each of the 100 jobs at its every look.
    provider, late = await follow_burst(make_env, ORDERS["random"], lists=False, per_minute=1200)
    assert provider.lists == 0
    assert max(late) <= CADENCE.ceiling + 1
    assert provider.requests <= 1_500, provider.retrieves


async def test_tracker_order_a_job_its_page_missed_is_retrieved_in_the_next_cycle(
    make_env: MakeEnv,
) -> None:
    env = await make_env(job_seconds=1_000)
    ties: list[TieOrder] = [_by_id]
    provider = Provider(env, lambda ids, call: ties[0](ids, call))
    budget = RequestBudget(per_minute=60, burst_seconds=3)
    tracker = env.tracker(
        page_size=2, budget=budget, cadence=Cadence(base=60, floor=60, ceiling=60)
    )
    ids = [await env.create(tracker) for _ in range(6)]
    # Three pages from the top, on the provider's cursors: every job seen where it is listed.
    assert await tracker.refresh_due() == 3
    assert provider.lists == 3
    assert set(provider.seen) == set(ids)
    listed = provider.listing()
    ties[0] = lambda same_second, call: listed[::-1]  # the provider reorders
    moved = listed[0]  # from the first page to the last
    while budget.try_spend(env.clock.now):  # one request left, a second from now
        pass
    env.clock.advance(1)
    tracker.wake(moved)
    looks = len(provider.seen[moved])
    assert await tracker.refresh_due() == 1  # its page, which no longer holds it
    assert len(provider.seen[moved]) == looks
    assert provider.retrieves == 0
    env.clock.advance(2)
    # The next cycle: the page the first one's answer put it on (the provider moved it further
    # still), then a retrieve.
    assert await tracker.refresh_due() == 2
    assert provider.retrieves == 1
    assert provider.seen[moved][-1] == env.clock.now
    assert moved in tracker.tracked


async def test_tracker_order_a_job_its_page_missed_is_retrieved_in_the_same_cycle(
    make_env: MakeEnv,
) -> None:
    env = await make_env(job_seconds=1_000)
    ties: list[TieOrder] = [_by_id]
    provider = Provider(env, lambda ids, call: ties[0](ids, call))
    tracker = env.tracker(page_size=2, cadence=Cadence(base=60, floor=60, ceiling=60))
    for _ in range(6):
        await env.create(tracker)
    await tracker.refresh_due()
    listed = provider.listing()
    ties[0] = lambda same_second, call: listed[::-1]
    env.clock.advance(1)
    tracker.wake(listed[0])
    # Its page, the next (as dear as a retrieve, and it might hold others), then at once the
    # retrieve: the budget allows all three.
    assert await tracker.refresh_due() == 3
    assert (provider.lists, provider.retrieves) == (5, 1)
    assert provider.seen[listed[0]][-1] == env.clock.now


async def test_tracker_order_a_job_past_the_deadline_is_checked_once_more_before_it_fails(
    make_env: MakeEnv,
) -> None:
    env = await make_env(job_seconds=10_000)
    provider = Provider(env, _by_id)
    tracker = env.tracker(deadline=60, cadence=Cadence(base=100, floor=100, ceiling=100))
    events = tracker.subscribe()
    done = await env.create(tracker)
    stuck = await env.create(tracker)
    assert await tracker.refresh_due() == 1  # one page holds both; next looks 100 s away
    env.clock.advance(59)
    env.state.complete(done)  # finished unseen, just before the deadline
    env.clock.advance(2)
    assert await tracker.refresh_due() == 2  # nothing due: one retrieve for each late job
    assert provider.retrieves == 2
    ended = {e.job.id: (e.job.status, e.job.error_code) for e in drain(events) if e.job.finished}
    # The provider made the one it reports finished: delivered however late, never failed.
    assert ended == {done: ("completed", None), stuck: ("failed", "timeout")}
    assert not tracker.tracked


async def test_tracker_order_pages_start_only_after_a_video_a_page_showed_where_it_is(
    make_env: MakeEnv,
) -> None:
    env = await make_env(job_seconds=1_000)
    provider = Provider(env, _by_id)
    # One request a second: each cycle reads one page.
    tracker = env.tracker(page_size=2, budget=RequestBudget(per_minute=60, burst_seconds=1))
    ids = [await env.create() for _ in range(6)]  # one second, listed by id
    for video_id in ids:  # the oldest looked at first
        await tracker.track(video_id)
        env.clock.advance(0.1)
    listed = provider.listing()
    # The bot can only guess where the oldest sits among its second: a page after a job whose
    # place is guessed holds an arbitrary slice of them. The first page is read from the top.
    await tracker.refresh_due()
    assert provider.cursors == [None]
    env.clock.advance(1)
    await tracker.refresh_due()
    # The next one starts after the last video that page showed: the provider's own cursor.
    assert provider.cursors == [None, listed[1]]
    await cycle_until(env, tracker, lambda: set(provider.seen) == set(ids))
