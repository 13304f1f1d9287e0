"""Notices of changed jobs on PostgreSQL, so that no process polls for its jobs' changes.

With several processes on one database, the leader asks the provider about every job and writes
what changed; each job's events are published by the process holding its lease (see
`bot.tracker.leases`). Rather than each of those reading the database every second, the leader
names, right after its write commits, the holders of the jobs it changed (`pg_notify` on one
channel, the holder as payload), and each process LISTENs on a connection of its own and reads
its jobs' changes when its name comes.

A notice follows the commit of the write it tells of, so whoever hears it reads the change. It
is a statement of its own rather than part of the write's transaction: the leader's writes are
single statements in the SQL both backends share, and a trigger would cost a migration and a
lookup on every write to `videos`. A notice can be lost all the same: a leader that dies between
its write and its notice sends none, and a listening connection hears nothing while it is down.
So: on every (re)connect the holder is told to read (what changed while it was not listening),
the connection is checked every `check_every` seconds (one dropped without a word is noticed and
replaced), and the tracker keeps a slow read of its own as the last safety net.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection
from typing import Any

import asyncpg

from bot.storage.db import Database
from bot.timing.backoff import Backoff
from bot.timing.tasks import cancel_and_wait
from bot.timing.waits import wait_event

log = logging.getLogger(__name__)

CHANNEL = "videobot_jobs"
# How the listening connection shows in pg_stat_activity: an operator (or a test) can find it.
APPLICATION_NAME = "videobot-notices"
# One notice per holder however many of its jobs changed (PostgreSQL also folds equal notices of
# one transaction into one). A process's own jobs need none: it published them as it wrote them.
_ANNOUNCE = (
    "SELECT pg_notify(?, holder) FROM (SELECT DISTINCT holder FROM job_leases"
    " WHERE video_key = ANY(?::bigint[]) AND holder <> ?) AS holders"
)
_CHECK = "SELECT 1"


class ChangeFeed:
    """This process's side of the notices: it announces the jobs it wrote, and hears of its own."""

    def __init__(
        self,
        url: str,
        db: Database,
        holder: str,
        *,
        check_every: float = 30.0,
        spacing: float = 1.0,
        backoff: Backoff | None = None,
    ) -> None:
        self._url = url
        self._db = db
        self._holder = holder
        self._check_every = check_every
        # The least seconds between two rounds of notices this process sends.
        self.spacing = spacing
        self._backoff = backoff or Backoff(base_delay=1.0, max_delay=30.0)
        self._task: asyncio.Task[None] | None = None
        # Jobs changed since the last notices went out, and when they did (monotonic seconds).
        self._unannounced: set[int] = set()
        self._announced_at = -spacing
        self._announcing: asyncio.Task[None] | None = None
        # Statements sent on the listening connection (LISTEN, checks): it is not the pool's,
        # so a benchmark counting the pool's statements adds these.
        self.statements = 0

    def start(self, on_change: Callable[[], None]) -> None:
        """Listen from now on: `on_change` is called when another process changed one of this
        process's jobs, and after every (re)connect (changes may have come while away)."""
        self._task = asyncio.create_task(self._listen(on_change), name="videobot-notices")

    async def stop(self) -> None:
        await cancel_and_wait(self._task, self._announcing)
        self._task = self._announcing = None

    def announce(self, keys: Collection[int]) -> None:
        """Tell the holders of these jobs, other than this process, that their rows changed.

        Called after the write committed. Notices go out at once, and then at most once every
        `spacing` seconds, each for every job changed since: a busy leader writes many times a
        second, and a holder reads at most that often anyway.
        """
        self._unannounced.update(keys)
        if self._unannounced and (self._announcing is None or self._announcing.done()):
            self._announcing = asyncio.create_task(self._send(), name="videobot-announce")

    async def _send(self) -> None:
        loop = asyncio.get_running_loop()
        while self._unannounced:
            await asyncio.sleep(self._announced_at + self.spacing - loop.time())
            keys, self._unannounced = sorted(self._unannounced), set()
            self._announced_at = loop.time()
            try:
                await self._db.fetch_all(_ANNOUNCE, (CHANNEL, keys, self._holder))
            except Exception as exc:  # the database is away: the holders read it on their own
                log.warning("could not announce %d changed jobs (%s)", len(keys), exc)

    async def _listen(self, on_change: Callable[[], None]) -> None:
        retry = 0
        while True:
            connection: Any = None
            try:
                connection = await asyncpg.connect(
                    self._url,
                    timeout=self._check_every,
                    server_settings={"application_name": APPLICATION_NAME},
                )
                retry = 0
                await self._hear(connection, on_change)
            except Exception as exc:  # a long-lived loop: log, wait, connect again
                log.warning("listening for job changes failed (%s); reconnecting", exc)
            finally:
                if connection is not None:
                    connection.terminate()
            await asyncio.sleep(self._backoff.delay(retry))
            retry += 1

    async def _hear(self, connection: Any, on_change: Callable[[], None]) -> None:
        """Pass this holder's notices on until the connection is lost."""
        lost = asyncio.Event()

        def heard(_connection: Any, _pid: int, _channel: str, payload: str) -> None:
            if payload == self._holder:
                on_change()

        connection.add_termination_listener(lambda _connection: lost.set())
        self.statements += 1
        await connection.add_listener(CHANNEL, heard)
        on_change()
        while not await wait_event(lost, self._check_every):
            self.statements += 1
            await connection.execute(_CHECK, timeout=self._check_every)
        log.warning("the connection listening for job changes was lost; reconnecting")
