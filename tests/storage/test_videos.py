from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bot.storage import (
    Database,
    IntegrityError,
    LeaseRepository,
    SqliteDatabase,
    VideoRepository,
    VideoRow,
)
from bot.storage import videos as videos_module
from bot.videoapi.models import VideoStatus

from .conftest import OpenDb
from .helpers import CHANNEL, CREATED_AT, OWNER, Clock, add_video, api_video


async def test_insert_stores_the_job_as_given(videos: VideoRepository, clock: Clock) -> None:
    await add_video(videos, "video_1")
    video = api_video("video_2", status="in_progress", progress=5, prompt=None)
    inserted = await videos.insert(
        video,
        owner_id=OWNER,
        guild_id=None,
        channel_id=CHANNEL,
        kind="remix",
        prompt="the same cat, at night",
        model="sora-2",
        size="720x1280",
        seconds="4",
        parent_id="video_1",
        cost=1.2,
    )
    assert inserted == VideoRow(
        key=2,
        id="video_2",
        owner_id=OWNER,
        guild_id=None,
        channel_id=CHANNEL,
        status_message_id=None,
        kind="remix",
        parent_id="video_1",
        prompt="the same cat, at night",
        model="sora-2",
        size="1280x720",
        seconds="8",
        status="in_progress",
        progress=5,
        error_code=None,
        error_message=None,
        cost=1.2,
        created_at=CREATED_AT,
        updated_at=clock.now,
        completed_at=None,
        expires_at=None,
        delivered_at=None,
        deleted_at=None,
    )
    assert await videos.get("video_2") == inserted
    assert not inserted.finished


async def test_an_id_is_inserted_once(videos: VideoRepository) -> None:
    await add_video(videos, "video_1")
    with pytest.raises(IntegrityError):
        await add_video(videos, "video_1")


async def test_get_of_an_unknown_id_is_none(videos: VideoRepository) -> None:
    assert await videos.get("video_unknown") is None


async def test_set_status_message(videos: VideoRepository, clock: Clock) -> None:
    await add_video(videos, "video_1")
    clock.now += 1
    await videos.set_status_message("video_1", channel_id=77, message_id=88)
    row = await videos.get("video_1")
    assert row is not None
    assert (row.channel_id, row.status_message_id, row.updated_at) == (77, 88, clock.now)


async def test_refresh_reports_visible_changes_only(videos: VideoRepository) -> None:
    await add_video(videos, "video_1")
    assert await videos.apply_refresh(api_video("video_1", status="in_progress", progress=10))
    assert not await videos.apply_refresh(api_video("video_1", status="in_progress", progress=10))
    # Stored, but the status card shows no expiry while the job runs.
    assert not await videos.apply_refresh(
        api_video("video_1", status="in_progress", progress=10, expires_at=CREATED_AT + 3600)
    )
    row = await videos.get("video_1")
    assert row is not None
    assert (row.status, row.progress, row.expires_at) == ("in_progress", 10, CREATED_AT + 3600)


async def test_refresh_to_completed(videos: VideoRepository, clock: Clock) -> None:
    await add_video(videos, "video_1")
    clock.now += 60
    done = api_video(
        "video_1",
        status="completed",
        progress=100,
        completed_at=CREATED_AT + 50,
        expires_at=CREATED_AT + 3600,
    )
    assert await videos.apply_refresh(done)
    row = await videos.get("video_1")
    assert row is not None
    assert row.finished
    assert (row.status, row.progress, row.completed_at, row.expires_at, row.updated_at) == (
        "completed",
        100,
        CREATED_AT + 50,
        CREATED_AT + 3600,
        clock.now,
    )


async def test_refresh_to_failed_stores_the_error(videos: VideoRepository) -> None:
    await add_video(videos, "video_1")
    failed = api_video(
        "video_1", status="failed", error={"code": "moderation_blocked", "message": "blocked"}
    )
    assert await videos.apply_refresh(failed)
    row = await videos.get("video_1")
    assert row is not None
    assert (row.status, row.error_code, row.error_message) == (
        "failed",
        "moderation_blocked",
        "blocked",
    )


@pytest.mark.parametrize(
    ("stored", "stale"),
    [
        (("in_progress", 50), ("in_progress", 40)),
        (("in_progress", 50), ("queued", 0)),
        (("completed", 100), ("in_progress", 90)),
        (("failed", 10), ("completed", 100)),
    ],
)
async def test_refresh_never_moves_a_job_backwards(
    videos: VideoRepository,
    stored: tuple[VideoStatus, int],
    stale: tuple[VideoStatus, int],
) -> None:
    before = await add_video(videos, "video_1", status=stored[0], progress=stored[1])
    assert not await videos.apply_refresh(api_video("video_1", status=stale[0], progress=stale[1]))
    assert await videos.get("video_1") == before


