"""What jobs ask of the cards that show them, without knowing Discord: bot.delivery answers.

A job's first card is posted through a poster (an interaction's response, or a reply), which
jobs only opens and takes back; everything else about a card is delivery's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar

from bot.jobs.requests import Lineage
from bot.storage import VideoRow


class Poster(Protocol):
    async def begin(self) -> None:
        """Answer at once, before the reservation is decided (an interaction has 3 s)."""

    async def abort(self) -> None:
        """Take the answer back: nothing was started, an error handler replies instead."""


# The poster a delivery shows cards through (bot.delivery.CardPoster), passed through jobs.
PosterT = TypeVar("PosterT", bound=Poster)
PosterT_contra = TypeVar("PosterT_contra", bound=Poster, contravariant=True)


class Cards(Protocol[PosterT_contra]):
    def expect(self, row: VideoRow) -> None:
        """A new job whose first card is about to be posted: nothing is shown before it."""

    async def keep_reply(self, row: VideoRow, poster: PosterT_contra) -> None:
        """Keep what answers the poster (a deferred reply's token) until the job's first card
        is posted: a process taking the job over resolves that reply should this one die."""

    async def post_first(
        self,
        row: VideoRow,
        poster: PosterT_contra,
        lineage: Lineage | None,
        *,
        position: int | None = None,
    ) -> VideoRow:
        """Show a new job's card (a waiting job's with its place in line)."""
        ...

    def refresh(self, row: VideoRow) -> None:
        """Bring a job's card up to date with `row`."""

    def show_waiting(self, row: VideoRow, position: int) -> None:
        """A waiting job's place in line."""

    async def tombstone(self, row: VideoRow, actor_id: int) -> None:
        """A deleted video's card, without buttons."""


# The words for an error that stopped a job nobody is waiting on (a user's error, or a bug's
# id), put on its card: bot.interactions.tree.explain, given `where` for the log.
Explain = Callable[[BaseException, str], str]
