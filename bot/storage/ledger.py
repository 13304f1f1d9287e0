"""The spending ledger: what each job reserved before its API call, and what it finally cost.

Every job that passes the limits gets one entry, written in the same transaction as its row
and the limit checks, so two requests racing for the last second of a budget never both pass.
An entry is `reserved` until the job ends: `settled` at the seconds the provider reports, or
`released` when nothing was made (refused, failed, cancelled). Entries are never deleted.
Money is integer micro-dollars (bot/spending/money.py).
"""

# SQL here is composed from constants only; every value goes in as a `?` parameter.
# ruff: noqa: S608

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Literal

from bot.spending import periods
from bot.spending.limits import Ask, Limits, Refuse, Usage, Verdict, Wait, decide, has_slot
from bot.spending.money import to_usd
from bot.storage.db import Database, Row, column_list
from bot.storage.videos import VideoKind, VideoRepository, VideoRow
from bot.videoapi.providers import DEFAULT_PROVIDER

Clock = Callable[[], float]
EntryState = Literal["reserved", "settled", "released"]


@dataclass(frozen=True, slots=True)
class Entry:
    id: int
    video_key: int | None  # None once the job's row is gone (abandoned, cancelled)
    scope_id: int
    user_id: int
    model: str
    micros_per_second: int
    seconds: int
    micros: int
    state: EntryState
    reserved_at: float
    closed_at: float | None


@dataclass(frozen=True, slots=True)
class NewJob:
    """A job asking to start, as its row will be written."""

    owner_id: int
    guild_id: int | None
    channel_id: int
    kind: VideoKind
    prompt: str
    model: str
    size: str
    seconds: str
    parent_id: str | None
    with_image: bool
    ask: Ask
    micros_per_second: int
    # The provider the job goes to (bot/videoapi/providers.py).
    provider: str = DEFAULT_PROVIDER

    @property
    def scope(self) -> int:
        return self.guild_id or 0


@dataclass(frozen=True, slots=True)
class Admission:
    verdict: Verdict
    usage: Usage
    # Submitting (Start) or waiting (Wait); None when refused.
    row: VideoRow | None


@dataclass(frozen=True, slots=True)
class Spender:
    user_id: int
    micros: int
    seconds: int


@dataclass(frozen=True, slots=True)
class Month:
    """A scope's month: settled spend, what running and waiting jobs hold, and who spent it."""

    spent_micros: int
    held_micros: int
    seconds_today: int
    top: list[Spender]
    by_day: dict[str, int]  # "YYYY-MM-DD" -> micros, settled and held


