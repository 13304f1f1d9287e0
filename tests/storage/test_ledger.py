"""Reserve, then settle: limits checked and seconds reserved in the transaction of the row."""

from __future__ import annotations

import asyncio
import datetime
from dataclasses import replace

import pytest

from bot.spending.limits import Ask, Limits, Refuse, Start, Wait
from bot.storage import (
    Database,
    IntegrityError,
    LedgerRepository,
    NewJob,
    VideoRepository,
    VideoRow,
)

from .conftest import OpenDb
from .helpers import GUILD, MEMBER, OTHER_GUILD, OWNER, Clock, api_video

PRICE = 100_000  # $0.10 a second, in micro-dollars
OPEN = Limits(
    jobs_per_user=None,
    jobs_per_guild=None,
    daily_seconds_per_user=None,
    daily_seconds_per_guild=None,
    monthly_budget_micros=None,
)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> float:
    return datetime.datetime(
        year, month, day, hour, minute, second, tzinfo=datetime.UTC
    ).timestamp()


def job(owner: int = OWNER, guild: int | None = GUILD, seconds: int = 4) -> NewJob:
    return NewJob(
        owner_id=owner,
        guild_id=guild,
        channel_id=1,
        kind="create",
        prompt="a lighthouse",
        model="sora-2",
        size="720x1280",
        seconds=str(seconds),
        parent_id=None,
        with_image=False,
        ask=Ask(seconds, seconds * PRICE),
        micros_per_second=PRICE,
    )


async def admitted(ledger: LedgerRepository, new: NewJob, limits: Limits) -> VideoRow:
    """The row of a job that passed the limits (started or waiting)."""
    row = (await ledger.admit(new, limits)).row
    assert row is not None
    return row


@pytest.fixture
def ledger(db: Database, videos: VideoRepository, clock: Clock) -> LedgerRepository:
    return LedgerRepository(db, videos, clock=clock)


async def entry_rows(db: Database) -> list[tuple[object, ...]]:
    rows = await db.fetch_all("SELECT video_key, state, seconds, micros FROM ledger ORDER BY id")
    return [tuple(row) for row in rows]


async def test_a_job_that_may_start_gets_its_row_and_its_reservation_together(
    ledger: LedgerRepository, videos: VideoRepository
) -> None:
    admission = await ledger.admit(job(), OPEN)
    assert admission.verdict == Start()
    row = admission.row
    assert row is not None
    assert row.submitting_since is not None
    assert not row.waiting
    assert row.cost == pytest.approx(0.4)
    entry = await ledger.open_entry(row.key)
    assert entry is not None
    assert (entry.user_id, entry.scope_id, entry.seconds, entry.micros) == (
        OWNER,
        GUILD,
        4,
        400_000,
    )


async def test_a_failing_reservation_leaves_no_row(
    db: Database, ledger: LedgerRepository, videos: VideoRepository
) -> None:
    # A negative price breaks the ledger's CHECK after the row was written: both roll back.
    broken = replace(job(), micros_per_second=-1)
    with pytest.raises(IntegrityError):
        await ledger.admit(broken, OPEN)
    assert await videos.submitting() == []
    assert await entry_rows(db) == []


@pytest.mark.parametrize(("budget", "started"), [(800_000, 2), (799_999, 1), (0, 0)])
async def test_budget_exactly_at_the_limit_and_one_over(
    ledger: LedgerRepository, budget: int, started: int
) -> None:
    chosen = replace(OPEN, monthly_budget_micros=budget)
    verdicts = [(await ledger.admit(job(), chosen)).verdict for _ in range(3)]
    assert verdicts[:started] == [Start()] * started
    refused = verdicts[started]
    assert isinstance(refused, Refuse)
    assert refused.limit == "budget"
    assert refused.allowed == budget
    assert refused.left == budget - 400_000 * started
    assert refused.asked == 400_000


async def test_daily_seconds_reset_when_the_utc_day_turns(
    ledger: LedgerRepository, clock: Clock
) -> None:
    chosen = replace(OPEN, daily_seconds_per_user=8)
    clock.now = utc(2026, 12, 14, 0, 0, 0)
    assert (await ledger.admit(job(), chosen)).verdict == Start()
    clock.now = utc(2026, 12, 14, 23, 59, 58)
    assert (await ledger.admit(job(), chosen)).verdict == Start()  # exactly 8 of 8
    clock.now = utc(2026, 12, 14, 23, 59, 59)
    refused = (await ledger.admit(job(), chosen)).verdict
    assert refused == Refuse("user_seconds", allowed=8, left=0, asked=4)
    # Another member's day is their own; the server's day counts everyone.
    assert (await ledger.admit(job(owner=MEMBER), chosen)).verdict == Start()
    clock.now = utc(2026, 12, 15, 0, 0, 0)
    assert (await ledger.admit(job(), chosen)).verdict == Start()


