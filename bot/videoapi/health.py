"""Each provider's recent failures, and which providers to try last for a while.

A provider that keeps failing (down, out of credits, its key refused, busy past every wait)
is demoted: creates try it after the healthy ones serving the same model, until `demoted_for`
has passed. What counts is the provider failing to serve, never the request's own fault: a
refused size, a model it does not serve, or a 404 about one job (a look at a video it deleted
or expired) says nothing about its health. Demotion and return are each logged once.

The window is kept in a few buckets per provider, so its memory stays the same whatever the
request rate.
"""

from __future__ import annotations

import logging
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import httpx

from bot.videoapi.backend import VideoBackend
from bot.videoapi.capabilities import Capabilities
from bot.videoapi.client import DownloadResult
from bot.videoapi.errors import VideoAPIError
from bot.videoapi.models import (
    Character,
    ContentVariant,
    DeletedVideo,
    ImageReference,
    ListOrder,
    Operation,
    Upload,
    Video,
    VideoPage,
)
from bot.videoapi.profile import ProviderProfile
from bot.videoapi.refusals import answer_lost, nothing_made
from bot.videoapi.wire import RequestBody

log = logging.getLogger(__name__)

T = TypeVar("T")

# Refusals that say the provider, not the model or the request, is failing.
_PROVIDER_REFUSALS = frozenset({"key", "credits", "forbidden", "busy", "not_accepted"})
_BUCKETS = 10


def is_failure(error: BaseException | None) -> bool:
    """Whether a call's outcome counts against its provider's health (None: it answered)."""
    if error is None:
        return False
    return answer_lost(error) or nothing_made(error) in _PROVIDER_REFUSALS


@dataclass(frozen=True, slots=True)
class HealthTuning:
    # How far back failures are counted, in seconds.
    window: float = 300.0
    # A provider is demoted when the window holds at least this many failures...
    failures: int = 5
    # ... and they are at least this share of its calls there.
    share: float = 0.5
    # How long a demotion lasts, in seconds.
    demoted_for: float = 600.0


@dataclass(slots=True)
class _Bucket:
    start: float
    calls: int = 0
    failures: int = 0


@dataclass(slots=True)
class _Record:
    buckets: deque[_Bucket] = field(default_factory=deque)
    demoted_until: float | None = None