async def test_refresh_of_an_unknown_id_changes_nothing(videos: VideoRepository) -> None:
    assert not await videos.apply_refresh(api_video("video_unknown", status="completed"))
    assert await videos.get("video_unknown") is None


async def test_mark_failed_only_fails_unfinished_jobs(videos: VideoRepository) -> None:
    await add_video(videos, "video_1", status="in_progress", progress=30)
    completed = await add_video(videos, "video_2", status="completed", progress=100)

    assert await videos.mark_failed("video_1", "vanished", "the API no longer knows this job")
    assert not await videos.mark_failed("video_2", "vanished", "too late")

    row = await videos.get("video_1")
    assert row is not None
    assert (row.status, row.error_code, row.error_message) == (
        "failed",
        "vanished",
        "the API no longer knows this job",
    )
    assert await videos.get("video_2") == completed


async def test_mark_delivered_needs_a_finished_job(videos: VideoRepository) -> None:
    await add_video(videos, "video_1", status="in_progress")
    assert not await videos.mark_delivered("video_1")
    assert not await videos.mark_delivered("video_unknown")


async def test_mark_delivered_succeeds_exactly_once(videos: VideoRepository, clock: Clock) -> None:
    await add_video(videos, "video_1", status="completed", progress=100)
    results = await asyncio.gather(*(videos.mark_delivered("video_1") for _ in range(10)))
    assert results.count(True) == 1
    assert not await videos.mark_delivered("video_1")
    row = await videos.get("video_1")
    assert row is not None
    assert row.delivered_at == clock.now


async def test_mark_deleted_is_idempotent(videos: VideoRepository, clock: Clock) -> None:
    await add_video(videos, "video_1")
    assert await videos.mark_deleted("video_1")
    first = await videos.get("video_1")
    clock.now += 5
    assert not await videos.mark_deleted("video_1")
    assert await videos.get("video_1") == first
    assert first is not None
    assert first.deleted_at is not None


async def test_pending_survives_a_restart(db: Database, open_db: OpenDb, clock: Clock) -> None:
    videos = VideoRepository(db, clock=clock)
    await add_video(videos, "queued", created_at=CREATED_AT + 3)
    await add_video(videos, "running", status="in_progress", created_at=CREATED_AT + 1)
    await add_video(videos, "undelivered", status="completed", created_at=CREATED_AT + 2)
    await add_video(videos, "failed_undelivered", status="failed", created_at=CREATED_AT + 4)
    await add_video(videos, "delivered", status="completed")
    await videos.mark_delivered("delivered")
    await add_video(videos, "deleted", status="in_progress")
    await videos.mark_deleted("deleted")
    await db.close()

    async with await open_db() as reopened:
        pending = await VideoRepository(reopened).pending()
    assert [row.id for row in pending] == ["running", "undelivered", "queued", "failed_undelivered"]


async def test_pending_uses_its_partial_index(sqlite_db: SqliteDatabase) -> None:
    plan = await sqlite_db.fetch_all("EXPLAIN QUERY PLAN " + videos_module._PENDING)
    assert any("videos_pending" in row["detail"] for row in plan)


async def test_unfinished_keys_are_the_jobs_still_being_made(
    videos: VideoRepository,
) -> None:
    queued = await add_video(videos, "queued")
    running = await add_video(videos, "running", status="in_progress")
    await add_video(videos, "done", status="completed")
    await add_video(videos, "deleted", status="in_progress")
    await videos.mark_deleted("deleted")
    assert await videos.unfinished_keys() == {queued.key, running.key}
    ids = {row.id for row in await videos.by_keys([running.key, queued.key])}
    assert ids == {"queued", "running"}


async def test_changed_holds_the_holders_rows_written_after_a_time(
    db: Database, clock: Clock
) -> None:
    videos = VideoRepository(db, clock=clock)
    mine = await add_video(videos, "mine")
    theirs = await add_video(videos, "theirs")
    leases = LeaseRepository(db)
    for row, holder in ((mine, "a"), (theirs, "b")):
        assert await leases.claim(row.key, holder, clock.now + 60, clock.now)
    before = clock.now
    clock.now += 5
    await videos.apply_refreshes(
        {
            video_id: api_video(video_id, status="in_progress", progress=40)
            for video_id in ("mine", "theirs")
        }
    )
    assert [(row.id, row.progress) for row in await videos.changed("a", before)] == [("mine", 40)]
    assert await videos.changed("a", clock.now) == []
    # Delivered: nothing more to publish.
    await videos.apply_refresh(api_video("mine", status="completed", progress=100))
    assert [row.status for row in await videos.changed("a", before)] == ["completed"]
    await videos.mark_delivered("mine")
    assert await videos.changed("a", before) == []