async def test_the_servers_seconds_per_day_count_every_member(
    ledger: LedgerRepository,
) -> None:
    chosen = replace(OPEN, daily_seconds_per_guild=8)
    assert (await ledger.admit(job(owner=OWNER), chosen)).verdict == Start()
    assert (await ledger.admit(job(owner=MEMBER), chosen)).verdict == Start()
    refused = (await ledger.admit(job(owner=MEMBER + 1), chosen)).verdict
    assert refused == Refuse("guild_seconds", allowed=8, left=0, asked=4)
    # Another server has its own.
    assert (await ledger.admit(job(guild=OTHER_GUILD), chosen)).verdict == Start()


async def test_the_budget_resets_when_the_month_turns(
    ledger: LedgerRepository, clock: Clock
) -> None:
    chosen = replace(OPEN, monthly_budget_micros=400_000)
    clock.now = utc(2026, 12, 1)
    assert (await ledger.admit(job(), chosen)).verdict == Start()
    clock.now = utc(2026, 12, 31, 23, 59, 59)
    assert isinstance((await ledger.admit(job(), chosen)).verdict, Refuse)
    clock.now = utc(2027, 1, 1)
    assert (await ledger.admit(job(), chosen)).verdict == Start()


async def test_abandon_and_unconfirmed_release_and_keep_the_entry(
    db: Database, ledger: LedgerRepository, videos: VideoRepository
) -> None:
    chosen = replace(OPEN, monthly_budget_micros=400_000)
    first = await admitted(ledger, job(), chosen)
    assert isinstance((await ledger.admit(job(), chosen)).verdict, Refuse)
    assert await ledger.abandon(first.key)
    assert await videos.get_by_key(first.key) is None
    # The history keeps it (released, its row gone), and the budget has room again.
    assert await entry_rows(db) == [(None, "released", 4, 400_000)]
    second = await admitted(ledger, job(), chosen)
    failed = await ledger.unconfirmed(second.key, "not_confirmed", "no answer")
    assert failed is not None
    assert failed.status == "failed"
    assert (await entry_rows(db))[-1] == (second.key, "released", 4, 400_000)
    assert (await ledger.admit(job(), chosen)).verdict == Start()


async def test_settled_at_the_reported_seconds_once(
    ledger: LedgerRepository, videos: VideoRepository
) -> None:
    row = await admitted(ledger, job(seconds=4), OPEN)
    assert await ledger.settle(row.key, 8) == 800_000
    assert await ledger.settle(row.key, 12) is None  # settled already
    assert not await ledger.release(row.key)
    [entry] = await ledger.entries_for(row.key)
    assert (entry.state, entry.seconds, entry.micros) == ("settled", 8, 800_000)
    stored = await videos.get_by_key(row.key)
    assert stored is not None
    assert stored.cost == pytest.approx(0.8)


async def test_a_soft_deleted_video_keeps_its_cost(
    ledger: LedgerRepository, videos: VideoRepository
) -> None:
    row = await admitted(ledger, job(), OPEN)
    confirmed = await videos.confirm(row.key, api_video("video_9", status="completed"))
    assert confirmed is not None
    await ledger.settle(row.key, 4)
    assert await videos.mark_deleted("video_9")
    month = await ledger.month(GUILD)
    assert month.spent_micros == 400_000


async def test_100_concurrent_requests_against_a_budget_that_fits_10(
    ledger: LedgerRepository,
) -> None:
    chosen = replace(OPEN, monthly_budget_micros=10 * 400_000)
    admissions = await asyncio.gather(
        *(ledger.admit(job(owner=1000 + n), chosen) for n in range(100))
    )
    verdicts = [a.verdict for a in admissions]
    assert verdicts.count(Start()) == 10
    assert sum(isinstance(v, Refuse) for v in verdicts) == 90
    assert all(a.row is None for a in admissions if isinstance(a.verdict, Refuse))