_COLUMNS = column_list(Entry)
_COUNTED = "state <> 'released'"
_INSERT = (
    "INSERT INTO ledger (video_key, scope_id, user_id, model, micros_per_second, seconds,"
    " micros, state, reserved_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'reserved', ?) RETURNING id"
)
_USER_SECONDS = (
    "SELECT COALESCE(SUM(seconds), 0) FROM ledger WHERE scope_id = ? AND user_id = ?"
    f" AND {_COUNTED} AND reserved_at >= ? AND reserved_at < ?"
)
_SCOPE_SUMS = (
    "SELECT COALESCE(SUM(seconds), 0), COALESCE(SUM(micros), 0) FROM ledger"
    f" WHERE scope_id = ? AND {_COUNTED} AND reserved_at >= ? AND reserved_at < ?"
)
# Every scope together, against the operator's budget for the whole bot.
_ALL_MICROS = (
    "SELECT COALESCE(SUM(micros), 0) FROM ledger"
    f" WHERE {_COUNTED} AND reserved_at >= ? AND reserved_at < ?"
)
_USER_MICROS = (
    "SELECT COALESCE(SUM(micros), 0) FROM ledger WHERE scope_id = ? AND user_id = ?"
    f" AND {_COUNTED} AND reserved_at >= ? AND reserved_at < ?"
)
_RESET_AT = "SELECT reset_at FROM day_resets WHERE scope_id = ? AND user_id = ?"
_RESET_DAY = (
    "INSERT INTO day_resets (scope_id, user_id, reset_at) VALUES (?, ?, ?)"
    " ON CONFLICT (scope_id, user_id) DO UPDATE SET reset_at = excluded.reset_at"
)
_OPEN = f"SELECT {_COLUMNS} FROM ledger WHERE video_key = ? AND state = 'reserved'"
_RELEASE = (
    "UPDATE ledger SET state = 'released', closed_at = ? WHERE video_key = ? AND state = 'reserved'"
)
_SETTLE = (
    "UPDATE ledger SET state = 'settled', seconds = ?, micros = ? * micros_per_second,"
    " closed_at = ? WHERE video_key = ? AND state = 'reserved' RETURNING micros"
)
# At the cost the provider reported, in micros.
_SETTLE_AT = (
    "UPDATE ledger SET state = 'settled', seconds = ?, micros = ?,"
    " closed_at = ? WHERE video_key = ? AND state = 'reserved' RETURNING micros"
)
_ALL_OPEN = f"SELECT {_COLUMNS} FROM ledger WHERE state = 'reserved' ORDER BY id"
_BY_KEY = f"SELECT {_COLUMNS} FROM ledger WHERE video_key = ? ORDER BY id"
_MONTH_STATES = (
    "SELECT state, COALESCE(SUM(micros), 0) FROM ledger"
    " WHERE scope_id = ? AND reserved_at >= ? AND reserved_at < ? GROUP BY state"
)
_TOP = (
    "SELECT user_id, COALESCE(SUM(micros), 0) AS spent, COALESCE(SUM(seconds), 0) FROM ledger"
    f" WHERE scope_id = ? AND {_COUNTED} AND reserved_at >= ? AND reserved_at < ?"
    " GROUP BY user_id ORDER BY spent DESC, user_id LIMIT ?"
)
_MONTH_ENTRIES = (
    "SELECT reserved_at, micros FROM ledger"
    f" WHERE scope_id = ? AND {_COUNTED} AND reserved_at >= ? AND reserved_at < ?"
)


def _entry(row: Row) -> Entry:
    return Entry(*row)


