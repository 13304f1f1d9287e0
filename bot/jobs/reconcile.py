"""Finding out whether a billable call whose answer was lost created its job after all.

A 5xx, a timeout or a crash while `POST /videos` is out leaves the job's fate unknown. The
provider's newest videos say: one with the same prompt, model, size and seconds, created since
the call went out, and not already some other row's, is the job. Fields a provider leaves out
of its list match anything; with no list at all, nothing can be found.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Final

from bot.storage import VideoRow
from bot.videoapi.backend import VideoBackend
from bot.videoapi.errors import VideoAPIError
from bot.videoapi.models import Operation, Video

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


async def find_created(api: VideoBackend, row: VideoRow, known: KnownIds) -> Video | None:
    """The provider's video that `row`'s lost call created, or None if none can be found."""
    if api.supports(Operation.LIST) is False:
        return None
    try:
        page = await api.list(limit=PAGE, order="desc")
    except VideoAPIError as exc:
        log.info("could not list the provider's videos to find %s: %s", row.ref, exc)
        return None
    candidates = [video for video in page.data if matches(video, row)]
    if not candidates:
        return None
    taken = await known([video.id for video in candidates])
    fresh = [video for video in candidates if video.id not in taken]
    if not fresh:
        return None
    since = row.submitting_since or 0.0
    # The one made closest to when the call went out.
    return min(fresh, key=lambda video: abs((video.created_at or since) - since))
