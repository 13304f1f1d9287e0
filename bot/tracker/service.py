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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

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
from bot.videoapi.providers import Providers, routed

if TYPE_CHECKING:  # only handed in on PostgreSQL, whose client the tracker need not load
    from bot.storage.notices import ChangeFeed

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


@dataclass(slots=True)
class _Lane:
    """One provider's share of the tracking: its request budget, its pause after trouble, and
    its listing as its pages showed it (a provider lists only the videos it made)."""

    name: str
    api: VideoBackend
    budget: RequestBudget
    paused_until: float = 0.0
    trouble: int = 0
    # The provider's listing, newest first, as its pages showed it: every job followed since
    # start (finished ones too) and every video a page held, down to a page past the oldest
    # tracked job. A job no page has held yet sits at the top of its creation second.
    listing: list[str] = field(default_factory=list)
    # Creation second of each video in the listing.
    seconds: dict[str, int] = field(default_factory=dict)
    # The videos a page showed where they are: the page after one of them is the one the
    # provider would give. Where the others sit among them is only estimated.
    confirmed: set[str] = field(default_factory=set)
    # Index of each video in the listing; None after the listing changed.
    at: dict[str, int] | None = None
    # Listing positions from the newest video to the oldest tracked job.
    span: int = 0
    # Set when the provider refused a page that starts after one of our ids: from then on
    # pages are read from the newest only.
    cursors_refused: bool = False
    # Its cycle under way in the tracker's loop: a slow provider holds up only its own looks.
    task: asyncio.Task[None] | None = None

    @property
    def busy(self) -> bool:
        return self.task is not None and not self.task.done()


# A job whose provider is no longer configured: nothing can be asked about it.
PROVIDER_REMOVED = "provider_removed"


