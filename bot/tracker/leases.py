"""Which jobs this process follows when several bot processes share one database.

Each unfinished job has one lease row; its holder publishes the job's changes and delivers its
result, and renews every lease it holds while it lives. A process that dies stops renewing: its
leases run out and whoever looks next takes the jobs over. A new job is leased by the process
that started it, from before its billable call goes out or from when it is put in line (a job
nobody leased is left to its starter for one lease term); the others learn of free jobs by
polling (`claim_free`; `claim_stranded` for calls that were out when their process died,
`waiting_here` for the line), so no coordinator is needed.

Asking the provider is one process's job, the leader's (one row, leased the same way): a page
of `GET /videos` holds every process's jobs, so one process reading it serves them all, and
the requests per job stay those of a single process however many there are. It writes every
change to the database, where each process reads its own jobs' (`VideoRepository.changed`).
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Callable

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

    async def claim(self, key: int) -> bool:
        """Take a job this process just started (or found free); False if another holds it."""
        now = self._clock()
        return await self._leases.claim(key, self.holder, now + self.ttl, now)

    async def claim_free(self) -> set[int]:
        """Take the undelivered jobs nobody holds (new ones, or a dead process's)."""
        now = self._clock()
        return await self._leases.claim_free(
            self.holder, now + self.ttl, now, CLAIM_BATCH, unleased_before=now - self.ttl
        )

    async def claim_stranded(self) -> set[int]:
        """Take the jobs whose billable call was out when their process died or stopped."""
        now = self._clock()
        return await self._leases.claim_stranded(
            self.holder, now + self.ttl, now, CLAIM_BATCH, sent_before=now - self.ttl
        )

    async def waiting_here(self) -> set[int]:
        """The jobs in line that this process starts: those it put in line, and those of
        processes that died or stopped, taken over now."""
        now = self._clock()
        await self._leases.adopt_waiting(
            self.holder, now + self.ttl, now, CLAIM_BATCH, waiting_before=now - self.ttl
        )
        return await self._leases.held_waiting(self.holder, now)

    async def let_go(self, key: int) -> None:
        """Free one job's lease at once: any process may take it next, this one included."""
        await self._leases.let_go(key, self.holder)

    async def renew(self) -> set[int]:
        """Extend this process's leases; the keys it still holds."""
        now = self._clock()
        return await self._leases.renew(self.holder, now + self.ttl, now)

    async def lead(self) -> bool:
        """Be (or stay) the process that asks the provider about every job, if none is."""
        now = self._clock()
        return await self._leases.lead(self.holder, now + self.ttl, now)

    async def holds(self, key: int) -> bool:
        """Whether this process may still act on the job (deliver its result)."""
        return await self._leases.holds(key, self.holder, self._clock())

    async def release(self) -> None:
        """On a clean stop: every job is free for the others at once."""
        await self._leases.release(self.holder)
