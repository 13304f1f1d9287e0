"""Every unfinished job followed to its end with the fewest API calls, across restarts.

The database is the queue: on start the tracker loads every job not yet delivered, and each
change it learns is written first, then published to subscribers (delivery, tests). One loop
sleeps until the earliest job is due or a new job wakes it; a due job is refreshed through
one `GET /videos` page, which covers up to a hundred jobs at once, and `retrieve` only for the
jobs no page covered (or all of them when the provider has no list).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.leases import Leases
from bot.storage import VideoRepository, VideoRow
from bot.tasks import cancel_and_wait
from bot.videoapi.client import VideoClient
from bot.videoapi.errors import (
    APIConnectionError,
    APIStatusError,
    InternalServerError,
    NotFoundError,
    RateLimitError,
    UnsupportedOperationError,
    VideoAPIError,
)
from bot.videoapi.models import Operation, Video, VideoStatus

log = logging.getLogger(__name__)

Clock = Callable[[], float]

# Answers that say the provider, not one job, is in trouble: the whole tracker backs off.
PROVIDER_TROUBLE = (RateLimitError, InternalServerError, APIConnectionError)


@dataclass(frozen=True, slots=True)
class JobEvent:
    """A job's row right after a change was stored."""

    job: VideoRow
    previous_status: VideoStatus | None
    # When the tracker expects the job to finish (unix seconds); None without an estimate.
    predicted_end: float | None = None


@dataclass(frozen=True, slots=True)
class Cadence:
    """When to look at a job again: soon after it starts, near its expected end, rarely between."""

    base: float = 5.0
    floor: float = 1.0
    ceiling: float = 30.0

    def delay(
        self,
        job: VideoRow,
        now: float,
        hint_ms: int | None = None,
        since: tuple[float, int] | None = None,
    ) -> float:
        """`since` is when the tracker first saw the job in progress, and its progress then."""
        if hint_ms is not None:
            return self._clamp(hint_ms / 1000)
        if job.status == "in_progress" and since is not None:
            seen_at, seen_progress = since
            gained, took = job.progress - seen_progress, now - seen_at
            if gained > 0 and took > 0:
                # The pace since it started running (not its time in the queue) predicts the end.
                return self._clamp((100 - job.progress) * took / gained)
            return self._clamp(self.base)
        # Queued: quick at first (early failures), then slower the longer it waits.
        age = max(0.0, now - job.created_at)
        return self._clamp(max(self.base, age / 4))

    def _clamp(self, seconds: float) -> float:
        return min(self.ceiling, max(self.floor, seconds))


