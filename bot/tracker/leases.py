"""Which jobs this process follows when several bot processes share one database.

Each unfinished job has one lease row; its holder publishes the job's changes and delivers its
result, and renews every lease it holds while it lives. A process that dies stops renewing: its
leases run out and whoever looks next takes the jobs over. A new job is leased by the process
that started it, from before its billable call goes out or from when it is put in line (a job
nobody leased is left to its starter for one lease term); the others learn of free jobs by
polling (`claim_free`; `claim_stranded` for calls that were out when their process died,
`waiting_here` for the line), so no coordinator is needed. A round of upkeep (renew, take the
free jobs, lead) is two statements on PostgreSQL (`keep`), whatever the number of jobs.

Asking the provider is one process's job, the leader's (one row, leased the same way): a page
of `GET /videos` holds every process's jobs, so one process reading it serves them all, and
the requests per job stay those of a single process however many there are. It writes every
change to the database, where each process reads its own jobs' (`VideoRepository.changed`).

Each grant comes with the job's fencing number (bot/storage/leases.py), kept here: whatever
writes about the job (its card, its delivery recorded) carries the number it started under and
checks it at the moment of the write, so a process that stalled past its lease drops its
pending writes instead of overwriting its successor's. A renewal that finds leases lost tells
whoever asked (`on_lost`) at once, so nothing pending for those jobs fires later.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Callable, Iterable

from bot.storage import LeaseRepository

# At most this many jobs taken over in one look, so that survivors share a dead process's work.
CLAIM_BATCH = 1_000


def process_holder() -> str:
    """A name for this process's leases: where it runs, and unique across restarts."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Leases:
    def __init__(
        self,
        leases: LeaseRepository,
        *,
        ttl: float = 20.0,
        renew_every: float = 5.0,
        holder: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._leases = leases
        self.ttl = ttl
        self.renew_every = renew_every
        self.holder = holder or process_holder()
        self._clock = clock
        # The fencing number of each job this process was granted, by key.
        self._fences: dict[int, int] = {}
        self._lost_listeners: list[Callable[[set[int]], None]] = []

    def fence(self, key: int) -> int | None:
        """The number of this process's grant of job `key`; None if it holds no lease of it."""
        return self._fences.get(key)

    def on_lost(self, listener: Callable[[set[int]], None]) -> None:
        """Call `listener` with the keys of the leases each renewal finds lost."""
        self._lost_listeners.append(listener)

    def _granted(self, fences: dict[int, int]) -> set[int]:
        self._fences.update(fences)
        return set(fences)

    async def claim(self, key: int) -> bool:
        """Take a job this process just started (or found free); False if another holds it."""
        now = self._clock()
        fence = await self._leases.claim(key, self.holder, now + self.ttl, now)
        if fence is None:
            return False
        self._fences[key] = fence
        return True

    async def claim_free(self) -> set[int]:
        """Take the undelivered jobs nobody holds (new ones, or a dead process's)."""
        now = self._clock()
        return self._granted(
            await self._leases.claim_free(
                self.holder, now + self.ttl, now, CLAIM_BATCH, unleased_before=now - self.ttl
            )
        )

    async def claim_stranded(self) -> set[int]:
        """Take the jobs whose billable call was out when their process died or stopped."""
        now = self._clock()
        return self._granted(
            await self._leases.claim_stranded(
                self.holder, now + self.ttl, now, CLAIM_BATCH, sent_before=now - self.ttl
            )
        )

    async def waiting_here(self) -> set[int]:
        """The jobs in line that this process starts: those it put in line, and those of
        processes that died or stopped, taken over now."""
        now = self._clock()
        self._granted(
            await self._leases.adopt_waiting(
                self.holder, now + self.ttl, now, CLAIM_BATCH, waiting_before=now - self.ttl
            )
        )
        return await self._leases.held_waiting(self.holder, now)

    async def let_go(self, key: int) -> None:
        """Free one job's lease at once: any process may take it next, this one included."""
        await self._leases.let_go(key, self.holder)
        self._fences.pop(key, None)

    async def renew(self) -> set[int]:
        """Extend this process's leases; the keys it still holds. Those it held before and no
        longer does (run out, taken over, or done) are forgotten and told to `on_lost`."""
        before = dict(self._fences)
        now = self._clock()
        held = await self._leases.renew(self.holder, now + self.ttl, now)
        self._lost_since(before, held)
        return held

    async def keep(self) -> tuple[set[int], bool]:
        """One round of upkeep, as `renew`, `lead` and `claim_free` one after another (the
        first two in one statement on PostgreSQL): the keys newly taken, and whether this
        process leads."""
        before = dict(self._fences)
        now = self._clock()
        upkeep = await self._leases.upkeep(
            self.holder, now + self.ttl, now, CLAIM_BATCH, unleased_before=now - self.ttl
        )
        self._lost_since(before, upkeep.held)
        return self._granted(upkeep.granted), upkeep.leading

    def _lost_since(self, before: dict[int, int], held: set[int]) -> None:
        # Only a grant held before the renewal can have been lost by it: a job let go and
        # granted again meanwhile (by another part of this process) has a new number.
        lost = {
            key
            for key, fence in before.items()
            if key not in held and self._fences.get(key) == fence
        }
        self._forget(lost)

    def _forget(self, keys: Iterable[int]) -> None:
        lost = {key for key in keys if self._fences.pop(key, None) is not None}
        if lost:
            for listener in self._lost_listeners:
                listener(lost)

    async def lead(self) -> bool:
        """Be (or stay) the process that asks the provider about every job, if none is."""
        now = self._clock()
        return await self._leases.lead(self.holder, now + self.ttl, now)

    async def holds(self, key: int, fence: int | None = None) -> bool:
        """Whether this process may still act on the job (write about it, deliver its result)
        under the grant numbered `fence` (by default its latest): checked at the moment of
        the write. A lease found lost is forgotten and told to `on_lost` at once."""
        fence = fence if fence is not None else self._fences.get(key)
        if fence is not None and await self._leases.holds(key, self.holder, fence, self._clock()):
            return True
        if fence is not None and self._fences.get(key) == fence:
            self._forget([key])
        return False

    async def release(self) -> None:
        """On a clean stop: every job is free for the others at once."""
        await self._leases.release(self.holder)
        self._fences.clear()
