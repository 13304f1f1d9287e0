"""Lease rows: one holder per job at a time, taken over once the holder stops renewing."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from bot.storage import Database, LeaseRepository, ReplyRepository, VideoRepository
from tests.storage.counting import CountingDatabase

from .conftest import OpenDb
from .helpers import CHANNEL, CREATED_AT, GUILD, OWNER, Clock, add_video, api_video

TTL = 20.0
# Past every row's updated_at by more than a lease term: unleased jobs are free.
NOW = CREATED_AT + 1_000.0
# A job whose row is written before its billable call.
NOT_SENT: dict[str, Any] = {
    "owner_id": OWNER,
    "guild_id": GUILD,
    "channel_id": CHANNEL,
    "kind": "create",
    "prompt": "not sent yet",
    "model": "sora-2",
    "size": "720x1280",
    "seconds": "4",
}


async def keys(videos: VideoRepository, *ids: str) -> list[int]:
    return [(await add_video(videos, video_id)).key for video_id in ids]


async def take(
    leases: LeaseRepository, holder: str, limit: int = 100, now: float = NOW
) -> set[int]:
    return set(await leases.claim_free(holder, now + TTL, now, limit, unleased_before=now - TTL))


async def test_a_job_has_one_holder_until_its_lease_runs_out(
    db: Database, videos: VideoRepository
) -> None:
    leases = LeaseRepository(db)
    [key] = await keys(videos, "video_1")
    assert await leases.claim(key, "a", NOW + TTL, NOW) == 1
    assert await leases.claim(key, "a", NOW + TTL, NOW) == 1  # its own again: renewed
    assert await leases.claim(key, "b", NOW + 1 + TTL, NOW + 1) is None
    assert await leases.holds(key, "a", 1, NOW + 1)
    assert not await leases.holds(key, "b", 1, NOW + 1)
    # "a" stopped renewing: once the lease ran out, "b" may take the job.
    later = NOW + TTL + 1
    assert not await leases.holds(key, "a", 1, later)
    assert await leases.claim(key, "b", later + TTL, later) == 2
    assert await leases.holds(key, "b", 2, later)


async def test_every_grant_to_a_holder_that_did_not_hold_the_lease_raises_its_number(
    db: Database, videos: VideoRepository
) -> None:
    leases = LeaseRepository(db)
    [key] = await keys(videos, "video_1")
    assert await leases.claim(key, "a", NOW + TTL, NOW) == 1
    # "a" stalled past its lease; "b" took the job: "a"'s number no longer writes.
    later = NOW + TTL + 1
    assert await take(leases, "b", now=later) == {key}
    assert not await leases.holds(key, "a", 1, later)
    assert not await leases.holds(key, "b", 1, later)
    assert await leases.holds(key, "b", 2, later)
    # A grant to the same holder after its lease ran out is a new grant too.
    latest = later + TTL + 1
    assert await leases.claim(key, "b", latest + TTL, latest) == 3
    assert not await leases.holds(key, "b", 2, latest)
    assert await leases.holds(key, "b", 3, latest)


async def test_claim_free_takes_only_undelivered_jobs_nobody_holds(
    db: Database, videos: VideoRepository
) -> None:
    leases = LeaseRepository(db)
    held, free, dead = await keys(videos, "held", "free", "dead")
    await add_video(videos, "delivered", status="completed")
    await videos.mark_delivered("delivered")
    await leases.claim(held, "a", NOW + TTL, NOW)
    await leases.claim(dead, "gone", NOW - 1, NOW - TTL)
    assert await take(leases, "b") == {
        free,
        dead,
    }
    assert await take(leases, "c") == set()
    assert await take(leases, "a") == set()  # its own are not new


async def test_claim_free_takes_at_most_the_batch(db: Database, videos: VideoRepository) -> None:
    leases = LeaseRepository(db)
    await keys(videos, "one", "two", "three")
    first = await take(leases, "a", limit=2)
    second = await take(leases, "b", limit=2)
    assert (len(first), len(second)) == (2, 1)
    assert not first & second


async def test_renew_keeps_live_leases_and_drops_finished_jobs(
    db: Database, videos: VideoRepository
) -> None:
    leases = LeaseRepository(db)
    running, done, lapsed = await keys(videos, "running", "done", "lapsed")
    for key in (running, done):
        await leases.claim(key, "a", NOW + TTL, NOW)
    await leases.claim(lapsed, "a", NOW + 1, NOW)
    await videos.apply_refresh(api_video("done", status="completed", progress=100))
    await videos.mark_delivered("done")
    assert await leases.renew("a", NOW + 2 + TTL, NOW + 2) == {running}
    assert not await leases.holds(done, "a", 1, NOW + 2)
    # The lapsed one was not renewed: another process may hold it by now.
    assert await leases.claim(lapsed, "b", NOW + 2 + TTL, NOW + 2)


async def test_a_renewal_is_one_statement_unless_a_job_finished_since(
    db: Database, videos: VideoRepository
) -> None:
    counting = CountingDatabase(db)
    leases = LeaseRepository(counting)
    running, done = await keys(videos, "running", "done")
    for key in (running, done):
        await leases.claim(key, "a", NOW + TTL, NOW)

    counting.queries = 0
    assert await leases.renew("a", NOW + 1 + TTL, NOW + 1) == {running, done}
    assert counting.queries == 1
    # A round that finds a job finished also drops its lease: one statement more, that round.
    await videos.apply_refresh(api_video("done", status="completed", progress=100))
    await videos.mark_delivered("done")
    counting.queries = 0
    assert await leases.renew("a", NOW + 2 + TTL, NOW + 2) == {running}
    assert counting.queries == 2
    counting.queries = 0
    assert await leases.renew("a", NOW + 3 + TTL, NOW + 3) == {running}
    assert counting.queries == 1


async def test_a_round_of_upkeep_renews_takes_the_free_jobs_and_leads(
    db: Database, videos: VideoRepository
) -> None:
    counting = CountingDatabase(db)
    leases = LeaseRepository(counting)
    running, done, lapsed, theirs, free = await keys(
        videos, "running", "done", "lapsed", "theirs", "free"
    )
    for key in (running, done):
        await leases.claim(key, "a", NOW + TTL, NOW)
    await leases.claim(lapsed, "a", NOW + 1, NOW)
    await leases.claim(theirs, "b", NOW + TTL, NOW)
    assert await leases.lead("b", NOW + 1, NOW)
    await videos.apply_refresh(api_video("done", status="completed", progress=100))
    await videos.mark_delivered("done")

    counting.queries = 0
    later = NOW + 2
    upkeep = await leases.upkeep("a", later + TTL, later, 100, unleased_before=later - TTL)
    # The finished job's lease is dropped; the lapsed one is granted again under a new number.
    assert upkeep.held == {running}
    assert upkeep.granted == {lapsed: 2, free: 1}
    assert upkeep.leading  # "b" led until NOW + 1
    # On PostgreSQL two statements, and one to drop the finished job's lease.
    assert counting.queries == (3 if db.shared else 4)
    assert await leases.holds(running, "a", 1, later + TTL)
    assert not await leases.holds(done, "a", 1, later)
    assert await leases.holds(theirs, "b", 1, later)

    counting.queries = 0
    again = await leases.upkeep("a", later + 1 + TTL, later + 1, 100, unleased_before=later)
    assert again.held == {running, lapsed, free}
    assert again.granted == {}
    assert again.leading
    assert counting.queries == (2 if db.shared else 3)
    assert not await leases.lead("b", later + 2 + TTL, later + 2)


async def test_release_frees_every_lease_of_a_holder(db: Database, videos: VideoRepository) -> None:
    leases = LeaseRepository(db)
    first, second = await keys(videos, "one", "two")
    for key in (first, second):
        await leases.claim(key, "a", NOW + TTL, NOW)
    await leases.release("a")
    assert await take(leases, "b") == {
        first,
        second,
    }


async def test_a_new_unleased_job_is_left_to_its_starter_for_a_lease_term(
    db: Database, videos: VideoRepository, clock: Clock
) -> None:
    leases = LeaseRepository(db)
    [key] = await keys(videos, "just_started")
    now = clock.now + 1
    assert await take(leases, "b", now=now) == set()
    later = clock.now + TTL + 1
    assert await take(leases, "b", now=later) == {key}


async def test_racing_processes_never_share_a_job(
    open_db: OpenDb, db: Database, videos: VideoRepository
) -> None:
    many = await keys(videos, *(f"video_{n}" for n in range(60)))
    others = [await open_db() for _ in range(3)]
    try:
        repos = [LeaseRepository(database) for database in (db, *others)]
        # Each process looks twice at once (its own two looks may well return the same job).
        taken = await asyncio.gather(
            *(
                take(repo, f"holder_{n}", limit=len(many))
                for n, repo in enumerate(repos)
                for _ in (1, 2)
            )
        )
    finally:
        for database in others:
            await database.close()
    per_holder = [taken[n] | taken[n + 1] for n in range(0, len(taken), 2)]
    claimed = [key for keys_of_one in per_holder for key in keys_of_one]
    assert sorted(claimed) == sorted(many)  # every job to one process, none to two


async def test_one_process_leads_until_its_row_runs_out(db: Database) -> None:
    leases = LeaseRepository(db)
    assert await leases.lead("a", NOW + TTL, NOW)
    assert not await leases.lead("b", NOW + 1 + TTL, NOW + 1)
    assert await leases.lead("a", NOW + 2 + TTL, NOW + 2)  # its own again: renewed
    # "a" stopped renewing: once its row ran out, "b" leads and "a" no longer may.
    later = NOW + 3 + TTL
    assert await leases.lead("b", later + TTL, later)
    assert not await leases.lead("a", later + TTL, later)


async def test_release_gives_up_the_lead_at_once(db: Database) -> None:
    leases = LeaseRepository(db)
    assert await leases.lead("a", NOW + TTL, NOW)
    await leases.release("a")
    assert await leases.lead("b", NOW + 1 + TTL, NOW + 1)


async def test_racing_processes_never_both_lead(open_db: OpenDb, db: Database) -> None:
    others = [await open_db() for _ in range(3)]
    try:
        repos = [LeaseRepository(database) for database in (db, *others)]
        won = await asyncio.gather(
            *(repo.lead(f"holder_{n}", NOW + TTL, NOW) for n, repo in enumerate(repos))
        )
    finally:
        for database in others:
            await database.close()
    assert won.count(True) == 1


async def test_claim_free_leaves_jobs_not_sent_yet(db: Database, videos: VideoRepository) -> None:
    # A waiting job's id is a placeholder: a tracker following it would ask the provider for
    # it, hear 404 and fail the job while it still waits for its slot.
    leases = LeaseRepository(db)
    await videos.begin_submit(**NOT_SENT)
    await videos.begin_submit(**NOT_SENT, waiting=True)
    assert await take(leases, "b") == set()


async def test_claim_stranded_takes_calls_no_live_process_has_out(
    db: Database, videos: VideoRepository, clock: Clock
) -> None:
    leases = LeaseRepository(db)

    async def sent() -> int:
        return (await videos.begin_submit(**NOT_SENT)).key

    live, dead, released, unleased = [await sent() for _ in range(4)]
    await leases.claim(live, "a", NOW + TTL, NOW)
    await leases.claim(dead, "gone", NOW - 1, NOW - TTL)
    await leases.claim(released, "stopped", NOW + TTL, NOW)
    await leases.release("stopped")
    clock.now = NOW - 1
    young = await sent()
    await add_video(videos, "answered")

    def stranded(holder: str) -> Awaitable[dict[int, int]]:
        return leases.claim_stranded(holder, NOW + TTL, NOW, 100, sent_before=NOW - TTL)

    assert set(await stranded("b")) == {dead, released, unleased}
    assert await stranded("c") == {}  # one process recovers each
    # The young one may be a live process's call between writing its row and leasing it.
    assert not await leases.holds(young, "b", 1, NOW)


async def test_waiting_jobs_are_their_queuers_until_their_leases_run_out(
    db: Database, videos: VideoRepository
) -> None:
    leases = LeaseRepository(db)

    async def queued() -> int:
        return (await videos.begin_submit(**NOT_SENT, waiting=True)).key

    mine, theirs, dead, unleased = [await queued() for _ in range(4)]
    await leases.claim(mine, "a", NOW + TTL, NOW)
    await leases.claim(theirs, "b", NOW + TTL, NOW)
    await leases.claim(dead, "gone", NOW - 1, NOW - TTL)
    assert await leases.held_waiting("a", NOW) == {mine}
    adopted = await leases.adopt_waiting("a", NOW + TTL, NOW, 100, waiting_before=NOW - TTL)
    assert adopted == {dead: 2, unleased: 1}
    assert await leases.held_waiting("a", NOW) == {mine, dead, unleased}
    assert await leases.held_waiting("b", NOW) == {theirs}


async def test_a_deferred_replys_token_is_taken_once_and_only_while_usable(
    db: Database, videos: VideoRepository
) -> None:
    replies = ReplyRepository(db)
    kept, expired, never = await keys(videos, "video_1", "video_2", "video_3")
    await replies.keep(kept, "token-1", NOW + 900)
    await replies.keep(expired, "token-2", NOW - 1)
    assert await replies.take(kept, NOW) == "token-1"
    assert await replies.take(kept, NOW) is None  # read once: kept no longer
    assert await replies.take(expired, NOW) is None
    assert await replies.take(never, NOW) is None
    await replies.keep(kept, "token-3", NOW + 900)
    await replies.drop(kept)  # its card is up
    assert await replies.take(kept, NOW) is None
