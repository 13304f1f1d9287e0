"""Jobs and characters held in memory, and the time model that moves jobs along.

A job's status is never stored: it is derived from the clock each time it is read, so advancing
a test clock is all it takes to move every job forward.
"""

from __future__ import annotations

import math
import random
import uuid
from collections import Counter, deque
from dataclasses import dataclass

from bot.simulator.config import SimulatorConfig
from bot.simulator.dialects import DIALECTS
from bot.simulator.errors import ApiError, CreateRefusal, invalid, not_found
from bot.simulator.progress import SHAPES, ProgressShape, shaped
from bot.videoapi.models import (
    Character,
    DeletedVideo,
    ListOrder,
    Operation,
    Video,
    VideoError,
    VideoPage,
    VideoStatus,
)

ASSET_LIFETIME_SECONDS = 86_400
MODERATION_BLOCKED = VideoError(
    code="moderation_blocked",
    message="Your request was blocked by our moderation system.",
)


@dataclass(slots=True)
class Job:
    id: str
    model: str
    size: str
    seconds: str
    prompt: str
    remixed_from: str | None
    started: float
    queued_until: float
    # When the job reaches its final status, on the config's clock (time.time unless a test's).
    ends: float
    # Decided when the job is created, shown only once it ends.
    failure: VideoError | None
    shape: ProgressShape = "linear"

    @property
    def created_at(self) -> int:
        return int(self.started)

    def status_at(self, now: float) -> VideoStatus:
        if now >= self.ends:
            return "failed" if self.failure else "completed"
        return "in_progress" if now >= self.queued_until else "queued"

    @property
    def expires_at(self) -> int:
        return int(self.ends) + ASSET_LIFETIME_SECONDS

    def video_at(self, now: float) -> Video:
        status = self.status_at(now)
        progress = 0
        if status == "completed":
            progress = 100
        elif status == "in_progress":
            done = (now - self.queued_until) / (self.ends - self.queued_until)
            progress = min(99, int(shaped(self.shape, done) * 100))
        completed = status == "completed"
        return Video(
            id=self.id,
            model=self.model,
            status=status,
            progress=progress,
            created_at=self.created_at,
            completed_at=int(self.ends) if completed else None,
            expires_at=self.expires_at if completed else None,
            prompt=self.prompt,
            size=self.size,
            seconds=self.seconds,
            remixed_from_video_id=self.remixed_from,
            error=self.failure if status == "failed" else None,
        )


def _sort_key(job: Job) -> tuple[int, str]:
    # Newest or oldest first by creation second, then by id: jobs created in the same second are
    # listed by a rule of the provider's own, not in the order their requests arrived (nor the
    # order a client stored them in), as real providers do.
    return (job.created_at, job.id)