async def test_a_burst_across_many_servers_cannot_overspend_the_bot_budget(
    open_db: OpenDb, ledger: LedgerRepository, clock: Clock
) -> None:
    # Every server and direct messages share the operator's $4.00; no server has a budget.
    chosen = replace(OPEN, bot_monthly_budget_micros=10 * 400_000)
    others = [await open_db() for _ in range(3)]
    try:
        ledgers = [
            ledger,
            *(LedgerRepository(d, VideoRepository(d, clock=clock), clock=clock) for d in others),
        ]
        admissions = await asyncio.gather(
            *(
                ledgers[n % len(ledgers)].admit(
                    job(owner=1000 + n, guild=None if n % 10 == 0 else 50_000 + n), chosen
                )
                for n in range(100)
            )
        )
    finally:
        for database in others:
            await database.close()
    verdicts = [a.verdict for a in admissions]
    assert verdicts.count(Start()) == 10
    refusals = [v for v in verdicts if isinstance(v, Refuse)]
    assert len(refusals) == 90
    assert {r.limit for r in refusals} == {"bot_budget"}


async def test_the_bot_budget_counts_every_scope_and_not_what_was_released(
    ledger: LedgerRepository,
) -> None:
    chosen = replace(OPEN, bot_monthly_budget_micros=1_000_000)
    first = await admitted(ledger, job(guild=GUILD), chosen)
    await admitted(ledger, job(guild=None), chosen)
    assert (await ledger.admit(job(guild=OTHER_GUILD), chosen)).verdict == Refuse(
        "bot_budget", allowed=1_000_000, left=200_000, asked=400_000
    )
    await ledger.release(first.key)
    assert (await ledger.admit(job(guild=OTHER_GUILD), chosen)).verdict == Start()


async def test_a_full_slot_waits_holding_its_reservation(
    ledger: LedgerRepository, videos: VideoRepository
) -> None:
    chosen = replace(OPEN, jobs_per_user=1, monthly_budget_micros=800_000)
    assert (await ledger.admit(job(), chosen)).verdict == Start()
    admission = await ledger.admit(job(), chosen)
    assert admission.verdict == Wait(1)
    row = admission.row
    assert row is not None
    assert row.waiting
    assert (await ledger.open_entry(row.key)) is not None
    # The waiting job's reservation counts: the budget is spent.
    assert isinstance((await ledger.admit(job(owner=MEMBER), chosen)).verdict, Refuse)
    # A refusal for money comes first, even when the slot is also full.
    assert (await ledger.admit(job(), chosen)).verdict == Refuse(
        "budget", allowed=800_000, left=0, asked=400_000
    )
    assert [r.key for r in await videos.waiting_rows()] == [row.key]


async def test_waiting_jobs_start_in_order_when_slots_free(
    ledger: LedgerRepository, videos: VideoRepository
) -> None:
    chosen = replace(OPEN, jobs_per_user=1, jobs_per_guild=2)
    running = await admitted(ledger, job(owner=OWNER), chosen)
    a = await admitted(ledger, job(owner=OWNER), chosen)  # waits: Owner's slot
    b = await admitted(ledger, job(owner=MEMBER), chosen)  # starts: a slot of the server
    c = await admitted(ledger, job(owner=MEMBER + 1), chosen)  # waits: the server is full
    d = await admitted(ledger, job(owner=MEMBER + 2), chosen)  # waits behind c
    assert (a.waiting, b.waiting, c.waiting, d.waiting) == (True, False, True, True)
    assert [(r.key, n) for r, n in await ledger.line()] == [(a.key, 1), (c.key, 2), (d.key, 3)]
    assert await ledger.start_waiting({GUILD: chosen}) == []

    # Owner's job ends: a may go (Owner's slot and a server slot are free).
    await videos.confirm(running.key, api_video("video_r", status="completed"))
    started = await ledger.start_waiting({GUILD: chosen})
    assert [r.key for r in started] == [a.key]
    assert started[0].submitting_since is not None
    # Member's job ends: c, the first in line, gets the server's slot; d waits.
    await videos.confirm(b.key, api_video("video_b", status="failed"))
    assert [r.key for r in await ledger.start_waiting({GUILD: chosen})] == [c.key]
    assert [(r.key, n) for r, n in await ledger.line()] == [(d.key, 1)]


async def test_a_newcomer_does_not_jump_a_line_waiting_for_the_servers_slot(
    ledger: LedgerRepository, videos: VideoRepository
) -> None:
    chosen = replace(OPEN, jobs_per_guild=1)
    running = await admitted(ledger, job(owner=OWNER), chosen)
    assert (await ledger.admit(job(owner=MEMBER), chosen)).verdict == Wait(1)
    # The slot frees, but the line has not moved yet: the newcomer queues behind.
    await videos.confirm(running.key, api_video("video_r", status="completed"))
    assert (await ledger.admit(job(owner=MEMBER + 1), chosen)).verdict == Wait(2)


