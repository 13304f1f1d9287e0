"""Every unfinished job followed to its end with the fewest API calls, across restarts.

The database is the queue: on start the tracker loads every job not yet delivered, and each
change it learns is written first, then published to subscribers (delivery, tests). One loop
sleeps until the earliest job is due (and the provider's request budget allows a request) or a
new job wakes it. Due jobs are looked at in the order their looks fell due (a job near its
predicted end falls due soonest), as many as the budget allows: each through the `GET /videos`
page that holds it (the listing is cut into fixed pages of 100, each starting after a video the
tracker saw listed), which also covers its neighbours, and `retrieve` only for the jobs no page
covered (or all of them when the provider has no list).

Where a job is listed is learned, never assumed: the provider orders jobs of the same second by
its own rule (arrival, id, anything), so a new job is only placed by its creation second, and
every page read moves the videos it holds to where the provider put them. A job its planned page
did not hold stays due: it is retrieved in that cycle when the budget allows, else the next cycle
looks for it on the page where the pages just read put it and retrieves it if that misses it too;
a job missed twice is only retrieved until a page shows it again. Looks due first go first and
none is planned later than `Cadence.ceiling` after the last, so every job is seen at least that
often whatever the provider's order (while the budget allows a look per job, or per page of
jobs, that often).

When the provider announces each job's end (OpenRouter's webhooks), the announced state is
taken as a look's answer (`sighted`), and the tracker's own looks are only a slow safety net.
"""

from __future__ import annotations

import asyncio
import logging
import time
from bisect import bisect_left
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.storage import VideoRepository, VideoRow
from bot.timing.backoff import Backoff
from bot.timing.tasks import cancel_and_wait
from bot.timing.waits import wait_event
from bot.tracker.budget import RequestBudget
from bot.tracker.cadence import Cadence, Sighting
from bot.tracker.leases import Leases
from bot.videoapi.backend import VideoBackend
from bot.videoapi.errors import (
    APIConnectionError,
    APIStatusError,
    InternalServerError,
    NotFoundError,
    RateLimitError,
    UnsupportedOperationError,
    VideoAPIError,
)
from bot.videoapi.models import Operation, ResponseMeta, Video, VideoStatus

log = logging.getLogger(__name__)

Clock = Callable[[], float]

# Answers that say the provider, not one job, is in trouble: the whole tracker backs off. A 5xx
# to one job's retrieve is that job's (LiteLLM answers 500 for each status of a Gemini job its
# validation refuses): that job alone backs off.
PROVIDER_TROUBLE = (RateLimitError, InternalServerError, APIConnectionError)
# A job whose status could not be read for this long ends: the provider cannot say what it made.
STATUS_UNKNOWN = "status_unknown"


@dataclass(frozen=True, slots=True)
class JobEvent:
    """A job's row right after a change was stored."""

    job: VideoRow
    previous_status: VideoStatus | None
    # Unix seconds the tracker expects the job to finish at; None when it has no estimate.
    predicted_end: float | None = None


# Sightings kept per job for its recent pace: the first sighting of each of its last values.
RECENT_CHANGES = 2
# Seconds of changes read again by a process that does not lead (see Tracker._sync).
SYNC_OVERLAP = 2.0
# Announced states kept for jobs not followed (yet): one may come before `track` does.
KEPT_SIGHTINGS = 1000


@dataclass(slots=True)
class _Tracked:
    row: VideoRow
    # Looked at on any page from `due` on; a page is asked for it once `latest` comes.
    due: float
    latest: float
    failures: int = 0
    # When its looks began failing one after the other; None while they are answered.
    failing_since: float | None = None
    running_since: Sighting | None = None
    changes: deque[Sighting] = field(default_factory=lambda: deque(maxlen=RECENT_CHANGES))
    predicted_end: float | None = None
    unknown_logged: bool = False
    # Planned pages in a row that did not hold it; from 2 on it is retrieved instead.
    misses: int = 0

    def look_at(self, when: float, slack: float = 0.0) -> None:
        self.due, self.latest = when, when + slack