class SimulatorState:
    """The simulator's memory; tests reach it through `app[STATE_KEY]`."""

    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self.new_video_id = DIALECTS[config.dialect].new_video_id
        self.rng = random.Random(config.seed)
        # Its own generator, so per-request fault draws never shift the durations, nor they the
        # faults: durations depend only on the seed and the order in which jobs are created.
        self._durations = random.Random(f"job_seconds:{config.seed}")
        self._shapes = random.Random(f"progress_shape:{config.seed}")
        # Held jobs wait, queued, with their clocks stopped until `release()` starts them all
        # at once: N truly concurrent jobs, however long creating them took. Value: duration.
        self.held: dict[str, float] | None = {} if config.hold else None
        self.jobs: dict[str, Job] = {}
        self.characters: dict[str, Character] = {}
        # Every request that reached a contract route, faulted or not: the API calls a client made.
        self.calls: Counter[Operation] = Counter()
        # The next creates to refuse, first first (faults a test or a bench adds as it runs).
        self.create_refusals: deque[CreateRefusal] = deque(config.create_refusals)
        # Sort keys outlive deletion, so a page cursor naming a deleted video still works.
        self._sort_keys: dict[str, tuple[int, str]] = {}

    def now(self) -> float:
        return self.config.clock()

    def chance(self, probability: float) -> bool:
        # No draw at rate 0, so turning one fault on does not reshuffle the others.
        return probability > 0 and self.rng.random() < probability

    def create_job(
        self,
        *,
        model: str,
        size: str,
        seconds: str,
        prompt: str,
        remixed_from: str | None = None,
    ) -> Job:
        now = self.now()
        duration = self.job_duration()
        blocked = self.chance(self.config.rate_moderation_failure)
        starts = math.inf if self.held is not None else now
        job = Job(
            id=self.new_video_id(),
            model=model,
            size=size,
            seconds=seconds,
            prompt=prompt,
            remixed_from=remixed_from,
            started=now,
            queued_until=starts + duration * self.config.queued_fraction,
            ends=starts + duration,
            failure=MODERATION_BLOCKED if blocked else None,
            shape=self.progress_shape(),
        )
        if self.held is not None:
            self.held[job.id] = duration
        self.jobs[job.id] = job
        self._sort_keys[job.id] = _sort_key(job)
        return job

    def job_duration(self) -> float:
        """Seconds from creation to the final status for the next job."""
        low, high = self.config.job_seconds, self.config.job_seconds_max
        if high is None or high == low:
            return low
        # Log-uniform: as many jobs between 30 s and 1 min as between 5 and 10 min.
        drawn = math.exp(self._durations.uniform(math.log(low), math.log(high)))
        return min(high, max(low, drawn))

    def progress_shape(self) -> ProgressShape:
        if self.config.progress_shape == "mixed":
            return self._shapes.choice(SHAPES)
        return self.config.progress_shape

    def release(self) -> int:
        """Start the clock of every held job now, and hold no more; returns how many started."""
        held, self.held = self.held or {}, None
        now = self.now()
        for video_id, duration in held.items():
            job = self.jobs.get(video_id)
            if job is not None and math.isinf(job.ends):
                job.queued_until = now + duration * self.config.queued_fraction
                job.ends = now + duration
        return len(held)

    def job(self, video_id: str, *, param: str = "video_id") -> Job:
        job = self.jobs.get(video_id)
        if job is None:
            raise not_found("video", video_id, param=param)
        return job

    def video(self, video_id: str) -> Video:
        return self.job(video_id).video_at(self.now())

    def completed_job(self, video_id: str, *, param: str = "video_id") -> Job:
        """A job that may serve as a source or be downloaded: 404 if unknown, 400 if unfinished."""
        job = self.job(video_id, param=param)
        status = job.status_at(self.now())
        if status != "completed":
            raise invalid(
                f"Video '{video_id}' is {status}; only a completed video can be used here.",
                param=param,
                code="video_not_completed",
            )
        return job

    def downloadable_job(self, video_id: str) -> Job:
        job = self.completed_job(video_id)
        if self.now() >= job.expires_at:
            raise ApiError(404, f"The assets of video '{video_id}' have expired.", param="video_id")
        return job

    def page(self, *, after: str | None, limit: int, order: ListOrder) -> VideoPage:
        descending = order == "desc"
        jobs = sorted(self.jobs.values(), key=_sort_key, reverse=descending)
        if after is not None:
            cursor = self._sort_keys.get(after)
            if cursor is None:
                raise invalid(f"No video found with id '{after}' to list after.", param="after")
            if descending:
                jobs = [job for job in jobs if _sort_key(job) < cursor]
            else:
                jobs = [job for job in jobs if _sort_key(job) > cursor]
        now = self.now()
        data = [job.video_at(now) for job in jobs[:limit]]
        return VideoPage(
            data=data,
            first_id=data[0].id if data else None,
            last_id=data[-1].id if data else None,
            has_more=len(jobs) > limit,
        )

    def delete(self, video_id: str) -> DeletedVideo:
        status = self.job(video_id).status_at(self.now())
        if status not in ("completed", "failed"):
            raise invalid(
                f"Video '{video_id}' is {status}; only a completed or failed video can be deleted.",
                param="video_id",
                code="video_not_finished",
            )
        del self.jobs[video_id]
        return DeletedVideo(deleted=True, id=video_id)

    def add_character(self, name: str) -> Character:
        character_id = f"char_{uuid.uuid4().hex}"
        character = Character(id=character_id, name=name, created_at=int(self.now()))
        self.characters[character_id] = character
        return character

    def character(self, character_id: str) -> Character:
        character = self.characters.get(character_id)
        if character is None:
            raise not_found("character", character_id, param="character_id")
        return character

    # Test hooks: force an outcome now instead of waiting for (or drawing) one.

    def complete(self, video_id: str) -> None:
        job = self.job(video_id)
        job.failure = None
        self._end_now(job)

    def fail(self, video_id: str, error: VideoError = MODERATION_BLOCKED) -> None:
        job = self.job(video_id)
        job.failure = error
        self._end_now(job)

    def _end_now(self, job: Job) -> None:
        now = self.now()
        job.ends = min(job.ends, now)
        job.queued_until = min(job.queued_until, job.ends)
