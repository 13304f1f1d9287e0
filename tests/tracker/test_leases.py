"""A process's leases and their fencing numbers: which grants a renewal finds lost."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from bot.storage import LeaseRepository, SqliteDatabase, VideoRepository
from bot.tracker.leases import Leases
from bot.videoapi.models import Video

NOW = 1_800_000_000.0


class Interleaved(LeaseRepository):
    """A repository whose renewal lets other parts of the process act right before its
    statement and right after it, as they may while it is out."""

    before: Callable[[], Awaitable[object]] | None = None
    after: Callable[[], Awaitable[object]] | None = None

    async def renew(self, holder: str, until: float, now: float) -> set[int]:
        if self.before is not None:
            await self.before()
        held = await super().renew(holder, until, now)
        if self.after is not None:
            await self.after()
        return held


@pytest.fixture
async def key(tmp_path: Path) -> AsyncIterator[tuple[SqliteDatabase, int]]:
    async with await SqliteDatabase.open(tmp_path / "videobot.sqlite3") as db:
        video = Video.model_validate({"id": "video_1", "status": "queued", "created_at": 1})
        row = await VideoRepository(db).insert(
            video,
            owner_id=1,
            guild_id=2,
            channel_id=3,
            kind="create",
            prompt="a kite",
            model="sora-2",
            size="720x1280",
            seconds="4",
        )
        yield db, row.key


async def test_a_job_let_go_and_granted_again_during_a_renewal_is_not_lost(
    key: tuple[SqliteDatabase, int],
) -> None:
    db, job = key
    repository = Interleaved(db)
    leases = Leases(repository, ttl=20.0, holder="a", clock=lambda: NOW)
    lost: list[set[int]] = []
    leases.on_lost(lost.append)
    assert await leases.claim(job)
    first = leases.fence(job)
    # Recovery lets the job go while the renewal is out, and the tracker takes it again.
    repository.before = lambda: leases.let_go(job)
    repository.after = lambda: leases.claim(job)
    assert await leases.keep() == (set(), True)

    assert lost == []
    assert leases.fence(job) == (first or 0) + 1
    assert await leases.holds(job)


async def test_a_renewal_that_finds_a_grant_taken_over_tells_the_listeners(
    key: tuple[SqliteDatabase, int],
) -> None:
    db, job = key
    now = NOW
    mine = Leases(LeaseRepository(db), ttl=20.0, holder="a", clock=lambda: now)
    theirs = Leases(LeaseRepository(db), ttl=20.0, holder="b", clock=lambda: now)
    lost: list[set[int]] = []
    mine.on_lost(lost.append)
    assert await mine.claim(job)
    now += 21.0  # "a" stopped past its lease
    assert await theirs.claim(job)

    assert await mine.keep() == (set(), True)
    assert lost == [{job}]
    assert mine.fence(job) is None
    assert not await mine.holds(job, 1)