class LedgerRepository:
    def __init__(self, db: Database, videos: VideoRepository, *, clock: Clock = time.time) -> None:
        self._db = db
        self._videos = videos
        self._clock = clock

    # -- a job's reservation, next to its row's write-ahead steps ------------------------------

    async def admit(self, job: NewJob, limits: Limits) -> Admission:
        """Check every limit and, when the job may go on, write its row and its reservation.

        One transaction: nothing another request writes can come between the check and the
        reservation, in this server or (for the bot-wide budget) in any other. A job that may
        start gets a submitting row (its API call goes next); one that only lacks a slot gets a
        waiting row; a refused one gets nothing.
        """
        async with self._db.transaction():
            usage = await self._usage(job.scope, job.owner_id, limits)
            verdict = decide(limits, usage, job.ask)
            if isinstance(verdict, Refuse):
                return Admission(verdict, usage, None)
            row = await self._videos.begin_submit(
                owner_id=job.owner_id,
                guild_id=job.guild_id,
                channel_id=job.channel_id,
                kind=job.kind,
                prompt=job.prompt,
                model=job.model,
                size=job.size,
                seconds=job.seconds,
                parent_id=job.parent_id,
                cost=to_usd(job.ask.micros),
                with_image=job.with_image,
                waiting=isinstance(verdict, Wait),
                provider=job.provider,
            )
            await self._db.fetch_one(
                _INSERT,
                (
                    row.key,
                    job.scope,
                    job.owner_id,
                    job.model,
                    job.micros_per_second,
                    job.ask.seconds,
                    job.ask.micros,
                    self._clock(),
                ),
            )
            return Admission(verdict, usage, row)

    async def abandon(self, key: int) -> bool:
        """The provider refused the submitting job: its row goes, its reservation is released."""
        async with self._db.transaction():
            await self._release(key)
            return await self._videos.abandon(key)

    async def unconfirmed(self, key: int, code: str, message: str) -> VideoRow | None:
        """The submitting job ends failed (unanswered, or it could not start): released."""
        async with self._db.transaction():
            await self._release(key)
            return await self._videos.unconfirmed(key, code, message)

    async def cancel(self, key: int) -> bool:
        """A waiting job is cancelled: its reservation is released, its row goes.

        False when it is no longer waiting (it started meanwhile).
        """
        async with self._db.transaction():
            row = await self._videos.get_by_key(key)
            if row is None or not row.waiting:
                return False
            # Released while the entry still names the row (deleting it sets the key NULL).
            await self._release(key)
            return await self._videos.cancel(key)

    async def release(self, key: int) -> bool:
        """The job failed: what it reserved counts no more."""
        async with self._db.transaction():
            return await self._release(key)

    async def settle(self, key: int, seconds: int, reported: int | None = None) -> int | None:
        """The job completed with `seconds` generated: its cost from now on (None if settled).

        `reported` is the cost in micros the provider said it charged, which is then the cost.
        """
        now = self._clock()
        async with self._db.transaction():
            if reported is not None:
                row = await self._db.fetch_one(_SETTLE_AT, (seconds, reported, now, key))
            else:
                row = await self._db.fetch_one(_SETTLE, (seconds, seconds, now, key))
            if row is None:
                return None
            micros = int(row[0])
            await self._videos.set_cost(key, to_usd(micros))
            return micros

    async def _release(self, key: int) -> bool:
        return await self._db.execute(_RELEASE, (self._clock(), key)) == 1

    async def open_entry(self, key: int) -> Entry | None:
        row = await self._db.fetch_one(_OPEN, (key,))
        return _entry(row) if row else None

    async def entries_for(self, key: int) -> list[Entry]:
        return [_entry(row) for row in await self._db.fetch_all(_BY_KEY, (key,))]

    async def open_entries(self) -> list[Entry]:
        """Every reservation not yet settled or released (to reconcile on start)."""
        return [_entry(row) for row in await self._db.fetch_all(_ALL_OPEN)]

    # -- the line of waiting jobs --------------------------------------------------------------

    async def start_waiting(
        self,
        limits: Mapping[int, Limits],
        hold: Collection[int] = (),
        *,
        startable: Collection[int] | None = None,
    ) -> list[VideoRow]:
        """Give every waiting job whose slots are free its slot, first asked first; the rows
        returned are submitting (their API call goes next).

        A job waits behind the earlier ones it competes with: one whose owner is at their
        own limit does not hold up other members. Jobs in `hold` and in scopes missing from
        `limits` wait, and hold no slot from the jobs after them. Given `startable` (beside
        other processes: the jobs this one starts), any other job keeps its place and takes
        its slot, for its own process to start.
        """
        started: list[VideoRow] = []
        async with self._db.transaction():
            running = Counter(await self._videos.running())
            in_scope = Counter[int]()
            for (scope, _owner), count in running.items():
                in_scope[scope] += count
            for row in await self._videos.waiting_rows():
                chosen = limits.get(row.scope)
                if chosen is None or row.key in hold:
                    continue
                if not has_slot(chosen, running[(row.scope, row.owner_id)], in_scope[row.scope]):
                    continue
                if startable is None or row.key in startable:
                    # One conditional UPDATE: of processes racing for a job, one starts it.
                    submitting = await self._videos.stop_waiting(row.key)
                    if submitting is None:
                        continue
                    started.append(submitting)
                running[(row.scope, row.owner_id)] += 1
                in_scope[row.scope] += 1
        return started

    async def line(self) -> list[tuple[VideoRow, int]]:
        """Every waiting job and its place in its scope's line (1 is next)."""
        places: list[tuple[VideoRow, int]] = []
        seen = Counter[int]()
        for row in await self._videos.waiting_rows():
            seen[row.scope] += 1
            places.append((row, seen[row.scope]))
        return places

    # -- what has been used --------------------------------------------------------------------

    async def _usage(self, scope: int, user_id: int, limits: Limits) -> Usage:
        now = self._clock()
        today, month = periods.day(now), periods.month(now)
        user_seconds = await self._user_seconds_today(scope, user_id, now)
        day_row = await self._db.fetch_one(_SCOPE_SUMS, (scope, today.start, today.end))
        month_row = await self._db.fetch_one(_SCOPE_SUMS, (scope, month.start, month.end))
        # Aggregates always answer.
        assert day_row is not None
        assert month_row is not None
        bot_month = 0
        if limits.bot_monthly_budget_micros is not None:
            bot_row = await self._db.fetch_one(_ALL_MICROS, (month.start, month.end))
            assert bot_row is not None
            bot_month = int(bot_row[0])
        running = await self._videos.running()
        per_owner = {owner: n for (s, owner), n in running.items() if s == scope}
        line = [row for row in await self._videos.waiting_rows() if row.scope == scope]
        # Someone in line whose own slot is free waits for the server's: a newcomer waits too.
        for_guild = any(
            limits.jobs_per_user is None or per_owner.get(row.owner_id, 0) < limits.jobs_per_user
            for row in line
        )
        return Usage(
            user_seconds_today=user_seconds,
            guild_seconds_today=int(day_row[0]),
            guild_micros_month=int(month_row[1]),
            user_running=per_owner.get(user_id, 0),
            guild_running=sum(per_owner.values()),
            bot_micros_month=bot_month,
            waiting=len(line),
            line_waits_for_guild=for_guild,
        )

    async def _user_seconds_today(self, scope: int, user_id: int, now: float) -> int:
        today = periods.day(now)
        reset = await self._db.fetch_one(_RESET_AT, (scope, user_id))
        since = max(today.start, float(reset[0])) if reset else today.start
        row = await self._db.fetch_one(_USER_SECONDS, (scope, user_id, since, today.end))
        assert row is not None
        return int(row[0])

    async def reset_day(self, scope: int, user_id: int) -> None:
        """The member's seconds today count from now: what they used stays in the ledger."""
        await self._db.execute(_RESET_DAY, (scope, user_id, self._clock()))

    async def user_today_and_month(self, scope: int, user_id: int) -> tuple[int, int]:
        """The member's seconds today (after any reset) and what they spent this month."""
        now = self._clock()
        month = periods.month(now)
        seconds = await self._user_seconds_today(scope, user_id, now)
        row = await self._db.fetch_one(_USER_MICROS, (scope, user_id, month.start, month.end))
        assert row is not None
        return seconds, int(row[0])

    async def month(self, scope: int, *, top: int = 5) -> Month:
        now = self._clock()
        today, month = periods.day(now), periods.month(now)
        states = {
            str(state): int(total)
            for state, total in await self._db.fetch_all(
                _MONTH_STATES, (scope, month.start, month.end)
            )
        }
        day_row = await self._db.fetch_one(_SCOPE_SUMS, (scope, today.start, today.end))
        assert day_row is not None
        spenders = [
            Spender(int(user), int(micros), int(seconds))
            for user, micros, seconds in await self._db.fetch_all(
                _TOP, (scope, month.start, month.end, top)
            )
        ]
        by_day = {day.isoformat(): 0 for day in periods.days_of(month)}
        for reserved_at, micros in await self._db.fetch_all(
            _MONTH_ENTRIES, (scope, month.start, month.end)
        ):
            by_day[periods.day(float(reserved_at)).start_date.isoformat()] += int(micros)
        return Month(
            spent_micros=int(states.get("settled", 0)),
            held_micros=int(states.get("reserved", 0)),
            seconds_today=int(day_row[0]),
            top=spenders,
            by_day=by_day,
        )