@dataclass(slots=True)
class _Tracked:
    row: VideoRow
    due: float
    failures: int = 0
    running_since: tuple[float, int] | None = None
    unknown_logged: bool = False


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
        api: VideoClient,
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
    ) -> None:
        self._api = api
        self._videos = videos
        self._cadence = cadence or Cadence()
        self._deadline = deadline
        self._clock = clock
        self._page_size = page_size
        self._retrieve_slots = asyncio.Semaphore(max_concurrent_retrieves)
        self._backoff_base = backoff_base
        self._backoff_max = backoff_max
        self._jobs: dict[str, _Tracked] = {}
        self._per_owner: Counter[int] = Counter()
        self._subscribers: list[asyncio.Queue[JobEvent]] = []
        self._wakeup = asyncio.Event()
        self._paused_until = 0.0
        # Set after each cycle from what it cost: the sustained rate stays near 1 request per
        # cadence.floor seconds however many jobs there are (low tiers allow 10-25 a minute).
        self._next_cycle_at = 0.0
        self._fresh = False
        self._trouble = 0
        self._task: asyncio.Task[None] | None = None
        # None: this process is the only one, and follows every job.
        self._leases = leases
        self._lease_task: asyncio.Task[None] | None = None

    @property
    def tracked(self) -> frozenset[str]:
        return frozenset(self._jobs)

    @property
    def paused_until(self) -> float:
        return self._paused_until

    def unfinished_for(self, owner_id: int) -> int:
        """Jobs of this owner being followed now: a quick check, before the database's answer."""
        return self._per_owner[owner_id]

    def _drop(self, video_id: str) -> None:
        job = self._jobs.pop(video_id, None)
        if job is not None:
            self._per_owner[job.row.owner_id] -= 1
            if self._per_owner[job.row.owner_id] <= 0:
                del self._per_owner[job.row.owner_id]

    def subscribe(self) -> asyncio.Queue[JobEvent]:
        """A queue of every event from now on; subscribe before start() to get the replays."""
        queue: asyncio.Queue[JobEvent] = asyncio.Queue()
        self._subscribers.append(queue)
        return queue

    async def start(self) -> None:
        """Load every undelivered job; finished ones are published again for delivery."""
        mine = await self._leases.claim_free() if self._leases is not None else None
        for row in await self._videos.pending():
            if mine is None or row.key in mine:
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
        """Follow a job whose row was just inserted; its first refresh happens at once."""
        row = await self._videos.get(video_id)
        if row is not None and (self._leases is None or await self._leases.claim(row.key)):
            self._follow(row)
        # A new job's first look is not held back by the pacing of the others.
        self._fresh = True
        self._wakeup.set()

    async def _keep_leases(self, leases: Leases) -> None:
        """With other processes on the database: keep this one's jobs, take the free ones."""
        while True:
            await asyncio.sleep(leases.renew_every)
            try:
                # Only jobs followed before the renewal can have been lost by it: one that
                # track() leased meanwhile is not in `held` yet.
                before = set(self._jobs)
                held = await leases.renew()
                lost = [j for j in self._jobs.values() if j.row.id in before]
                for job in [j for j in lost if j.row.key not in held]:
                    log.warning("lost the lease of %s; another process follows it", job.row.id)
                    self._drop(job.row.id)
                for key in await leases.claim_free():
                    row = await self._videos.get_by_key(key)
                    if row is not None:
                        self._follow(row)
                        self._fresh = True
                self._wakeup.set()
            except Exception:  # the database is away for a moment: try again next round
                log.exception("keeping the job leases failed")

    def wake(self, video_id: str | None = None) -> None:
        """Refresh now: one job (a webhook said it changed) or whatever is due."""
        if video_id is not None and video_id in self._jobs:
            self._jobs[video_id].due = self._clock()
            self._fresh = True
        self._wakeup.set()

    def _follow(self, row: VideoRow) -> None:
        if row.deleted_at is not None or row.delivered_at is not None:
            return
        if row.finished:
            self._publish(row, None)
        else:
            if row.id not in self._jobs:
                self._per_owner[row.owner_id] += 1
            self._jobs[row.id] = _Tracked(row, due=self._clock())

    async def _run(self) -> None:
        while True:
            wait = self._seconds_to_next()
            if wait is None or wait > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wakeup.wait(), wait)
            self._wakeup.clear()
            started = self._clock()
            if started < self._paused_until:
                continue
            if started < self._next_cycle_at and not self._fresh:
                continue
            self._fresh = False
            try:
                requests = await self.refresh_due()
                # The provider's rate is the API key's, shared by every process following jobs.
                peers = self._leases.peers if self._leases is not None else 1
                self._next_cycle_at = started + self._cadence.floor * requests * peers
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
        if self._fresh:
            return 0.0
        if not self._jobs:
            return None
        return max(min(job.due for job in self._jobs.values()), self._next_cycle_at) - now

    def _back_off(self, exc: Exception | None) -> None:
        self._trouble += 1
        delay = min(self._backoff_max, self._backoff_base * 2 ** (self._trouble - 1))
        delay *= random.uniform(0.75, 1.0)
        self._paused_until = self._clock() + delay
        log.warning("provider trouble (%s): pausing every refresh for %.1f s", exc, delay)

    async def refresh_due(self) -> int:
        """One cycle: refresh every due job by the cheapest route, then enforce the deadline.

        Returns how many requests it made.
        """
        now = self._clock()
        due = [job for job in self._jobs.values() if job.due <= now]
        requests = 0
        if due:
            answers = _Answers()
            if self._api.supports(Operation.LIST) is not False:
                requests += await self._list_or_give_up(due, answers)
            missing = [job for job in due if job.row.id not in answers.videos]
            requests += len(missing)
            trouble = await self._retrieve(missing, answers, now)
            await self._apply(answers, now)
            if trouble is not None:
                raise trouble
        await self._enforce_deadline(now)
        return requests

    async def _list_or_give_up(self, due: list[_Tracked], answers: _Answers) -> int:
        """List what it can; a list route that refuses us means retrieving, in this very cycle.

        A 4xx from `GET /videos` is about the route (LiteLLM wants a provider named, some
        servers want other parameters), never about one job: listing is marked unusable and
        every job is retrieved from then on. Only 429, 5xx and connection errors back off.
        """
        pages = 0
        try:
            pages = await self._list_covering(due, answers)
        except UnsupportedOperationError:
            pass
        except APIStatusError as exc:
            if isinstance(exc, PROVIDER_TROUBLE) or exc.status is None or exc.status >= 500:
                raise
            self._api.capabilities.record(Operation.LIST, served=False)
            log.warning("listing videos is refused (%s); retrieving each job instead", exc)
            pages = 1
        return pages

    async def _list_covering(self, due: list[_Tracked], answers: _Answers) -> int:
        """Newest-first pages until every due job was seen or the pages are older than them.

        Returns how many pages it asked for.
        """
        unseen = {job.row.id: job.row.created_at for job in due}
        after: str | None = None
        pages = 0
        # A page costs one request, as one retrieve does: page on only while that is no dearer
        # than retrieving every job still unseen (a busy shared key buries ours deep).
        while pages <= len(unseen):
            page = await self._api.list(limit=self._page_size, order="desc", after=after)
            pages += 1
            for video in page.data:
                if video.id in self._jobs:
                    answers.add(video.id, video, page.meta.poll_after_ms)
                    unseen.pop(video.id, None)
            if not unseen or not page.has_more or not page.data:
                break
            oldest = page.data[-1].created_at
            if oldest is not None and oldest < min(unseen.values()):
                break
            after = page.last_id
        return pages

    async def _retrieve(
        self, jobs: list[_Tracked], answers: _Answers, now: float
    ) -> VideoAPIError | None:
        """Retrieve each job; the provider's own trouble is returned, to back off after.

        A 5xx that only some jobs meet while others were answered is theirs, not the
        provider's (LiteLLM answers 500 for an id it cannot route): they retry on their own.
        """
        results = await asyncio.gather(*(self._retrieve_one(job.row.id) for job in jobs))
        trouble: VideoAPIError | None = None
        troubled: list[tuple[_Tracked, VideoAPIError]] = []
        for job, result in zip(jobs, results, strict=True):
            if isinstance(result, Video):
                # Matched to the id asked for: LiteLLM re-encodes the id it answers with.
                answers.add(job.row.id, result, result.meta.poll_after_ms)
            elif isinstance(result, NotFoundError):
                await self._fail(
                    job, "not_found", "The provider no longer knows this video (it may be deleted)."
                )
            elif isinstance(result, PROVIDER_TROUBLE):
                trouble = result
                troubled.append((job, result))
            else:
                self._retry_later(job, now, result)
        # Only a 5xx can be one job's; a 429 or a lost connection is the provider's.
        own = all(isinstance(error, InternalServerError) for _, error in troubled)
        if trouble is None or not answers.videos or not own:
            return trouble
        for job, error in troubled:
            self._retry_later(job, now, error)
        return None

    async def _retrieve_one(self, video_id: str) -> Video | Exception:
        async with self._retrieve_slots:
            try:
                return await self._api.retrieve(video_id)
            except Exception as exc:  # sorted by the caller; one bad job stops nothing
                return exc

    def _retry_later(self, job: _Tracked, now: float, error: Exception) -> None:
        job.failures += 1
        delay = min(self._backoff_max, self._cadence.base * 2**job.failures)
        job.due = now + delay
        log.warning("refreshing %s failed (%s); again in %.0f s", job.row.id, error, delay)

    async def _apply(self, answers: _Answers, now: float) -> None:
        changed = {row.id: row for row in await self._videos.apply_refreshes(answers.videos)}
        for video_id, video in answers.videos.items():
            job = self._jobs.get(video_id)
            if job is None:
                continue
            job.failures = 0
            if video.unknown_status is not None and not job.unknown_logged:
                job.unknown_logged = True
                log.warning(
                    "the provider says %r for %s, a status the bot does not know; "
                    "treating it as still running",
                    video.unknown_status,
                    video_id,
                )
            if video_id in changed:
                previous = job.row.status
                job.row = changed[video_id]
                self._publish(job.row, previous)
            if video.finished or job.row.finished:
                self._drop(video_id)
                continue
            if job.running_since is None and job.row.status == "in_progress":
                job.running_since = (now, job.row.progress)
            hint = answers.hints[video_id]
            job.due = now + self._cadence.delay(job.row, now, hint, job.running_since)

    async def _enforce_deadline(self, now: float) -> None:
        late = [job for job in self._jobs.values() if now - job.row.created_at > self._deadline]
        minutes = round(self._deadline / 60)
        for job in late:
            await self._fail(job, "timeout", f"The provider did not finish within {minutes} min.")

    async def _fail(self, job: _Tracked, code: str, message: str) -> None:
        self._drop(job.row.id)
        if await self._videos.mark_failed(job.row.id, code, message):
            row = await self._videos.get(job.row.id)
            if row is not None:
                self._publish(row, job.row.status)

    def _publish(self, row: VideoRow, previous: VideoStatus | None) -> None:
        event = JobEvent(row, previous)
        for queue in self._subscribers:
            queue.put_nowait(event)