async def test_a_job_of_another_process_keeps_its_place_and_its_slot(
    ledger: LedgerRepository, videos: VideoRepository
) -> None:
    chosen = replace(OPEN, jobs_per_guild=1)
    running = await admitted(ledger, job(owner=OWNER), chosen)
    theirs = await admitted(ledger, job(owner=MEMBER), chosen)
    ours = await admitted(ledger, job(owner=MEMBER + 1), chosen)
    await videos.confirm(running.key, api_video("video_r", status="completed"))
    assert await ledger.start_waiting({GUILD: chosen}, startable={ours.key}) == []
    assert [r.key for r, _ in await ledger.line()] == [theirs.key, ours.key]
    started = await ledger.start_waiting({GUILD: chosen}, startable={theirs.key})
    assert [r.key for r in started] == [theirs.key]


async def test_processes_racing_for_the_line_start_each_job_once(
    open_db: OpenDb, db: Database, ledger: LedgerRepository, videos: VideoRepository
) -> None:
    chosen = replace(OPEN, jobs_per_user=1)
    owners = (OWNER, MEMBER)
    running = [await admitted(ledger, job(owner=owner), chosen) for owner in owners]
    queued = [await admitted(ledger, job(owner=owner), chosen) for owner in owners]
    for n, row in enumerate(running):
        await videos.confirm(row.key, api_video(f"video_{n}", status="completed"))
    others = [await open_db() for _ in range(3)]
    try:
        ledgers = [ledger, *(LedgerRepository(d, VideoRepository(d)) for d in others)]
        results = await asyncio.gather(*(one.start_waiting({GUILD: chosen}) for one in ledgers))
    finally:
        for database in others:
            await database.close()
    started = sorted(row.key for rows in results for row in rows)
    # Each job goes from waiting to submitting once, whoever looked: its call is sent once.
    assert started == sorted(row.key for row in queued)


async def test_cancel_releases_a_waiting_job_only(
    db: Database, ledger: LedgerRepository, videos: VideoRepository
) -> None:
    chosen = replace(OPEN, jobs_per_user=1)
    running = await admitted(ledger, job(), chosen)
    queued = await admitted(ledger, job(), chosen)
    assert not await ledger.cancel(running.key)  # not waiting: not cancelled
    assert await ledger.cancel(queued.key)
    assert not await ledger.cancel(queued.key)
    assert await entry_rows(db) == [
        (running.key, "reserved", 4, 400_000),
        (None, "released", 4, 400_000),
    ]


async def test_reset_a_members_day_keeps_the_month(ledger: LedgerRepository, clock: Clock) -> None:
    chosen = replace(OPEN, daily_seconds_per_user=4)
    assert (await ledger.admit(job(), chosen)).verdict == Start()
    assert isinstance((await ledger.admit(job(), chosen)).verdict, Refuse)
    clock.now += 1
    await ledger.reset_day(GUILD, OWNER)
    assert await ledger.user_today_and_month(GUILD, OWNER) == (0, 400_000)
    assert (await ledger.admit(job(), chosen)).verdict == Start()
    assert await ledger.user_today_and_month(GUILD, OWNER) == (4, 800_000)


async def test_the_month_of_a_server(ledger: LedgerRepository, clock: Clock) -> None:
    clock.now = utc(2026, 12, 2, 10)
    one = await admitted(ledger, job(owner=OWNER, seconds=8), OPEN)
    clock.now = utc(2026, 12, 3, 10)
    await admitted(ledger, job(owner=MEMBER, seconds=4), OPEN)
    failed = await admitted(ledger, job(owner=MEMBER, seconds=12), OPEN)
    await ledger.settle(one.key, 8)
    await ledger.release(failed.key)
    clock.now = utc(2026, 11, 30, 10)  # another month: not counted
    await ledger.admit(job(owner=OWNER), OPEN)
    clock.now = utc(2026, 12, 3, 12)
    month = await ledger.month(GUILD)
    assert month.spent_micros == 800_000
    assert month.held_micros == 400_000
    assert month.seconds_today == 4
    assert [(s.user_id, s.micros, s.seconds) for s in month.top] == [
        (OWNER, 800_000, 8),
        (MEMBER, 400_000, 4),
    ]
    assert len(month.by_day) == 31
    assert month.by_day["2026-12-02"] == 800_000
    assert month.by_day["2026-12-03"] == 400_000
    assert sum(month.by_day.values()) == 1_200_000