class Tracker:
    def __init__(
        self,
        api: VideoBackend | Providers,
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
        budgets: Mapping[str, RequestBudget] | None = None,
        changes: ChangeFeed | None = None,
    ) -> None:
        providers = routed(api)
        # Each provider's looks are planned and paced on their own: its pages, its budget
        # (`budgets`, else its profile's rate; `budget` is the first provider's), its pauses.
        chosen = {providers.default: budget} if budget is not None else {}
        chosen |= dict(budgets or {})
        self._lanes = {
            name: _Lane(
                name,
                backend,
                chosen.get(name) or RequestBudget(backend.profile.requests_per_minute),
            )
            for name, backend in providers
        }
        # Followed jobs whose provider is no longer configured: failed, saying so, next cycle.
        self._orphans: dict[str, VideoRow] = {}
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
        self._synced_at = 0.0
        # With leases on PostgreSQL: notices of this process's jobs changed by the leader (and
        # sent by it for other processes' jobs), so that a follower need not poll for them.
        self._changes = changes
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
        """Until when the latest paused provider's looks wait."""
        return max(lane.paused_until for lane in self._lanes.values())

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
        if self._changes is not None:
            self._changes.start(self._changes_noticed)

    async def stop(self) -> None:
        await cancel_and_wait(self._task, self._lease_task)
        self._task = self._lease_task = None
        await cancel_and_wait(*(lane.task for lane in self._lanes.values()))
        if self._changes is not None:
            await self._changes.stop()

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
                claimed, leading = await leases.keep()
                self._held |= claimed
                for row in await self._videos.by_keys(sorted(claimed)):
                    self._follow(row)
                self._lead(leading)
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
        publish their jobs' changes as the leader wrote them.

        A follower with a change feed reads when a notice says one of its jobs changed
        (`_changes_noticed`); its own reads, at the cadence's ceiling (no job waits longer
        for a look), are only the safety net for a notice that was lost.
        """
        now = self._synced_at = self._clock()
        slow = not self._leading and self._changes is not None
        self._sync_at = now + (self._cadence.ceiling if slow else self._cadence.floor)
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

    def _changes_noticed(self) -> None:
        """Another process changed one of this process's jobs (or the feed reconnected and may
        have missed some): read the changes now, or one spacing after the last read (notices
        come at most that often, and one read serves every notice before it)."""
        assert self._changes is not None  # only the feed calls this
        self._sync_at = min(self._sync_at, self._synced_at + self._changes.spacing)
        self._wakeup.set()

    def _announce(self, keys: set[int]) -> None:
        """After writing: tell the holders of other processes' jobs that they changed."""
        if self._changes is not None:
            self._changes.announce(keys - self._held)

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
            lane = self._lanes.get(row.provider)
            if lane is None:
                self._orphans[row.id] = row
                return
            now = self._clock()
            self._jobs[row.id] = _Tracked(row, due=now, latest=now)
            if row.id not in lane.seconds:
                self._place(lane, row.id, row.created_at)

    async def _run(self) -> None:
        while True:
            wait = self._seconds_to_next()
            if wait is None or wait > 0:
                await wait_event(self._wakeup, wait)
            else:
                # A cycle that finds nothing to send awaits nothing: let the loop run between.
                await asyncio.sleep(0)
            self._wakeup.clear()
            try:
                if self._leases is not None and self._clock() >= self._sync_at:
                    await self._sync()
                if self.leading:
                    await self._cycle()
            except Exception:
                # Never let one bad cycle end the loop (a tasks.loop would die here).
                log.exception("tracker cycle failed")
                for lane in self._lanes.values():
                    self._back_off(lane, None)

    async def _cycle(self) -> None:
        """Every provider's due looks, each provider's in a task of its own: a slow provider
        holds up no other's looks (its next cycle starts once its last one ended), and one in
        trouble pauses alone."""
        now = self._clock()
        # An announced state needs no request: it is taken while a provider's requests wait.
        await self._apply_sightings(now)
        await self._fail_orphans()
        for lane in self._lanes.values():
            if now < lane.paused_until or lane.busy:
                continue
            lane.task = asyncio.create_task(
                self._cycle_lane(lane, now), name=f"videobot-tracker-{lane.name}"
            )
            # Its end may make its next looks due: the loop plans again.
            lane.task.add_done_callback(lambda _: self._wakeup.set())

    async def _cycle_lane(self, lane: _Lane, now: float) -> None:
        try:
            await self._refresh_lane(lane, now)
        except PROVIDER_TROUBLE as exc:
            self._back_off(lane, exc)
        except Exception:
            log.exception("tracker cycle of provider %s failed", lane.name)
            self._back_off(lane, None)
        else:
            lane.trouble = 0

    def _seconds_to_next(self) -> float | None:
        now = self._clock()
        sync = self._sync_at - now if self._leases is not None else None
        if self._orphans:
            return 0.0
        earliest: dict[str, float] = {}
        for job in self._jobs.values():
            name = job.row.provider
            earliest[name] = min(job.latest, earliest.get(name, job.latest))
        waits = []
        for name, latest in earliest.items():
            lane = self._lanes[name]
            if lane.busy:
                continue  # its task wakes the loop when it ends
            if now < lane.paused_until:
                waits.append(lane.paused_until - now)
            else:
                waits.append(max(latest, lane.budget.ready_at(now)) - now)
        if not waits:
            return sync
        wait = min(waits)
        return wait if sync is None else min(wait, sync)

    def _back_off(self, lane: _Lane, exc: Exception | None) -> None:
        lane.trouble += 1
        delay = self._pause.delay(lane.trouble - 1)
        if isinstance(exc, VideoAPIError):
            # A 429's Retry-After is obeyed when it asks for longer than our own backoff.
            delay = max(delay, min(self._backoff_max, exc.meta.retry_after_s or 0.0))
        lane.paused_until = self._clock() + delay
        log.warning(
            "provider %s in trouble (%s): pausing its refreshes for %.1f s", lane.name, exc, delay
        )

    def _observe(self, lane: _Lane, meta: ResponseMeta) -> None:
        lane.budget.observe(meta, self._clock())

    def _spend(self, lane: _Lane) -> bool:
        return lane.budget.try_spend(self._clock())

    async def refresh_due(self) -> int:
        """One cycle: refresh due jobs, most urgent first, within each provider's budget;
        enforce the deadline. A provider's trouble is raised (after the others' looks).

        Returns how many requests it made.
        """
        now = self._clock()
        await self._apply_sightings(now)
        await self._fail_orphans()
        requests = 0
        trouble: Exception | None = None
        for lane in self._lanes.values():
            try:
                requests += await self._refresh_lane(lane, now)
            except PROVIDER_TROUBLE as exc:
                trouble = trouble or exc
        if trouble is not None:
            raise trouble
        return requests

    async def _refresh_lane(self, lane: _Lane, now: float) -> int:
        """One provider's due jobs, most urgent first, within its budget; its deadline."""
        # Jobs whose look cannot wait longer, most urgent first; pages for them also serve
        # every job whose look may come now.
        due = sorted(
            (
                job
                for job in self._jobs.values()
                if job.latest <= now and job.row.provider == lane.name
            ),
            key=_most_urgent,
        )
        requests = 0
        if due:
            answers = _Answers()
            if lane.api.supports(Operation.LIST) is not False:
                requests += await self._list_or_give_up(lane, due, answers, now)
            missing = []
            for job in due:
                if job.row.id in answers.videos or job.row.id not in self._jobs:
                    continue
                if not self._spend(lane):
                    break  # the rest wait for the next cycle, still due and first in line
                missing.append(job)
            requests += len(missing)
            trouble = await self._retrieve(lane, missing, answers, now)
            await self._apply(answers, now)
            if trouble is not None:
                raise trouble
        return requests + await self._enforce_deadline(lane, now)

    async def _fail_orphans(self) -> None:
        """Jobs whose provider was removed from the configuration: failed, and their cards
        say so (nothing can be asked of a provider the bot no longer knows)."""
        while self._orphans:
            _, row = self._orphans.popitem()
            log.warning("%s was made by %r, which is no longer configured", row.ref, row.provider)
            await self._fail(
                _Tracked(row, due=0.0, latest=0.0),
                PROVIDER_REMOVED,
                f"The provider that made this video ({row.provider}) is no longer configured,"
                " so I cannot follow it.",
            )

    async def _list_or_give_up(
        self, lane: _Lane, due: list[_Tracked], answers: _Answers, now: float
    ) -> int:
        """List what it can; a list route that refuses us means retrieving, in this very cycle.

        A 4xx from `GET /videos` is about the route (LiteLLM wants a provider named, some
        servers want other parameters), never about one job: listing is marked unusable and
        every job is retrieved from then on. Only 429, 5xx and connection errors back off.
        Returns how many pages it asked for.
        """
        runs, spare = self._plan_pages(lane, due, now)
        paging = _Paging(spare=spare)
        results = await asyncio.gather(
            *(
                self._list_from(lane, after, wanted, planned, answers, paging)
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
                lane.api.capabilities.record(Operation.LIST, served=False)
                log.warning("listing videos is refused (%s); retrieving each job instead", result)
            elif isinstance(result, BaseException):
                raise result
        return paging.sent

    def _plan_pages(
        self, lane: _Lane, due: list[_Tracked], now: float
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
        allowance = lane.budget.available(now)
        if lane.cursors_refused:
            return [(None, {job.row.id for job in due}, 1)], max(0, allowance - 1)
        at = self._positions(lane)
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
                for video_id in lane.listing[
                    number * self._page_size : (number + 1) * self._page_size
                ]
                if video_id in self._jobs
            ]
            if index is None or job.misses >= 2 or len(window) < 2:
                planned.add(job.row.id)
                retrieves += 1
                continue
            first = number
            while first and lane.listing[first * self._page_size - 1] not in lane.confirmed:
                first -= 1
            for page in range(first, number + 1):
                if page in pages:
                    continue
                if len(pages) + retrieves >= allowance:
                    break
                pages[page] = {
                    video_id
                    for video_id in lane.listing[
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
                after = lane.listing[number * self._page_size - 1] if number else None
                runs.append((after, pages[number], 1))
            previous = number
        return runs, max(0, allowance - len(pages) - retrieves)

    def _positions(self, lane: _Lane) -> dict[str, int]:
        """Each listed video's index; the listing is cut a page past the oldest tracked job
        (older videos are in no page the tracker reads)."""
        if lane.at is None:
            tracked = (i for i, video_id in enumerate(lane.listing) if video_id in self._jobs)
            last = max(tracked, default=0)
            for video_id in lane.listing[last + self._page_size :]:
                del lane.seconds[video_id]
                lane.confirmed.discard(video_id)
            del lane.listing[last + self._page_size :]
            lane.at = {video_id: index for index, video_id in enumerate(lane.listing)}
            lane.span = last + 1
        return lane.at

    def _place(self, lane: _Lane, video_id: str, created_at: int) -> None:
        """A job no page has held yet: at the top of its creation second (the provider lists
        newer seconds first; within one second, its own order is learned from its pages)."""
        index = bisect_left(lane.listing, -created_at, key=lambda v: -lane.seconds[v])
        lane.listing.insert(index, video_id)
        lane.seconds[video_id] = created_at
        lane.at = None

    def _learn(self, lane: _Lane, after: str | None, videos: list[Video]) -> None:
        """What a page shows of the provider's order: its videos, in its order, right after
        `after` (the top for None)."""
        if not videos:
            return
        at = self._positions(lane)
        if after is not None and after not in at:
            return  # a cursor cut from the listing since: nothing to place them after
        start = 0 if after is None else at[after] + 1
        shown = [video.id for video in videos]
        if lane.listing[start : start + len(shown)] == shown:
            lane.confirmed.update(shown)
            return  # where the tracker had them
        held = set(shown)
        if after in held:
            return  # a page holding its own cursor says nothing of where it is
        rest = [video_id for video_id in lane.listing if video_id not in held]
        start = 0 if after is None else rest.index(after) + 1
        lane.listing = rest[:start] + shown + rest[start:]
        # A video without its second takes the one above it, so the listing stays ordered.
        second = 0 if after is None else lane.seconds[after]
        for video in videos:
            second = video.created_at if video.created_at is not None else second
            lane.seconds[video.id] = second
        lane.confirmed.update(shown)
        lane.at = None

    def _pages_in_play(self, lane: _Lane) -> int:
        """How many pages hold the tracked jobs; 1 when every job is retrieved on its own."""
        if lane.cursors_refused or lane.api.supports(Operation.LIST) is False:
            return 1
        return -(-lane.span // self._page_size)

    def _forget(self, lane: _Lane, video_id: str) -> None:
        """A video the provider no longer lists (deleted): no cursor any more."""
        if lane.seconds.pop(video_id, None) is not None:
            lane.listing.remove(video_id)
            lane.confirmed.discard(video_id)
            lane.at = None

    async def _list_from(
        self,
        lane: _Lane,
        after: str | None,
        wanted: set[str],
        planned: int,
        answers: _Answers,
        paging: _Paging,
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
            if not self._spend(lane):
                break
            paging.sent += 1
            try:
                page = await lane.api.list(limit=self._page_size, order="desc", after=after)
            except APIStatusError as exc:
                self._observe(lane, exc.meta)
                if sent or after is None or exc.status is None or not 400 <= exc.status < 500:
                    raise
                if isinstance(exc, RateLimitError):
                    raise
                if after not in self._jobs:
                    self._forget(lane, after)  # a finished job, deleted since
                    break
                # A tracked job's id as a cursor, refused (a provider that takes only its own
                # cursors): read pages from the newest from now on.
                lane.cursors_refused = True
                log.warning("a page starting after %s was refused (%s)", after, exc)
                break
            sent += 1
            self._observe(lane, page.meta)
            self._learn(lane, after, page.data)
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
        self, lane: _Lane, jobs: list[_Tracked], answers: _Answers, now: float
    ) -> VideoAPIError | None:
        """Retrieve each job; the provider's own trouble (a 429, no connection) is returned,
        to back off after.

        A 5xx to a retrieve is that job's, not the provider's (LiteLLM answers 500 for an id it
        cannot route, or a Gemini job its validation refuses): it retries on its own, and the
        other jobs keep their cadence.
        """
        results = await asyncio.gather(*(self._retrieve_one(lane, job.row.id) for job in jobs))
        trouble: VideoAPIError | None = None
        for job, result in zip(jobs, results, strict=True):
            if isinstance(result, VideoAPIError | Video):
                self._observe(lane, result.meta)
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

    async def _retrieve_one(self, lane: _Lane, video_id: str) -> Video | Exception:
        async with self._retrieve_slots:
            try:
                return await lane.api.retrieve(video_id)
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
        self._announce({row.key for row, shown in stored if shown})
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
        pages = self._pages_in_play(self._lanes[row.provider])
        delay = self._cadence.delay(
            row, now, hint_ms, job.predicted_end, stalled=stalled, pages=pages
        )
        job.look_at(now + delay, self._cadence.wait_allowed(delay, now, job.predicted_end))

    async def _enforce_deadline(self, lane: _Lane, now: float) -> int:
        """Fail the jobs past the deadline, each checked once more first: one the provider
        reports finished is stored and published, however late. Returns the requests made."""
        # One whose looks are failing is checked when its backoff allows, like any look.
        late = [
            job
            for job in self._jobs.values()
            if now - job.row.created_at > self._deadline
            and job.row.provider == lane.name
            and (job.failing_since is None or job.due <= now)
        ]
        # The rest wait for the budget, still tracked: none is failed unchecked.
        checked = [job for job in late if self._spend(lane)]
        if not checked:
            return 0
        answers = _Answers()
        trouble = await self._retrieve(lane, checked, answers, now)
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
            self._announce({job.row.key})
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
