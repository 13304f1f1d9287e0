"""Finding out whether a billable call whose answer was lost created its job after all.

A 5xx, a timeout or a crash while `POST /videos` is out leaves the job's fate unknown. The
provider's newest videos say: one with the same prompt, model, size and seconds, created since
the call went out, and not already some other row's, is the job. Fields a provider leaves out
of its list match anything; with no list at all, nothing can be found, and nothing proven.

A list that reaches back past the call and holds no such video is evidence that nothing was
made; looked at twice, a few seconds apart (a provider lists a job a moment after accepting
it), it is the proof on which the bot sends the call once more (bot/jobs/service.py).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Final

from bot.storage import VideoRow
from bot.videoapi.backend import VideoBackend
from bot.videoapi.errors import VideoAPIError
from bot.videoapi.models import Operation, Video, VideoPage

log = logging.getLogger(__name__)

# Clocks differ: the provider's created_at may be a little before the bot sent the call.
CLOCK_SLACK: Final = 30.0
# How long after the call a provider may stamp the job it made (a queue ahead of it).
WINDOW: Final = 300.0
PAGE: Final = 100

KnownIds = Callable[[Sequence[str]], Awaitable[set[str]]]


def matches(video: Video, row: VideoRow) -> bool:
    """Whether `video` may be the job `row` asked for."""
    if row.submitting_since is None:
        return False
    asked = {"prompt": row.prompt, "model": row.model, "size": row.size, "seconds": row.seconds}
    for name, wanted in asked.items():
        given = getattr(video, name)
        if given is not None and given.strip() != wanted.strip():
            return False
    if video.created_at is None:
        return True
    return row.submitting_since - CLOCK_SLACK <= video.created_at <= row.submitting_since + WINDOW


@dataclass(frozen=True, slots=True)
class Look:
    """What one look at the provider's newest videos found of a lost call's job."""

    video: Video | None
    # Whether the list held every video made since the call went out: then finding none of
    # them to be the job is evidence that the call made nothing.
    complete: bool

    @property
    def found_nothing(self) -> bool:
        return self.video is None and self.complete


UNKNOWN: Final = Look(None, complete=False)


async def look(api: VideoBackend, row: VideoRow, known: KnownIds) -> Look:
    """Look for the video `row`'s lost call created among the provider's newest."""
    if api.supports(Operation.LIST) is False:
        return UNKNOWN
    try:
        page = await api.list(limit=PAGE, order="desc")
    except VideoAPIError as exc:
        log.info("could not list the provider's videos to find %s: %s", row.ref, exc)
        return UNKNOWN
    complete = reaches_back(page, row)
    candidates = [video for video in page.data if matches(video, row)]
    if not candidates:
        return Look(None, complete)
    taken = await known([video.id for video in candidates])
    # A match that is already another row's is that row's job, not this one.
    fresh = [video for video in candidates if video.id not in taken]
    if not fresh:
        return Look(None, complete)
    since = row.submitting_since or 0.0
    # The one made closest to when the call went out.
    return Look(min(fresh, key=lambda video: abs((video.created_at or since) - since)), complete)


def reaches_back(page: VideoPage, row: VideoRow) -> bool:
    """Whether a newest-first page holds every video made since `row`'s call went out: it is
    the whole list, or its oldest was made before the call (clocks' slack allowed)."""
    if not page.has_more:
        return True
    oldest = page.data[-1].created_at if page.data else None
    since = row.submitting_since
    return oldest is not None and since is not None and oldest < since - CLOCK_SLACK
