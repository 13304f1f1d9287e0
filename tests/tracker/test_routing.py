"""Several providers: each job is looked at where it was made, each provider within its own
budget and its own pauses; a job whose provider was removed says so."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.simulator import STATE_KEY, ManualClock, SimulatorConfig, SimulatorState, make_app
from bot.simulator.server import serve_app
from bot.storage import SqliteDatabase, VideoRepository
from bot.timing.backoff import Backoff
from bot.tracker.budget import RequestBudget
from bot.tracker.cadence import Cadence
from bot.tracker.service import PROVIDER_REMOVED, Tracker
from bot.videoapi.client import VideoClient
from bot.videoapi.errors import RateLimitError
from bot.videoapi.models import Operation
from bot.videoapi.providers import Providers

from .conftest import ASKED, drain


async def _no_sleep(_: float) -> None:
    return None


@dataclass
class Two:
    clock: ManualClock
    states: dict[str, SimulatorState]
    providers: Providers
    videos: VideoRepository

    def tracker(self, **options: Any) -> Tracker:
        options.setdefault("clock", self.clock)
        options.setdefault("cadence", Cadence(base=5, floor=1, ceiling=30))
        return Tracker(self.providers, self.videos, **options)

    async def create(self, provider: str, tracker: Tracker, prompt: str = "a cat") -> str:
        video = await self.providers.get(provider).create(prompt)
        await self.videos.insert(
            video,
            owner_id=1,
            guild_id=10,
            channel_id=100,
            kind="create",
            prompt=prompt,
            provider=provider,
            **ASKED,
        )
        await tracker.track(video.id)
        return video.id

    def looks(self, provider: str) -> int:
        calls = self.states[provider].calls
        return calls[Operation.LIST] + calls[Operation.RETRIEVE]


@pytest.fixture
async def two(tmp_path: Path) -> AsyncIterator[Two]:
    clock = ManualClock()
    async with AsyncExitStack() as stack:
        states, backends = {}, {}
        # Seeds differ: each simulator makes its own ids, as two real providers do.
        for seed, name in enumerate(("first", "second")):
            app = make_app(SimulatorConfig(clock=clock, job_seconds=20, seed=seed))
            base_url = await stack.enter_async_context(serve_app(app))
            backends[name] = await stack.enter_async_context(
                VideoClient(base_url, None, max_retries=0, backoff=Backoff(sleep=_no_sleep))
            )
            states[name] = app[STATE_KEY]
        db = await stack.enter_async_context(
            await SqliteDatabase.open(tmp_path / "videobot.sqlite3")
        )
        yield Two(clock, states, Providers(backends), VideoRepository(db, clock=clock))


async def _until_finished(two: Two, tracker: Tracker) -> None:
    for _ in range(200):
        if not tracker.tracked:
            return
        two.clock.advance(1)
        await tracker.refresh_due()
    raise AssertionError("the jobs did not finish")


async def test_routing_each_job_is_looked_at_its_own_provider(two: Two) -> None:
    tracker = two.tracker()
    events = tracker.subscribe()
    first = await two.create("first", tracker)
    second = await two.create("second", tracker)
    before = {name: two.looks(name) for name in two.states}

    await _until_finished(two, tracker)

    finished = {e.job.id: e.job for e in drain(events) if e.job.finished}
    assert finished[first].status == finished[second].status == "completed"
    assert finished[first].provider == "first"
    assert finished[second].provider == "second"
    # Each provider was asked only about its own job: each knows only that one.
    assert two.looks("first") > before["first"]
    assert two.looks("second") > before["second"]
    assert set(two.states["first"].jobs) == {first}
    assert set(two.states["second"].jobs) == {second}


async def test_routing_each_provider_spends_its_own_budget(two: Two) -> None:
    # The second provider allows no look for a minute: the first still looks at once.
    slow = RequestBudget(per_minute=1)
    assert slow.try_spend(two.clock())
    tracker = two.tracker(budgets={"second": slow})
    await two.create("first", tracker)
    await two.create("second", tracker)
    before = {name: two.looks(name) for name in two.states}

    await tracker.refresh_due()

    assert two.looks("first") == before["first"] + 1
    assert two.looks("second") == before["second"]


async def test_routing_a_provider_in_trouble_pauses_alone(two: Two) -> None:
    tracker = two.tracker()
    await two.create("first", tracker)
    await two.create("second", tracker)
    two.states["second"].config = two.states["second"].config.model_copy(update={"rate_429": 1.0})
    before = two.looks("first")

    with pytest.raises(RateLimitError):
        await tracker.refresh_due()
    # The first provider's job was looked at in that same cycle all the same.
    assert two.looks("first") == before + 1


async def test_routing_a_job_whose_provider_was_removed_says_so(two: Two) -> None:
    tracker = two.tracker()
    events = tracker.subscribe()
    video = await two.providers.get("first").create("a dog")
    await two.videos.insert(
        video,
        owner_id=1,
        guild_id=10,
        channel_id=100,
        kind="create",
        prompt="a dog",
        provider="retired-gateway",
        **ASKED,
    )
    await tracker.track(video.id)
    await tracker.refresh_due()

    row = await two.videos.get(video.id)
    assert row is not None
    assert (row.status, row.error_code) == ("failed", PROVIDER_REMOVED)
    assert "retired-gateway" in (row.error_message or "")
    assert [e.job.status for e in drain(events)] == ["failed"]


async def test_routing_a_provider_that_hangs_holds_up_no_other(
    two: Two, monkeypatch: pytest.MonkeyPatch
) -> None:
    never = asyncio.Event()
    asked: list[str] = []

    async def hang(*args: Any, **kwargs: Any) -> Any:
        asked.append("first")
        await never.wait()

    stuck = two.providers.get("first")
    monkeypatch.setattr(stuck, "list", hang)
    monkeypatch.setattr(stuck, "retrieve", hang)
    tracker = two.tracker(clock=lambda: two.clock.now)
    events = tracker.subscribe()
    first = await two.create("first", tracker)
    second = await two.create("second", tracker)
    await tracker.start()
    await _eventually(lambda: asked == ["first"])

    # The second provider's job runs to its end, looked at again and again, while the first
    # provider has not answered its first look.
    two.clock.advance(60)
    tracker.wake()
    await _eventually(lambda: second not in tracker.tracked)
    finished = [e.job for e in drain(events) if e.job.finished]
    assert [(row.id, row.status) for row in finished] == [(second, "completed")]
    assert first in tracker.tracked
    assert asked == ["first"]
    await tracker.stop()


async def _eventually(condition: Callable[[], bool], within: float = 5.0) -> None:
    async with asyncio.timeout(within):
        # Polls state that the tracker's own tasks change; there is no event to wait on.
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.01)
