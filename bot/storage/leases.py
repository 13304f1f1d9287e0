"""Lease rows: which bot process follows which unfinished job, until when.

Every statement here is one conditional upsert or update, atomic on its own: on PostgreSQL two
processes taking the same lease meet on its row's lock, and the second, seeing the first's
live lease once it may look, takes nothing. No transaction and no coordinator are needed.
"""

# SQL here is composed from constants only; every value goes in as a `?` parameter.
# ruff: noqa: S608

from __future__ import annotations

from dataclasses import dataclass

from bot.storage.db import Database, Row

# A lease is taken when it is free: no row yet, a row past its time, or a row already ours. The
# grant raises the fencing number unless the holder still held the lease live (a claim of a job
# it holds). Params at the end: now, now. A first grant is number 1.
_TAKE = (
    " ON CONFLICT (video_key) DO UPDATE SET holder = excluded.holder,"
    " expires_at = excluded.expires_at,"
    " fence = CASE WHEN job_leases.holder = excluded.holder AND job_leases.expires_at >= ?"
    " THEN job_leases.fence ELSE job_leases.fence + 1 END"
    " WHERE job_leases.expires_at < ? OR job_leases.holder = excluded.holder"
    " RETURNING video_key, fence"
)
_CLAIM = "INSERT INTO job_leases (video_key, holder, expires_at, fence) VALUES (?, ?, ?, 1)" + _TAKE
# The jobs the tracker would load on start (VideoRepository.pending) whose lease is free: run
# out, or released. A job that never had one is its starter's until it is a lease term old
# (the starter leases it right after the provider accepts it, or died before it could). Jobs
# not sent yet (submitting, waiting) have no provider id to follow.
_CLAIM_FREE = (
    "INSERT INTO job_leases (video_key, holder, expires_at, fence)"
    " SELECT key, ?, ?, 1 FROM videos"
    " WHERE delivered_at IS NULL AND deleted_at IS NULL AND submitting_since IS NULL"
    " AND waiting_since IS NULL"
    " AND NOT EXISTS (SELECT 1 FROM job_leases AS held WHERE held.video_key = videos.key"
    " AND held.expires_at >= ?)"
    " AND (updated_at < ? OR EXISTS"
    " (SELECT 1 FROM job_leases AS lapsed WHERE lapsed.video_key = videos.key))"
    " ORDER BY key LIMIT ?" + _TAKE
)


def _claim_unsent(since: str) -> str:
    """Take the leases of jobs not sent to the provider whose `since` (a column) is older than
    the parameter and which no live process holds: their process died or stopped.

    A starter leases its row right after writing it, so a younger unleased row may be a live
    process's. Params: holder, until, older than, now, limit, now, now.
    """
    return (
        "INSERT INTO job_leases (video_key, holder, expires_at, fence)"
        f" SELECT key, ?, ?, 1 FROM videos WHERE {since} < ?"
        " AND NOT EXISTS (SELECT 1 FROM job_leases AS held WHERE held.video_key = videos.key"
        " AND held.expires_at >= ?)"
        " ORDER BY key LIMIT ?" + _TAKE
    )