class Health:
    """The rolling window of every provider's calls and failures, by the provider's name."""

    def __init__(
        self, tuning: HealthTuning | None = None, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._tuning = tuning or HealthTuning()
        self._clock = clock
        self._records: dict[str, _Record] = {}

    def record(self, provider: str, error: BaseException | None = None) -> None:
        """One call to `provider` ended: answered (`error` None) or failed with `error`."""
        now = self._clock()
        record = self._records.setdefault(provider, _Record())
        bucket = self._bucket(record, now)
        bucket.calls += 1
        if not is_failure(error):
            return
        bucket.failures += 1
        if self.demoted(provider):
            return
        calls, failures = self._counts(record)
        tuning = self._tuning
        if failures >= tuning.failures and failures >= tuning.share * calls:
            record.demoted_until = now + tuning.demoted_for
            log.warning(
                "provider %s demoted for %.0f s: %d of its %d calls in the last %.0f s failed"
                " (last: %s)",
                provider or "(default)",
                tuning.demoted_for,
                failures,
                calls,
                tuning.window,
                error,
            )

    def demoted(self, provider: str) -> bool:
        record = self._records.get(provider)
        if record is None or record.demoted_until is None:
            return False
        if self._clock() < record.demoted_until:
            return True
        # Back with a clean window: the failures that demoted it are not held against it twice.
        record.demoted_until = None
        record.buckets.clear()
        log.info("provider %s is tried first again", provider or "(default)")
        return False

    def order(self, items: Iterable[T], provider: Callable[[T], str]) -> list[T]:
        """`items` (each about the provider `provider` names) in their order, those of demoted
        providers after the rest."""
        return sorted(items, key=lambda item: self.demoted(provider(item)))

    def _bucket(self, record: _Record, now: float) -> _Bucket:
        """The bucket `now` falls in, the ones past the window dropped."""
        width = self._tuning.window / _BUCKETS
        buckets = record.buckets
        while buckets and buckets[0].start + width <= now - self._tuning.window:
            buckets.popleft()
        start = math.floor(now / width) * width
        if not buckets or buckets[-1].start != start:
            buckets.append(_Bucket(start))
        return buckets[-1]

    def _counts(self, record: _Record) -> tuple[int, int]:
        """Calls and failures in the window (its oldest bucket in whole)."""
        return (
            sum(bucket.calls for bucket in record.buckets),
            sum(bucket.failures for bucket in record.buckets),
        )


class Watched:
    """A provider's backend whose every call, answered or failed, feeds its health: creates,
    looks, downloads and deletes alike, whoever makes them (jobs, the tracker, delivery)."""

    def __init__(self, backend: VideoBackend, provider: str, health: Health) -> None:
        self._backend = backend
        self._provider = provider
        self._health = health

    @property
    def profile(self) -> ProviderProfile:
        return self._backend.profile

    @property
    def capabilities(self) -> Capabilities:
        return self._backend.capabilities

    @property
    def base_url(self) -> str:
        return self._backend.base_url

    @property
    def unsupported(self) -> frozenset[Operation]:
        return self._backend.unsupported

    def supports(self, operation: Operation) -> bool | None:
        return self._backend.supports(operation)

    async def create(
        self,
        prompt: str,
        *,
        model: str | None = None,
        size: str | None = None,
        seconds: str | int | None = None,
        input_reference: ImageReference | Upload | None = None,
    ) -> Video:
        return await self._watch(
            self._backend.create(
                prompt, model=model, size=size, seconds=seconds, input_reference=input_reference
            )
        )

    async def edit(self, video: str | Upload, prompt: str, *, model: str | None = None) -> Video:
        return await self._watch(self._backend.edit(video, prompt, model=model))

    async def extend(
        self, video: str | Upload, prompt: str, seconds: str | int, *, model: str | None = None
    ) -> Video:
        return await self._watch(self._backend.extend(video, prompt, seconds, model=model))

    async def remix(self, video_id: str, prompt: str, *, model: str | None = None) -> Video:
        return await self._watch(self._backend.remix(video_id, prompt, model=model))

    async def create_character(self, name: str, video: Upload) -> Character:
        return await self._watch(self._backend.create_character(name, video))

    async def get_character(self, character_id: str) -> Character:
        return await self._watch(self._backend.get_character(character_id))

    async def list(
        self, *, after: str | None = None, limit: int | None = None, order: ListOrder | None = None
    ) -> VideoPage:
        return await self._watch(self._backend.list(after=after, limit=limit, order=order))

    async def retrieve(self, video_id: str) -> Video:
        return await self._watch(self._backend.retrieve(video_id))

    async def delete(self, video_id: str) -> DeletedVideo:
        return await self._watch(self._backend.delete(video_id))

    async def download(
        self, video_id: str, dest: Path, *, variant: ContentVariant = "video"
    ) -> DownloadResult:
        return await self._watch(self._backend.download(video_id, dest, variant=variant))

    async def request(
        self,
        operation: Operation,
        method: str,
        path: str,
        *,
        body: RequestBody | None = None,
        params: Mapping[str, str | int] | None = None,
    ) -> httpx.Response:
        return await self._watch(
            self._backend.request(operation, method, path, body=body, params=params)
        )

    async def aclose(self) -> None:
        await self._backend.aclose()

    async def _watch(self, call: Awaitable[T]) -> T:
        try:
            answer = await call
        except VideoAPIError as exc:
            self._health.record(self._provider, exc)
            raise
        self._health.record(self._provider)
        return answer


def watched(backend: VideoBackend, provider: str, health: Health) -> VideoBackend:
    """`backend` with every call's outcome counted in `provider`'s health."""
    return Watched(backend, provider, health)