def _count_statements(videos: VideoRepository) -> list[str]:
    """Record the SQL of every query the repository sends from now on."""
    sent: list[str] = []
    db = videos._db
    real = db.fetch_all

    async def recording(sql: str, params: Any = ()) -> list[Any]:
        sent.append(sql.split()[0])
        return await real(sql, params)

    db.fetch_all = recording  # type: ignore[method-assign]
    return sent


async def test_only_rows_that_changed_are_written_and_known_rows_are_not_read(
    videos: VideoRepository, clock: Clock
) -> None:
    known = {
        video_id: await add_video(videos, video_id, status="in_progress", progress=10)
        for video_id in ("video_1", "video_2", "video_3")
    }
    clock.now += 5
    sent = _count_statements(videos)
    answers = {
        "video_1": api_video("video_1", status="in_progress", progress=10),
        "video_2": api_video("video_2", status="in_progress", progress=40),
        "video_3": api_video("video_3", status="in_progress", progress=10),
    }
    [(row, shown)] = await videos.store_refreshes(answers, known)
    assert (row.id, row.progress, row.updated_at, shown) == ("video_2", 40, clock.now, True)
    assert sent == ["WITH"]  # one UPDATE, no SELECT
    unchanged = await videos.get("video_1")
    assert unchanged == known["video_1"]


async def test_rows_not_known_are_read_in_one_query(videos: VideoRepository) -> None:
    for n in range(3):
        await add_video(videos, f"video_{n}")
    sent = _count_statements(videos)
    answers = {f"video_{n}": api_video(f"video_{n}", status="in_progress") for n in range(3)}
    assert len(await videos.apply_refreshes(answers)) == 3
    assert sent == ["SELECT", "WITH"]


async def test_a_hundred_rows_a_statement(videos: VideoRepository) -> None:
    known = {f"video_{n}": await add_video(videos, f"video_{n}") for n in range(150)}
    sent = _count_statements(videos)
    answers = {video_id: api_video(video_id, status="in_progress") for video_id in known}
    assert len(await videos.apply_refreshes(answers, known)) == 150
    assert sent == ["WITH", "WITH"]


async def test_an_out_of_date_known_row_never_moves_a_job_backwards(
    videos: VideoRepository,
) -> None:
    stale = await add_video(videos, "video_1", status="in_progress", progress=10)
    await videos.apply_refresh(api_video("video_1", status="completed", progress=100))
    done = await videos.get("video_1")
    # The caller still thinks it runs at 10%; the stored row is finished and stays so.
    answer = {"video_1": api_video("video_1", status="in_progress", progress=50)}
    assert await videos.apply_refreshes(answer, {"video_1": stale}) == []
    assert await videos.get("video_1") == done


async def test_failover_send_again_moves_a_submitting_row_before_its_call(
    videos: VideoRepository, clock: Clock
) -> None:
    row = await videos.begin_submit(
        owner_id=OWNER,
        guild_id=None,
        channel_id=CHANNEL,
        kind="create",
        prompt="a kite",
        model="veo-3.1-fast",
        size="720x1280",
        seconds="4",
        provider="lab",
    )
    clock.now += 5
    moved = await videos.send_again(
        row, '[["lab", "credits"]]', provider="openrouter", model="google/veo-3.1-fast"
    )
    assert moved is not None
    assert (moved.key, moved.provider, moved.model, moved.handoff) == (
        row.key,
        "openrouter",
        "google/veo-3.1-fast",
        '[["lab", "credits"]]',
    )
    # Out since the new call: a lost answer is matched from then, at the new provider.
    assert moved.submitting_since == clock.now
    again = await videos.send_again(moved, '[["lab", "credits"], ["openrouter", "again"]]')
    assert again is not None
    assert (again.provider, again.model) == ("openrouter", "google/veo-3.1-fast")


async def test_failover_send_again_leaves_a_row_no_longer_submitting(
    videos: VideoRepository,
) -> None:
    row = await add_video(videos, "video_made")
    assert await videos.send_again(row, '[["lab", "again"]]', provider="other") is None
    stored = await videos.get("video_made")
    assert stored is not None
    assert (stored.provider, stored.handoff) == (row.provider, None)