# Jobs whose billable call was out when their process went.
_CLAIM_STRANDED = _claim_unsent("submitting_since")
# Jobs waiting for a slot that their process can no longer start.
_ADOPT_WAITING = _claim_unsent("waiting_since")
_HELD_WAITING = (
    "SELECT job_leases.video_key FROM job_leases JOIN videos ON videos.key = job_leases.video_key"
    " WHERE videos.waiting_since IS NOT NULL AND job_leases.holder = ?"
    " AND job_leases.expires_at >= ?"
)
_LET_GO = "UPDATE job_leases SET expires_at = 0 WHERE video_key = ? AND holder = ?"
# Leases of jobs delivered or deleted since are dropped rather than renewed.
_DONE = (
    "EXISTS (SELECT 1 FROM videos WHERE videos.key = job_leases.video_key"
    " AND (videos.delivered_at IS NOT NULL OR videos.deleted_at IS NOT NULL))"
)
_DROP_DONE = (
    "DELETE FROM job_leases WHERE holder = ? AND video_key IN"
    " (SELECT key FROM videos WHERE delivered_at IS NOT NULL OR deleted_at IS NOT NULL)"
)
# One statement a round: the live leases of unfinished jobs are extended, and every lease of a
# finished job comes back flagged (unchanged), so the drop is sent only in a round that has one.
# Params: now, until, holder, now.
_RENEW = (
    f"UPDATE job_leases SET expires_at = CASE WHEN expires_at < ? OR {_DONE}"
    " THEN expires_at ELSE ? END"
    f" WHERE holder = ? AND (expires_at >= ? OR {_DONE})"
    f" RETURNING video_key, CASE WHEN {_DONE} THEN 1 ELSE 0 END AS done"
)
_HOLDS = (
    "SELECT 1 FROM job_leases WHERE video_key = ? AND holder = ? AND fence = ? AND expires_at >= ?"
)
# Released, not deleted: a lease row that has run out says the job is free at once.
_RELEASE = "UPDATE job_leases SET expires_at = 0 WHERE holder = ?"
# The one row of tracker_leader, taken like a job's lease: when it ran out, or already ours.
_LEAD = (
    "INSERT INTO tracker_leader (id, holder, expires_at) VALUES (1, ?, ?)"
    " ON CONFLICT (id) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at"
    " WHERE tracker_leader.expires_at < ? OR tracker_leader.holder = excluded.holder"
    " RETURNING id"
)
_STOP_LEADING = "UPDATE tracker_leader SET expires_at = 0 WHERE holder = ?"
# The renewal and the lead in one statement, on PostgreSQL (SQLite runs no INSERT or UPDATE in
# WITH). Joining them adds no wait that could deadlock: each process renews only its own leases,
# so two rounds share only the leader's row. The grant of free jobs stays a statement of its own:
# in one with the renewal, a process would hold leases while its grant waits for a row another
# process's grant holds, which may be waiting for those very leases.
# Params: the renewal's, the lead's.
_RENEW_AND_LEAD = (
    f"WITH renewed AS ({_RENEW}), led AS ({_LEAD})"
    " SELECT 'renewed', video_key, done FROM renewed UNION ALL SELECT 'led', id, 0 FROM led"
)


def _granted(rows: list[Row]) -> dict[int, int]:
    return {int(row[0]): int(row[1]) for row in rows}


@dataclass(frozen=True)
class Upkeep:
    """What one round of upkeep found: the leases still held, the ones newly granted (their
    fencing numbers by key), and whether the holder leads."""

    held: set[int]
    granted: dict[int, int]
    leading: bool


class LeaseRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def claim(self, key: int, holder: str, until: float, now: float) -> int | None:
        """Take the lease of job `key` if it is free or already `holder`'s: its fencing number,
        or None if another holds it."""
        row = await self._db.fetch_one(_CLAIM, (key, holder, until, now, now))
        return None if row is None else int(row[1])

    async def claim_free(
        self, holder: str, until: float, now: float, limit: int, *, unleased_before: float
    ) -> dict[int, int]:
        """Take up to `limit` leases of undelivered jobs no live process holds: the fencing
        number of each by key.

        A job that never had a lease is taken only if its row is older than `unleased_before`.
        """
        params = (holder, until, now, unleased_before, limit, now, now)
        return _granted(await self._db.fetch_all(_CLAIM_FREE, params))

    async def claim_stranded(
        self, holder: str, until: float, now: float, limit: int, *, sent_before: float
    ) -> dict[int, int]:
        """Take up to `limit` leases of jobs whose billable call went out before `sent_before`
        and which no live process holds: the calls of processes that died or stopped."""
        params = (holder, until, sent_before, now, limit, now, now)
        return _granted(await self._db.fetch_all(_CLAIM_STRANDED, params))

    async def adopt_waiting(
        self, holder: str, until: float, now: float, limit: int, *, waiting_before: float
    ) -> dict[int, int]:
        """Take up to `limit` leases of jobs in line since before `waiting_before` which no
        live process holds: those of processes that died or stopped."""
        params = (holder, until, waiting_before, now, limit, now, now)
        return _granted(await self._db.fetch_all(_ADOPT_WAITING, params))

    async def held_waiting(self, holder: str, now: float) -> set[int]:
        """The jobs in line whose live lease `holder` has: the ones it starts."""
        return {int(row[0]) for row in await self._db.fetch_all(_HELD_WAITING, (holder, now))}

    async def let_go(self, key: int, holder: str) -> None:
        """Free one lease of `holder` at once, for whichever process looks next."""
        await self._db.execute(_LET_GO, (key, holder))

    async def renew(self, holder: str, until: float, now: float) -> set[int]:
        """Extend every live lease of `holder`; the keys it still holds. Leases of finished
        jobs are dropped instead.

        A lease that ran out meanwhile is not renewed: another process may have taken it.
        """
        return await self._renewed(
            holder, await self._db.fetch_all(_RENEW, (now, until, holder, now))
        )

    async def _renewed(self, holder: str, rows: list[Row]) -> set[int]:
        """The keys of a renewal's rows still held, once the finished ones among them are
        dropped."""
        if any(row[1] for row in rows):
            await self._db.execute(_DROP_DONE, (holder,))
        return {int(row[0]) for row in rows if not row[1]}

    async def upkeep(
        self, holder: str, until: float, now: float, limit: int, *, unleased_before: float
    ) -> Upkeep:
        """One round of `renew`, `lead` and `claim_free`: on a shared database (PostgreSQL) the
        first two in one statement."""
        # Only PostgreSQL is shared, and only it runs an INSERT or UPDATE inside WITH.
        if self._db.shared:
            renewal = (now, until, holder, now)
            rows = await self._db.fetch_all(_RENEW_AND_LEAD, (*renewal, holder, until, now))
            held = await self._renewed(
                holder, [(row[1], row[2]) for row in rows if row[0] == "renewed"]
            )
            leading = any(row[0] == "led" for row in rows)
        else:
            held = await self.renew(holder, until, now)
            leading = await self.lead(holder, until, now)
        granted = await self.claim_free(holder, until, now, limit, unleased_before=unleased_before)
        return Upkeep(held, granted, leading)

    async def holds(self, key: int, holder: str, fence: int, now: float) -> bool:
        """Whether `holder` still has the lease of job `key` under the grant numbered `fence`."""
        return await self._db.fetch_one(_HOLDS, (key, holder, fence, now)) is not None

    async def lead(self, holder: str, until: float, now: float) -> bool:
        """Take or keep the leader's row (the process that asks the provider about every job)."""
        return await self._db.fetch_one(_LEAD, (holder, until, now)) is not None

    async def release(self, holder: str) -> None:
        """Give up every lease of `holder`, the leader's too, for another process to take."""
        async with self._db.transaction():
            await self._db.execute(_RELEASE, (holder,))
            await self._db.execute(_STOP_LEADING, (holder,))


_KEEP_REPLY = (
    "INSERT INTO job_replies (video_key, token, expires_at) VALUES (?, ?, ?)"
    " ON CONFLICT (video_key) DO UPDATE SET token = excluded.token,"
    " expires_at = excluded.expires_at"
)
_TAKE_REPLY = "DELETE FROM job_replies WHERE video_key = ? RETURNING token, expires_at"
_DROP_REPLY = "DELETE FROM job_replies WHERE video_key = ?"


class ReplyRepository:
    """The token of each job's deferred reply while its first card is not posted: whoever
    posts that card (its process, or one that took the job over) resolves the reply with it.

    A token is an interaction's secret for 15 minutes: it is kept only that long at most, read
    once (taking deletes it), and dropped as soon as the card is up.
    """

    def __init__(self, db: Database) -> None:
        self._db = db

    async def keep(self, key: int, token: str, expires_at: float) -> None:
        await self._db.execute(_KEEP_REPLY, (key, token, expires_at))

    async def take(self, key: int, usable_after: float) -> str | None:
        """The job's token if it is still usable after `usable_after`; it is kept no more."""
        row = await self._db.fetch_one(_TAKE_REPLY, (key,))
        if row is None or float(row[1]) <= usable_after:
            return None
        return str(row[0])

    async def drop(self, key: int) -> None:
        await self._db.execute(_DROP_REPLY, (key,))