def _most_urgent(job: _Tracked) -> tuple[float, float, int, int]:
    """The look due first goes first: near its predicted end a job falls due soonest, and one
    whose look waited longest is never starved by others' closer ends (nor by jobs a page
    missed, which stay due and go in their turn). Equal ones go closest to their predicted end
    first, then newest first (a page holds the jobs created before the one it starts at)."""
    end = job.predicted_end if job.predicted_end is not None else job.due
    return (job.latest, end, -job.row.created_at, -job.row.key)


@dataclass(slots=True)
class _Paging:
    """One cycle's pages: how many went, and how many more than planned may still go."""

    sent: int = 0
    spare: int = 0


@dataclass(slots=True)
class _Answers:
    videos: dict[str, Video] = field(default_factory=dict)
    hints: dict[str, int | None] = field(default_factory=dict)

    def add(self, video_id: str, video: Video, hint_ms: int | None) -> None:
        """An answer about the job stored as `video_id` (a gateway may answer with another id)."""
        self.videos[video_id] = video
        self.hints[video_id] = hint_ms


class Tracker:
    def __init__(
        self,
        api: VideoBackend,
        videos: VideoRepository,
        *,
        cadence: Cadence | None = None,
        deadline: float = 45 * 60.0,
        clock: Clock = time.time,
        page_size: int = 100,
        max_concurrent_retrieves: int = 8,
        backoff_base: float = 2.0,
        backoff_max: float = 120.0,
        leases: Leases | None = None,
        budget: RequestBudget | None = None,
        status_give_up: float = 10 * 60.0,
        announced: bool = False,
    ) -> None:
        self._api = api
        # Whether the provider announces each job's end (OpenRouter's webhooks, handed in by
        # `sighted`): then a new job is not looked at when it starts, only by the slow cadence.
        self._announced = announced
        self._sightings: OrderedDict[str, Video] = OrderedDict()
        self._status_give_up = status_give_up
        self._videos = videos
        self._cadence = cadence or Cadence()
        self._deadline = deadline
        self._clock = clock
        self._page_size = page_size
        self._retrieve_slots = asyncio.Semaphore(max_concurrent_retrieves)
        self._backoff_max = backoff_max
        # Every refresh pauses after provider trouble; one job's failed refresh waits alone.
        self._pause = Backoff(base_delay=backoff_base, max_delay=backoff_max)
        self._job_backoff = Backoff(base_delay=self._cadence.base, max_delay=backoff_max, jitter=0)
        self._jobs: dict[str, _Tracked] = {}
        self._subscribers: list[asyncio.Queue[JobEvent]] = []
        self._wakeup = asyncio.Event()
        self._paused_until = 0.0
        # Status requests the provider allows: its profile's rate, tightened by its headers.
        self._budget = budget or RequestBudget(api.profile.requests_per_minute)
        # The provider's listing, newest first, as its pages showed it: every job followed since
        # start (finished ones too) and every video a page held, down to a page past the oldest
        # tracked job. A job no page has held yet sits at the top of its creation second.
        self._listing: list[str] = []
        # Creation second of each video in the listing.
        self._seconds: dict[str, int] = {}
        # The videos a page showed where they are: the page after one of them is the one the
        # provider would give. Where the others sit among them is only estimated.
        self._confirmed: set[str] = set()
        # Index of each video in the listing; None after the listing changed.
        self._at: dict[str, int] | None = None
        # Listing positions from the newest video to the oldest tracked job.
        self._span = 0
        # Set when the provider refused a page that starts after one of our ids: from then on
        # pages are read from the newest only.
        self._cursors_refused = False
        self._trouble = 0
        self._task: asyncio.Task[None] | None = None
        # None: this process is the only one, and follows every job.
        self._leases = leases
        self._lease_task: asyncio.Task[None] | None = None
        # With leases: whether this process asks the provider about every job (the leader),
        # the jobs whose events it publishes, what it last published of each, and how far it
        # read the changes the leader wrote.
        self._leading = False
        self._held: set[int] = set()
        self._shown: dict[int, VideoRow] = {}
        self._changes_read_to = 0.0
        self._sync_at = 0.0
        if leases is not None:
            leases.on_lost(self._lost)

    @property
    def tracked(self) -> frozenset[str]:
        return frozenset(self._jobs)

    @property
    def held(self) -> frozenset[int]:
        """With other processes: the keys of the jobs whose events this process publishes."""
        return frozenset(self._held)

    @property
    def leading(self) -> bool:
        """Whether this process asks the provider (always, without other processes)."""
        return self._leases is None or self._leading

    @property
    def status_give_up(self) -> float:
        """Seconds a job's status may fail, look after look, before the job is given up."""
        return self._status_give_up

    @property
    def paused_until(self) -> float:
        return self._paused_until

    def predicted_end(self, video_id: str) -> float | None:
        """Unix seconds the tracker expects this job to finish at, if it has an estimate."""
        job = self._jobs.get(video_id)
        return job.predicted_end if job is not None else None

    def _drop(self, video_id: str) -> None:
        self._jobs.pop(video_id, None)

    def subscribe(self) -> asyncio.Queue[JobEvent]:
        """A queue of every event from now on; subscribe before start() to get the replays."""
        queue: asyncio.Queue[JobEvent] = asyncio.Queue()
        self._subscribers.append(queue)
        return queue

    async def start(self) -> None:
        """Load every undelivered job; finished ones are published again for delivery."""
        if self._leases is not None:
            self._held = await self._leases.claim_free()
            self._leading = await self._leases.lead()
        for row in await self._videos.pending():
            self._follow(row)
        self._task = asyncio.create_task(self._run(), name="videobot-tracker")
        if self._leases is not None:
            self._lease_task = asyncio.create_task(
                self._keep_leases(self._leases), name="videobot-leases"
            )

    async def stop(self) -> None:
        await cancel_and_wait(self._task, self._lease_task)
        self._task = self._lease_task = None

    async def track(self, video_id: str) -> None:
        """Follow a job whose row was just inserted; its first refresh happens at once (by
        the leader, when another process leads)."""
        row = await self._videos.get(video_id)
        if row is not None and (self._leases is None or await self._leases.claim(row.key)):
            self._held.add(row.key)
            self._follow(row)
            job = self._jobs.get(video_id)
            if self._announced and job is not None:
                job.look_at(self._clock() + self._cadence.base)
        self._wakeup.set()

    async def _keep_leases(self, leases: Leases) -> None:
        """With other processes on the database: keep this one's jobs, take the free ones,
        and lead when no live process does."""
        while True:
            await asyncio.sleep(leases.renew_every)
            try:
                # The leases it lost are dropped as the renewal finds them (`_lost`).
                await leases.renew()
                claimed = await leases.claim_free()
                self._held |= claimed
                for row in await self._videos.by_keys(sorted(claimed)):
                    self._follow(row)
                self._lead(await leases.lead())
                self._wakeup.set()
            except Exception:  # the database is away for a moment: try again next round
                log.exception("keeping the job leases failed")

    def _lost(self, keys: set[int]) -> None:
        """Leases found lost (by a renewal, or by a write that checked): their events are
        another process's to publish from now on."""
        for key in keys:
            self._held.discard(key)
            shown = self._shown.pop(key, None)
            if shown is not None and not shown.finished:
                log.warning("lost the lease of %s; another process has it", shown.id)

    def _lead(self, leading: bool) -> None:
        if leading and not self._leading:
            log.info("this process now asks the provider about every process's jobs")
            self._sync_at = 0.0  # every unfinished job is picked up at once
        elif self._leading and not leading:
            log.warning("another process leads now; following this one's jobs from the database")
            self._jobs.clear()
            self._changes_read_to = 0.0
        self._leading = leading

    async def _sync(self) -> None:
        """With other processes: the leader picks up every new unfinished job; the others
        publish their jobs' changes as the leader wrote them."""
        self._sync_at = self._clock() + self._cadence.floor
        if self._leading:
            followed = {job.row.key for job in self._jobs.values()}
            new = await self._videos.unfinished_keys() - followed
            for row in await self._videos.by_keys(sorted(new)):
                self._follow(row)
            return
        assert self._leases is not None  # only called with them
        # Re-read a little before the last change read: a write stamped earlier can commit
        # later. What was published already is not published again.
        since = self._changes_read_to - SYNC_OVERLAP
        for row in await self._videos.changed(self._leases.holder, since):
            self._changes_read_to = max(self._changes_read_to, row.updated_at)
            shown = self._shown.get(row.key)
            if shown is None or row.shown != shown.shown:
                self._publish(row, None if shown is None else shown.status)

    def wake(self, video_id: str | None = None) -> None:
        """Refresh now: one job (a webhook said it changed) or whatever is due."""
        if video_id is not None and video_id in self._jobs:
            self._jobs[video_id].look_at(self._clock())
        self._wakeup.set()

    def sighted(self, video_id: str, video: Video) -> None:
        """What the provider announced of a job (a verified webhook), taken as the answer of a
        look: stored and published in the next cycle, without a request."""
        self._sightings[video_id] = video
        self._sightings.move_to_end(video_id)
        while len(self._sightings) > KEPT_SIGHTINGS:
            self._sightings.popitem(last=False)
        self._wakeup.set()

    async def _apply_sightings(self, now: float) -> None:
        answers = _Answers()
        for video_id in [vid for vid in self._sightings if vid in self._jobs]:
            answers.add(video_id, self._sightings.pop(video_id), None)
        if answers.videos:
            await self._apply(answers, now)

    def _follow(self, row: VideoRow) -> None:
        if row.deleted_at is not None or row.delivered_at is not None:
            return
        if row.finished:
            self._publish(row, None)
            return
        if row.key in self._held:
            self._shown[row.key] = row
        if self.leading and row.id not in self._jobs:
            now = self._clock()
            self._jobs[row.id] = _Tracked(row, due=now, latest=now)
            if row.id not in self._seconds:
                self._place(row.id, row.created_at)

    async def _run(self) -> None:
        while True:
            wait = self._seconds_to_next()
            if wait is None or wait > 0:
                await wait_event(self._wakeup, wait)
            else:
                # A cycle that finds nothing to send awaits nothing: let the loop run between.
                await asyncio.sleep(0)
            self._wakeup.clear()
            paused = self._clock() < self._paused_until
            try:
                if paused:
                    # An announced state needs no request: it is taken while requests wait.
                    await self._apply_sightings(self._clock())
                    continue
                if self._leases is not None and self._clock() >= self._sync_at:
                    await self._sync()
                if self.leading:
                    await self.refresh_due()
            except PROVIDER_TROUBLE as exc:
                self._back_off(exc)
            except Exception:
                # Never let one bad cycle end the loop (a tasks.loop would die here).
                log.exception("tracker cycle failed")
                self._back_off(None)
            else:
                self._trouble = 0

    def _seconds_to_next(self) -> float | None:
        now = self._clock()
        if now < self._paused_until:
            return self._paused_until - now
        sync = self._sync_at - now if self._leases is not None else None
        if not self._jobs:
            return sync
        earliest = min(job.latest for job in self._jobs.values())
        wait = max(earliest, self._budget.ready_at(now)) - now
        return wait if sync is None else min(wait, sync)

    def _back_off(self, exc: Exception | None) -> None:
        self._trouble += 1
        delay = self._pause.delay(self._trouble - 1)
        if isinstance(exc, VideoAPIError):
            # A 429's Retry-After is obeyed when it asks for longer than our own backoff.
            delay = max(delay, min(self._backoff_max, exc.meta.retry_after_s or 0.0))
        self._paused_until = self._clock() + delay
        log.warning("provider trouble (%s): pausing every refresh for %.1f s", exc, delay)

    def _observe(self, meta: ResponseMeta) -> None:
        self._budget.observe(meta, self._clock())

    def _spend(self) -> bool:
        return self._budget.try_spend(self._clock())

    async def refresh_due(self) -> int:
        """One cycle: refresh due jobs, most urgent first, within the budget; enforce the deadline.

        Returns how many requests it made.
        """
        now = self._clock()
        await self._apply_sightings(now)
        # Jobs whose look cannot wait longer, most urgent first; pages for them also serve
        # every job whose look may come now.
        due = sorted((job for job in self._jobs.values() if job.latest <= now), key=_most_urgent)
        requests = 0
        if due:
            answers = _Answers()
            if self._api.supports(Operation.LIST) is not False:
                requests += await self._list_or_give_up(due, answers, now)
            missing = []
            for job in due:
                if job.row.id in answers.videos or job.row.id not in self._jobs:
                    continue
                if not self._spend():
                    break  # the rest wait for the next cycle, still due and first in line
                missing.append(job)
            requests += len(missing)
            trouble = await self._retrieve(missing, answers, now)
            await self._apply(answers, now)
            if trouble is not None:
                raise trouble
        return requests + await self._enforce_deadline(now)

    async def _list_or_give_up(self, due: list[_Tracked], answers: _Answers, now: float) -> int:
        """List what it can; a list route that refuses us means retrieving, in this very cycle.

        A 4xx from `GET /videos` is about the route (LiteLLM wants a provider named, some
        servers want other parameters), never about one job: listing is marked unusable and
        every job is retrieved from then on. Only 429, 5xx and connection errors back off.
        Returns how many pages it asked for.
        """
        runs, spare = self._plan_pages(due, now)
        paging = _Paging(spare=spare)
        results = await asyncio.gather(
            *(
                self._list_from(after, wanted, planned, answers, paging)
                for after, wanted, planned in runs
            ),
            return_exceptions=True,
        )
        for result in results:
            if isinstance(result, UnsupportedOperationError):
                continue
            if isinstance(result, APIStatusError):
                if (
                    isinstance(result, PROVIDER_TROUBLE)
                    or not result.status
                    or result.status >= 500
                ):
                    raise result
                self._api.capabilities.record(Operation.LIST, served=False)
                log.warning("listing videos is refused (%s); retrieving each job instead", result)
            elif isinstance(result, BaseException):
                raise result
        return paging.sent

    def _plan_pages(
        self, due: list[_Tracked], now: float
    ) -> tuple[list[tuple[str | None, set[str], int]], int]:
        """The runs of pages this cycle needs, at most one request a page within the budget,
        and how many requests the budget leaves beyond them and the retrieves.

        The listing is cut into fixed pages (the first page, then one after every
        `page_size`-th video), so no two pages of a cycle hold the same job and a cycle that can
        afford every page sweeps the whole listing once. Consecutive pages make one run, read
        one after the other with the provider's own cursors, so a run leaves no gap whatever
        the listing looked like before. A page starting after a video no page showed yet is
        reached by a run from the nearest page that starts after one a page did (or from the
        top): its cursor is the provider's own. Pages are planned in the order of the most
        urgent due job they hold. A job whose page would hold no other tracked job is left to
        `retrieve`, as cheap and sure, and so is one missed by two planned pages in a row.
        """
        allowance = self._budget.available(now)
        if self._cursors_refused:
            return [(None, {job.row.id for job in due}, 1)], max(0, allowance - 1)
        at = self._positions()
        planned: set[str] = set()
        pages: dict[int, set[str]] = {}
        retrieves = 0
        for job in due:
            if len(pages) + retrieves >= allowance:
                break
            if job.row.id in planned:
                continue
            index = at.get(job.row.id)
            number = 0 if index is None else index // self._page_size
            window = [
                self._jobs[video_id]
                for video_id in self._listing[
                    number * self._page_size : (number + 1) * self._page_size
                ]
                if video_id in self._jobs
            ]
            if index is None or job.misses >= 2 or len(window) < 2:
                planned.add(job.row.id)
                retrieves += 1
                continue
            first = number
            while first and self._listing[first * self._page_size - 1] not in self._confirmed:
                first -= 1
            for page in range(first, number + 1):
                if page in pages:
                    continue
                if len(pages) + retrieves >= allowance:
                    break
                pages[page] = {
                    video_id
                    for video_id in self._listing[
                        page * self._page_size : (page + 1) * self._page_size
                    ]
                    if (j := self._jobs.get(video_id)) is not None
                    and j.due <= now
                    and video_id not in planned
                    and j.misses < 2
                }
                planned |= pages[page]
        runs: list[tuple[str | None, set[str], int]] = []
        previous = -2
        for number in sorted(pages):
            if number == previous + 1:
                after, wanted, count = runs[-1]
                runs[-1] = (after, wanted | pages[number], count + 1)
            else:
                after = self._listing[number * self._page_size - 1] if number else None
                runs.append((after, pages[number], 1))
            previous = number
        return runs, max(0, allowance - len(pages) - retrieves)

    def _positions(self) -> dict[str, int]:
        """Each listed video's index; the listing is cut a page past the oldest tracked job
        (older videos are in no page the tracker reads)."""
        if self._at is None:
            tracked = (i for i, video_id in enumerate(self._listing) if video_id in self._jobs)
            last = max(tracked, default=0)
            for video_id in self._listing[last + self._page_size :]:
                del self._seconds[video_id]
                self._confirmed.discard(video_id)
            del self._listing[last + self._page_size :]
            self._at = {video_id: index for index, video_id in enumerate(self._listing)}
            self._span = last + 1
        return self._at

    def _place(self, video_id: str, created_at: int) -> None:
        """A job no page has held yet: at the top of its creation second (the provider lists
        newer seconds first; within one second, its own order is learned from its pages)."""
        index = bisect_left(self._listing, -created_at, key=lambda v: -self._seconds[v])
        self._listing.insert(index, video_id)
        self._seconds[video_id] = created_at
        self._at = None

    def _learn(self, after: str | None, videos: list[Video]) -> None:
        """What a page shows of the provider's order: its videos, in its order, right after
        `after` (the top for None)."""
        if not videos:
            return
        at = self._positions()
        if after is not None and after not in at:
            return  # a cursor cut from the listing since: nothing to place them after
        start = 0 if after is None else at[after] + 1
        shown = [video.id for video in videos]
        if self._listing[start : start + len(shown)] == shown:
            self._confirmed.update(shown)
            return  # where the tracker had them
        held = set(shown)
        if after in held:
            return  # a page holding its own cursor says nothing of where it is
        rest = [video_id for video_id in self._listing if video_id not in held]
        start = 0 if after is None else rest.index(after) + 1
        self._listing = rest[:start] + shown + rest[start:]
        # A video without its second takes the one above it, so the listing stays ordered.
        second = 0 if after is None else self._seconds[after]
        for video in videos:
            second = video.created_at if video.created_at is not None else second
            self._seconds[video.id] = second
        self._confirmed.update(shown)
        self._at = None

    def _pages_in_play(self) -> int:
        """How many pages hold the tracked jobs; 1 when every job is retrieved on its own."""
        if self._cursors_refused or self._api.supports(Operation.LIST) is False:
            return 1
        return -(-self._span // self._page_size)

    def _forget(self, video_id: str) -> None:
        """A video the provider no longer lists (deleted): no cursor any more."""
        if self._seconds.pop(video_id, None) is not None:
            self._listing.remove(video_id)
            self._confirmed.discard(video_id)
            self._at = None

    async def _list_from(
        self, after: str | None, wanted: set[str], planned: int, answers: _Answers, paging: _Paging
    ) -> None:
        """`planned` pages from `after` on, following the provider's cursors, until every
        wanted job was seen or the pages are older; a wanted job none held counts a miss.

        Adds to `paging.sent` each page it asked for.
        """
        unseen = {video_id: self._jobs[video_id].row.created_at for video_id in wanted}
        sent = 0
        while sent < planned or (sent <= self._never_missed(unseen) and paging.spare > 0):
            # Past its planned pages, a run pages on only while that is no dearer than
            # retrieving every job still unseen (a busy shared key buries ours deep) that no
            # page missed before (one that was is retrieved: that is sure), and only with
            # requests no other run or retrieve of this cycle needs.
            if sent >= planned:
                paging.spare -= 1
            if not self._spend():
                break
            paging.sent += 1
            try:
                page = await self._api.list(limit=self._page_size, order="desc", after=after)
            except APIStatusError as exc:
                self._observe(exc.meta)
                if sent or after is None or exc.status is None or not 400 <= exc.status < 500:
                    raise
                if isinstance(exc, RateLimitError):
                    raise
                if after not in self._jobs:
                    self._forget(after)  # a finished job, deleted since
                    break
                # A tracked job's id as a cursor, refused (a provider that takes only its own
                # cursors): read pages from the newest from now on.
                self._cursors_refused = True
                log.warning("a page starting after %s was refused (%s)", after, exc)
                break
            sent += 1
            self._observe(page.meta)
            self._learn(after, page.data)
            for video in page.data:
                job = self._jobs.get(video.id)
                if job is not None:
                    job.misses = 0
                    answers.add(video.id, video, page.meta.poll_after_ms)
                    unseen.pop(video.id, None)
            if not unseen or not page.has_more or not page.data:
                break
            oldest = page.data[-1].created_at
            if oldest is not None and oldest < min(unseen.values()):
                break
            after = page.last_id or page.data[-1].id
        for video_id in unseen:
            job = self._jobs.get(video_id)
            if job is not None:
                job.misses += 1

    def _never_missed(self, video_ids: dict[str, int]) -> int:
        jobs = (self._jobs.get(video_id) for video_id in video_ids)
        return sum(1 for job in jobs if job is not None and job.misses == 0)

    async def _retrieve(
        self, jobs: list[_Tracked], answers: _Answers, now: float
    ) -> VideoAPIError | None:
        """Retrieve each job; the provider's own trouble (a 429, no connection) is returned,
        to back off after.

        A 5xx to a retrieve is that job's, not the provider's (LiteLLM answers 500 for an id it
        cannot route, or a Gemini job its validation refuses): it retries on its own, and the
        other jobs keep their cadence.
        """
        results = await asyncio.gather(*(self._retrieve_one(job.row.id) for job in jobs))
        trouble: VideoAPIError | None = None
        for job, result in zip(jobs, results, strict=True):
            if isinstance(result, VideoAPIError | Video):
                self._observe(result.meta)
            if isinstance(result, Video):
                # Matched to the id asked for: LiteLLM re-encodes the id it answers with.
                answers.add(job.row.id, result, result.meta.poll_after_ms)
            elif isinstance(result, NotFoundError):
                await self._fail(
                    job, "not_found", "The provider no longer knows this video (it may be deleted)."
                )
            elif isinstance(result, RateLimitError | APIConnectionError):
                trouble = result  # the key's or the connection's, never one job's
            else:
                await self._look_failed(job, now, result)
        return trouble

    async def _retrieve_one(self, video_id: str) -> Video | Exception:
        async with self._retrieve_slots:
            try:
                return await self._api.retrieve(video_id)
            except Exception as exc:  # sorted by the caller; one bad job stops nothing
                return exc

    async def _look_failed(self, job: _Tracked, now: float, error: Exception) -> None:
        """Look again later, backing off, or end the job once its status has been unknown for
        `status_give_up` (its reservation is released when the failure is published)."""
        if job.failing_since is None:
            job.failing_since = now
        if now - job.failing_since >= self._status_give_up:
            minutes = round(self._status_give_up / 60)
            log.warning(
                "giving %s up: its status failed for %d min (%s)", job.row.id, minutes, error
            )
            await self._fail(
                job,
                STATUS_UNKNOWN,
                f"The provider could not say how this video is doing for {minutes} minutes.",
            )
            return
        job.failures += 1
        delay = self._job_backoff.delay(job.failures)
        job.look_at(now + delay)
        log.warning("refreshing %s failed (%s); again in %.0f s", job.row.id, error, delay)

    async def _apply(self, answers: _Answers, now: float) -> None:
        known = {vid: self._jobs[vid].row for vid in answers.videos if vid in self._jobs}
        stored = await self._videos.store_refreshes(answers.videos, known)
        rows = {row.id: (row, shown) for row, shown in stored}
        for video_id, video in answers.videos.items():
            job = self._jobs.get(video_id)
            if job is None:
                continue
            job.failures = 0
            job.failing_since = None
            if video.unknown_status is not None and not job.unknown_logged:
                job.unknown_logged = True
                log.warning(
                    "the provider says %r for %s, a status the bot does not know; "
                    "treating it as still running",
                    video.unknown_status,
                    video_id,
                )
            previous = job.row.status
            row, shown = rows.get(video_id, (job.row, False))
            job.row = row
            finished = video.finished or row.finished
            if not finished:
                self._schedule(job, now, answers.hints[video_id])
            if shown:
                self._publish(row, previous, None if finished else job.predicted_end)
            if finished:
                self._drop(video_id)

    def _schedule(self, job: _Tracked, now: float, hint_ms: int | None) -> None:
        """Predict the job's end from what it has shown so far, and when to look again."""
        row = job.row
        stalled = False
        if row.status == "in_progress":
            if job.running_since is None:
                job.running_since = (now, row.progress)
            if job.changes and job.changes[-1][1] == row.progress:
                stalled = True
            else:
                job.changes.append((now, row.progress))
        recent = job.changes[0] if len(job.changes) > 1 else None
        job.predicted_end = self._cadence.predict(row, now, job.running_since, recent)
        delay = self._cadence.delay(
            row, now, hint_ms, job.predicted_end, stalled=stalled, pages=self._pages_in_play()
        )
        job.look_at(now + delay, self._cadence.wait_allowed(delay, now, job.predicted_end))

    async def _enforce_deadline(self, now: float) -> int:
        """Fail the jobs past the deadline, each checked once more first: one the provider
        reports finished is stored and published, however late. Returns the requests made."""
        # One whose looks are failing is checked when its backoff allows, like any look.
        late = [
            job
            for job in self._jobs.values()
            if now - job.row.created_at > self._deadline
            and (job.failing_since is None or job.due <= now)
        ]
        # The rest wait for the budget, still tracked: none is failed unchecked.
        checked = [job for job in late if self._spend()]
        if not checked:
            return 0
        answers = _Answers()
        trouble = await self._retrieve(checked, answers, now)
        await self._apply(answers, now)
        if trouble is not None:
            raise trouble  # checked again after the pause
        minutes = round(self._deadline / 60)
        for job in checked:
            # Only a job the provider answered for: one whose look failed was not checked.
            if job.row.id in self._jobs and job.row.id in answers.videos:
                await self._fail(
                    job, "timeout", f"The provider did not finish within {minutes} min."
                )
        return len(checked)

    async def _fail(self, job: _Tracked, code: str, message: str) -> None:
        self._drop(job.row.id)
        if await self._videos.mark_failed(job.row.id, code, message):
            row = await self._videos.get(job.row.id)
            if row is not None:
                self._publish(row, job.row.status)

    def _publish(
        self, row: VideoRow, previous: VideoStatus | None, predicted_end: float | None = None
    ) -> None:
        if self._leases is not None:
            # Each job's events come from the process holding its lease, and once per change.
            if row.key not in self._held:
                return
            self._shown[row.key] = row
        event = JobEvent(row, previous, predicted_end)
        for queue in self._subscribers:
            queue.put_nowait(event)
