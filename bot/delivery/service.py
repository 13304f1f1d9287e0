"""Every card of every job: its first post, its updates, its result, its tombstone, re-posts.

Edits are coalesced per card: only when what the card shows changes, and at most one progress
edit per card every `edit_interval` seconds; the result goes out as soon as its file is ready.
While the interaction's token is fresh the card is edited through it; after that (or after a
restart, when no token is known) through the bot's channel route; if the card is gone, a new
message mentioning the owner carries the result. A result is marked delivered only after it
was posted, and a delivered row is never posted again; with several processes on one database
only the holder of the job's lease writes to its card, checked with the lease's fencing number
at the moment of each write (a holder that stalled past its lease drops the card instead), and
before posting a result the holder reads the card back: a result posted by a holder that could
not record it (it stalled, lost the database, or died) is recorded, never posted again; the
card of a job whose process died before posting it goes into that process's deferred reply.
Delivery never gives up while the provider still has the files: attempts back off (capped,
with jitter) and the next one's time is stored, so a restart keeps the schedule; one that
waits out a provider failure goes as soon as that provider (the row's) answers again, while
the results of other providers keep their backoff. A result that no retry can post (not a
video, over every cap) ends at once with its reason on the card. A result posted but not
recorded (the database or the disk failing) is recorded again from memory, never posted
again, and no failure ends the card's task.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import discord

from bot.delivery.files import (
    GONE,
    Expired,
    ResultFiles,
    Undeliverable,
    discord_file,
    upload_limit,
)
from bot.delivery.posters import CardPoster
from bot.errors import UserError
from bot.jobs.requests import Lineage
from bot.media.assets import file_name
from bot.storage import ReplyRepository, VideoRepository, VideoRow
from bot.timing.backoff import Backoff
from bot.timing.tasks import cancel_and_wait
from bot.timing.waits import wait_event
from bot.tracker.leases import Leases
from bot.tracker.service import JobEvent

# The module, not its names: its button handlers import bot.delivery in turn.
from bot.ui.card import cancelled_card, deleted_card, shown_state, status_card
from bot.ui.permissions import BY_FLAG, MISSING_PERMISSIONS, cannot
from bot.ui.text import size_text, timestamp
from bot.videoapi.capabilities import Capabilities
from bot.videoapi.errors import (
    RedirectRefusedError,
    ResponseRefusedError,
    ResponseTooLargeError,
    VideoAPIError,
)
from bot.videoapi.models import ContentVariant, Operation, Upload

log = logging.getLogger(__name__)

# Switch to the channel route a minute before the 15-minute interaction token dies.
TOKEN_SAFETY = datetime.timedelta(minutes=1)
INVALID_WEBHOOK_TOKEN = 50027
REQUEST_TOO_LARGE = 40005
# A card gone, the bot's recent messages in its channel are read back for a posted result.
READ_BACK = 50
# The deferred reply of an interaction, named as its webhook's message: discord.py puts the id
# in the route's path as it is given.
ORIGINAL = cast(int, "@original")


class _LeaseLost(Exception):
    """Another process holds the job's lease now: this one writes nothing more about it."""


@dataclass(slots=True)
class _Card:
    row: VideoRow
    interaction: discord.Interaction[Any] | None = None
    upload_limit: int | None = None
    shown: tuple[object, ...] | None = None
    last_edit: float = float("-inf")
    # Not before this (the bot's monotonic clock): the next attempt after a failure.
    retry_at: float = float("-inf")
    # When the last attempt failed, and whether the provider failed it: then that provider's
    # (the row's) next answer to any request brings the retry forward.
    failed_at: float = float("-inf")
    awaits_provider: bool = False
    # Failures counted here too: the database that would count them may be what fails.
    attempts: int = 0
    # Why no retry can post the result: known once, so a retry only posts the reason.
    undeliverable: str | None = None
    # The result is on Discord; only recording that is left.
    posted: bool = False
    predicted_end: float | None = None
    lineage: Lineage | None = None
    lineage_loaded: bool = False
    # A waiting job's place in line.
    position: int | None = None
    # A line above the card (the mention of its owner), kept through its edits.
    lead: str | None = None
    # While its first post is out, the card is not edited: the edit would not find it.
    posting: bool = False
    # The fencing number of this process's lease of the job (None without other processes).
    fence: int | None = None
    wake: asyncio.Event = field(default_factory=asyncio.Event, repr=False)
    task: asyncio.Task[None] | None = field(default=None, repr=False)


def _state(card: _Card) -> tuple[object, ...]:
    """What the card shows that can change: the job's state, and its place while it waits."""
    return (shown_state(card.row), card.position if card.row.waiting else None)


def _usable(interaction: discord.Interaction[Any] | None) -> bool:
    if interaction is None:
        return False
    return interaction.expires_at - TOKEN_SAFETY > discord.utils.utcnow()


def _too_large(exc: discord.HTTPException) -> bool:
    return exc.status == 413 or exc.code == REQUEST_TOO_LARGE


def _token_dead(exc: discord.HTTPException) -> bool:
    return exc.status == 401 or exc.code == INVALID_WEBHOOK_TOKEN or exc.status == 404


def _reason(exc: Undeliverable | ResponseRefusedError) -> str:
    """Why a result cannot be delivered, as its owner reads it."""
    if isinstance(exc, Undeliverable):
        return exc.reason
    if isinstance(exc, ResponseTooLargeError):
        return (
            f"The provider's file is larger than the {size_text(exc.limit)} this bot "
            "downloads, so it cannot be posted."
        )
    if isinstance(exc, RedirectRefusedError):
        return (
            "The provider sent its file from a private or local address, which this bot never "
            "fetches from, so it cannot be posted."
        )
    return f"The provider's file cannot be taken: {exc}"


@dataclass(frozen=True)
class CardViews:
    """The buttons a card carries. Their handlers act through jobs and delivery, so they are
    handed in by the wiring rather than imported here (bot.interactions.buttons)."""

    result: Callable[[VideoRow, frozenset[Operation]], Sequence[discord.ui.Item[Any]]]
    waiting: Callable[[VideoRow], Sequence[discord.ui.Item[Any]]]


class Delivery:
    def __init__(
        self,
        client: discord.Client,
        videos: VideoRepository,
        files: ResultFiles,
        capabilities: Mapping[str, Capabilities],
        *,
        views: CardViews,
        edit_interval: float = 5.0,
        retry_base: float = 30.0,
        retry_max: float = 600.0,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        leases: Leases | None = None,
        replies: ReplyRepository | None = None,
    ) -> None:
        self._client = client
        self._videos = videos
        self._files = files
        # What each configured provider's client learned, by name: which operations it serves,
        # and when it answers again.
        self._capabilities = capabilities
        self._views = views
        self._edit_interval = edit_interval
        self._retry_base = retry_base
        self._retry_max = retry_max
        self._clock = clock
        self._wall = wall
        self._cards: dict[int, _Card] = {}
        self._task: asyncio.Task[None] | None = None
        self._watches: list[asyncio.Task[None]] = []
        self._backoff = Backoff(base_delay=retry_base, max_delay=retry_max)
        # With other processes on the database, only the job's lease holder writes its card.
        self._leases = leases
        if leases is not None:
            leases.on_lost(self._lost)
        # The tokens of deferred replies whose card is not up yet, for whoever posts it.
        self._replies = replies

    def start(self, events: asyncio.Queue[JobEvent]) -> None:
        self._task = asyncio.create_task(self._consume(events), name="videobot-delivery")
        self._watches = [
            asyncio.create_task(
                self._provider_back(name, capabilities), name=f"videobot-delivery-wake-{name}"
            )
            for name, capabilities in self._capabilities.items()
        ]

    async def stop(self) -> None:
        cards = (card.task for card in self._cards.values())
        await cancel_and_wait(self._task, *self._watches, *cards)
        self._task = None
        self._watches = []

    @property
    def pending(self) -> frozenset[int]:
        """The keys of the jobs whose card has a write pending (tests and benchmarks)."""
        return frozenset(
            key for key, card in self._cards.items() if card.task and not card.task.done()
        )

    async def idle(self) -> None:
        """Wait until no card has an edit pending (tests and benchmarks)."""
        while pending := [c.task for c in self._cards.values() if c.task and not c.task.done()]:
            await asyncio.wait(pending)

    # What the rest of the bot asks of its cards.

    def expect(self, row: VideoRow) -> None:
        """A new job whose first card is about to be posted: nothing is shown before it."""
        self._card(row).posting = True

    async def keep_reply(self, row: VideoRow, poster: CardPoster) -> None:
        """A deferred reply's token, kept until the job's first card is up: a process taking
        the job over (this one dead) resolves the reply with it instead of leaving it on
        "thinking…" (bot/storage/leases.py ReplyRepository)."""
        interaction = poster.interaction
        if self._replies is not None and interaction is not None:
            expires_at = interaction.expires_at.timestamp()
            await self._replies.keep(row.key, interaction.token, expires_at)

    async def _reply_answered(self, row: VideoRow, poster: CardPoster) -> None:
        """The process that deferred the reply answered it (or Discord refused it that): its
        token is kept no longer, for no one else to use."""
        if self._replies is not None and poster.interaction is not None:
            await self._replies.drop(row.key)

    async def post_first(
        self,
        row: VideoRow,
        poster: CardPoster,
        lineage: Lineage | None,
        *,
        position: int | None = None,
    ) -> VideoRow:
        """Show a new job's card (a waiting job's with its place in line and a Cancel button).
        If Discord refuses it, the job goes on all the same: its result is posted in a new
        message when it ends."""
        card = self._card(row)
        card.lineage, card.lineage_loaded = lineage, True
        card.position = position
        card.lead = poster.lead
        card.posting = True
        try:
            return await self._post(card, row, poster, self._layout(card))
        finally:
            card.posting = False
            card.wake.set()

    async def _post(
        self,
        card: _Card,
        row: VideoRow,
        poster: CardPoster,
        layout: discord.ui.LayoutView,
    ) -> VideoRow:
        try:
            # A process stopped while its call was out may find the job taken over (and its
            # reply resolved) by another when it resumes: that one's card stands.
            await self._check_lease(card)
            message = await poster.show(layout)
        except _LeaseLost:
            log.info("%s was taken over while its call was out; its card is not ours", row.id)
            return row
        except discord.HTTPException:
            log.warning("posting the first card of %s failed; it will be posted anew", row.id)
            await self._reply_answered(row, poster)
            return row
        await self._videos.set_status_message(row.id, message.channel.id, message.id)
        await self._reply_answered(row, poster)
        row = await self._videos.get(row.id) or row
        card.row = row
        card.interaction = poster.interaction
        interaction = poster.interaction
        card.upload_limit = interaction.filesize_limit if interaction is not None else None
        card.shown = _state(card)
        card.last_edit = self._clock()
        if row.finished:
            self._schedule(card)
        return row

    def refresh(self, row: VideoRow) -> None:
        """Bring a job's card up to date with `row`: a waiting job started, or could not."""
        self._schedule(self._card(row))

    def show_waiting(self, row: VideoRow, position: int) -> None:
        """A waiting job's place in line, shown when it changes."""
        card = self._card(row)
        card.position = position
        if card.shown != _state(card):
            self._schedule(card)

    async def cancelled(self, row: VideoRow, interaction: discord.Interaction[Any]) -> None:
        """The card of a job cancelled while it waited, answering the Cancel click."""
        card = self._cards.pop(row.key, None)
        if card is not None and card.task is not None:
            card.task.cancel()
        # Content and embeds cleared: a card posted before Components V2 had them.
        await interaction.response.edit_message(content=None, embed=None, view=cancelled_card(row))

    async def tombstone(self, row: VideoRow, actor_id: int) -> None:
        """The card of a deleted video: who deleted it, no buttons, no files."""
        card = self._cards.pop(row.key, None)
        if card is not None and card.task is not None:
            card.task.cancel()
        if row.status_message_id is None:
            return
        channel = self._client.get_partial_messageable(row.channel_id, guild_id=row.guild_id)
        try:
            await channel.get_partial_message(row.status_message_id).edit(
                content=None, embed=None, attachments=[], view=deleted_card(row, actor_id)
            )
        except discord.HTTPException:
            log.warning("could not mark the card of %s deleted", row.id, exc_info=True)

    async def repost(
        self, row: VideoRow, interaction: discord.Interaction[Any], *, ephemeral: bool = False
    ) -> None:
        """A video's card posted again where it is asked for, with its file and fresh buttons
        (`ephemeral`: for the asker alone, opened from their library)."""
        await interaction.response.defer(ephemeral=ephemeral, thinking=True)
        lineage = await self._lineage(row)
        with tempfile.TemporaryDirectory(prefix="videobot-") as folder:
            limit = upload_limit(interaction.filesize_limit, interaction.guild)
            try:
                files, note = await self._files.for_card(row, Path(folder), limit)
            except Expired:
                files, note = [], GONE
            except (Undeliverable, ResponseRefusedError) as exc:
                files, note = [], _reason(exc)
            layout = status_card(
                row,
                lineage,
                note,
                media=[f.filename for f in files],
                buttons=self._result_buttons(row),
            )
            await interaction.edit_original_response(
                view=layout, attachments=[discord_file(f) for f in files]
            )

    async def send_asset(
        self, row: VideoRow, variant: ContentVariant, interaction: discord.Interaction[Any]
    ) -> None:
        """An ephemeral reply carrying one of a video's files, the MP4 fitted to the limit."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        with tempfile.TemporaryDirectory(prefix="videobot-") as folder:
            limit = upload_limit(interaction.filesize_limit, interaction.guild)
            try:
                upload = await self._files.asset(row, variant, Path(folder), limit)
            except Expired:
                raise UserError("The provider's files for this video have expired.") from None
            except (Undeliverable, ResponseRefusedError) as exc:
                raise UserError(_reason(exc)) from None
            await interaction.followup.send(file=discord_file(upload), ephemeral=True)

    # Following the tracker's events.

    def _card(self, row: VideoRow) -> _Card:
        card = self._cards.get(row.key)
        if card is None:
            card = self._cards[row.key] = _Card(row)
            if row.delivery_retry_at is not None:
                # Stored on the wall clock so that it survives a restart.
                card.retry_at = self._clock() + max(0.0, row.delivery_retry_at - self._wall())
        card.row = row
        if self._leases is not None:
            # The grant this process holds now: a card made under an older one writes the row
            # it is handed now, under the number that may write it.
            card.fence = self._leases.fence(row.key)
        return card

    def _lost(self, keys: set[int]) -> None:
        """Leases found lost: every pending edit and result of those jobs is dropped at once."""
        current = asyncio.current_task()
        for key in keys:
            card = self._cards.pop(key, None)
            if card is not None and card.task is not None and card.task is not current:
                card.task.cancel()

    async def _check_lease(self, card: _Card) -> None:
        """Raise `_LeaseLost` unless this process still holds the job under the card's grant."""
        if self._leases is not None and not await self._leases.holds(card.row.key, card.fence):
            raise _LeaseLost(card.row.id)

    def _schedule(self, card: _Card) -> None:
        card.wake.set()
        if card.task is None or card.task.done():
            card.task = asyncio.create_task(self._flush(card))

    async def _consume(self, events: asyncio.Queue[JobEvent]) -> None:
        while True:
            event = await events.get()
            card = self._card(event.job)
            card.predicted_end = event.predicted_end
            self._schedule(card)

    async def _provider_back(self, provider: str, capabilities: Capabilities) -> None:
        """`provider` answered a request: results of its jobs that wait out its failure go
        now; those of other providers keep their backoff (a removed provider has no client
        here, and its results end at once anyway: Undeliverable).

        Once per failure, and never sooner than `retry_base` after it, so a provider that
        answers the tracker while it fails downloads is not asked at every poll.
        """
        while True:
            await capabilities.next_answer()
            for card in list(self._cards.values()):
                if card.awaits_provider and card.row.provider == provider:
                    card.awaits_provider = False
                    card.retry_at = min(card.retry_at, card.failed_at + self._retry_base)
                    card.wake.set()

    async def _flush(self, card: _Card) -> None:
        """Bring the card up to date: the result at once, progress no more often than allowed."""
        # A finished row still needs its result, even when the card already shows its status (a
        # job the provider finished before the card was first posted).
        while card.row.finished or card.shown != _state(card):
            if self._cards.get(card.row.key) is not card:
                return  # dropped: the lease was lost, or the card was closed
            if card.posting:
                card.wake.clear()
                await card.wake.wait()
                continue
            row = card.row
            due = card.retry_at
            if not row.finished:
                due = max(due, card.last_edit + self._edit_interval)
            wait = due - self._clock()
            if wait > 0:
                card.wake.clear()
                await wait_event(card.wake, wait)
                continue
            try:
                if row.finished:
                    await self._finish(card)
                    return
                await self._show(card)
                card.shown = _state(card)
            except _LeaseLost:
                log.info("%s is another process's now; its card is left to it", row.id)
                self._lost({row.key})
                return
            except Exception as exc:
                await self._failed(card, exc)

    async def _failed(self, card: _Card, exc: Exception) -> None:
        """Schedule the next attempt; never raises, so the card's task goes on whatever fails."""
        row = card.row
        card.failed_at = self._clock()
        if not row.finished:
            log.warning("updating the card of %s failed (%s); trying again later", row.id, exc)
            card.retry_at = card.failed_at + self._retry_base
            return
        card.attempts = attempts = max(card.attempts, row.delivery_attempts) + 1
        delay = self._backoff.delay(attempts - 1)
        card.retry_at = card.failed_at + delay
        card.awaits_provider = isinstance(exc, VideoAPIError)
        if card.posted:
            log.warning(
                "recording the delivery of %s failed (%r); recording it again in %.0f s",
                row.id,
                exc,
                delay,
            )
            return
        log.warning(
            "delivering %s failed (attempt %d: %r); again in %.0f s", row.id, attempts, exc, delay
        )
        try:
            stored = await self._videos.delivery_failed(
                row.id, self._wall() + delay, fence=card.fence
            )
            card.row = stored or row
            again = timestamp(self._wall() + delay)
            note = f"Your video is ready. Posting it failed, so I'll try again {again}."
            # Best effort: the card says why it waits, if Discord takes even that.
            await self._show(card, note=note)
        except Exception as failure:
            # The schedule above holds in memory; the database may be what fails.
            log.warning("could not record or show the failed delivery of %s: %r", row.id, failure)

    async def _finish(self, card: _Card) -> None:
        if not card.posted:
            if not await self._post_result(card):
                self._cards.pop(card.row.key, None)
                return
            card.posted = True
        # Recorded only under the card's grant: a holder that lost it leaves the record to its
        # successor, which finds the result on the card.
        await self._videos.mark_delivered(card.row.id, fence=card.fence)
        self._cards.pop(card.row.key, None)

    async def _post_result(self, card: _Card) -> bool:
        """Post a finished job's result; False if there is none to post (any more, or here)."""
        row = await self._videos.get(card.row.id)
        if row is None or row.delivered_at is not None or row.deleted_at is not None:
            return False
        card.row = row
        try:
            await self._check_lease(card)
        except _LeaseLost:
            log.info("%s is another process's to deliver now", row.id)
            return False
        if row.status == "completed" and await self._already_posted(card, row):
            log.info("the result of %s is on Discord already; recording it", row.id)
            return True
        expired = row.expires_at is not None and row.expires_at < self._wall()
        if row.status == "completed" and expired:
            row = card.row = await self._expire(row)
        with tempfile.TemporaryDirectory(prefix="videobot-") as folder:
            limit = upload_limit(card.upload_limit, self._guild(row))
            files: list[Upload] = []
            note = card.undeliverable
            try:
                if note is None:
                    files, note = await self._files.for_card(row, Path(folder), limit)
            except Expired:
                row = card.row = await self._expire(row)
                note = None
            except (Undeliverable, ResponseRefusedError) as exc:
                note = card.undeliverable = _reason(exc)
                log.warning("the result of %s cannot be delivered: %s", row.id, exc)
            # The ledger settles the job while its files download: show the price it settled at.
            row = card.row = await self._videos.get(row.id) or row
            if row.deleted_at is not None:
                return False
            await self._show_result(card, row, files, note, limit)
        return True

    async def _already_posted(self, card: _Card, row: VideoRow) -> bool:
        """Whether a file of the job's result is on its card (or, the card gone, on one of the
        bot's recent messages in its channel): posted by a holder that could not record it."""
        names = {file_name(row.key, "video"), file_name(row.key, "thumbnail")}
        try:
            messages = await self._posted(card, row)
        except discord.HTTPException as exc:
            # Unreadable (no history permission, say): posting beats never delivering.
            log.info("could not read back the card of %s (%s); posting its result", row.id, exc)
            return False
        return any(a.filename in names for m in messages for a in m.attachments)

    async def _posted(self, card: _Card, row: VideoRow) -> list[discord.Message]:
        if _usable(card.interaction):
            assert card.interaction is not None
            try:
                return [await card.interaction.original_response()]
            except discord.HTTPException as exc:
                if not _token_dead(exc):
                    raise
        channel = self._client.get_partial_messageable(row.channel_id, guild_id=row.guild_id)
        if row.status_message_id is not None:
            try:
                return [await channel.fetch_message(row.status_message_id)]
            except discord.NotFound:
                pass
        me = self._client.user
        return [m async for m in channel.history(limit=READ_BACK) if me and m.author.id == me.id]

    async def _resolve_reply(self, card: _Card, fields: Callable[[], dict[str, Any]]) -> bool:
        """The card of a job whose process died before posting it, put in that process's
        deferred reply if its token was kept and still works; False if it cannot be."""
        row = card.row
        if self._replies is None or self._client.application_id is None:
            return False
        application_id = self._client.application_id
        await self._check_lease(card)
        token = await self._replies.take(row.key, self._wall() + TOKEN_SAFETY.total_seconds())
        if token is None:
            return False
        reply = discord.Webhook.partial(application_id, token, client=self._client)
        try:
            message = await reply.edit_message(ORIGINAL, **fields())
        except discord.HTTPException as exc:
            if not _token_dead(exc):
                raise
            log.info("the deferred reply of %s is gone; posting its card anew", row.id)
            return False
        log.info("put the card of %s in the deferred reply its process left", row.id)
        await self._videos.set_status_message(
            row.id, message.channel.id, message.id, fence=card.fence
        )
        card.row = await self._videos.get(row.id) or row
        return True

    def _buttons(self, card: _Card) -> Sequence[discord.ui.Item[Any]]:
        """The buttons for the card's row: every edit sends the whole card, buttons included."""
        row = card.row
        if row.waiting:
            return self._views.waiting(row)
        return self._result_buttons(row)

    def _result_buttons(self, row: VideoRow) -> Sequence[discord.ui.Item[Any]]:
        """The buttons of what the provider that made the video serves (a removed one: none)."""
        known = self._capabilities.get(row.provider)
        lacking = known.unsupported if known is not None else frozenset(Operation)
        return self._views.result(row, lacking)

    async def _show_result(
        self, card: _Card, row: VideoRow, files: list[Upload], note: str | None, limit: int
    ) -> None:
        try:
            await self._show(card, note=note, files=files)
        except discord.Forbidden as exc:
            if not files or exc.code != MISSING_PERMISSIONS:
                raise
            # Discord refused the file, not the card: the card alone, saying why.
            note = cannot(f"<#{row.channel_id}>", [BY_FLAG["attach_files"]])
            await self._show(card, note=f"{note} Then `/videos show` posts the video.", files=[])
        except discord.HTTPException as exc:
            if not _too_large(exc) or not files or not files[0].is_video:
                raise
            # Discord took less than it reported: the thumbnail, then.
            log.info("the video of %s was refused as too large; sending its thumbnail", row.id)
            try:
                files, note = await self._files.thumbnail_instead(row, files[0], limit)
            except (Undeliverable, ResponseRefusedError) as refused:
                files, note = [], _reason(refused)
                card.undeliverable = note
            await self._show(card, note=note, files=files)

    async def _expire(self, row: VideoRow) -> VideoRow:
        log.info("the files of %s have expired at the provider", row.id)
        return await self._videos.mark_expired(row.id, GONE) or row

    def _guild(self, row: VideoRow) -> discord.Guild | None:
        return self._client.get_guild(row.guild_id) if row.guild_id is not None else None

    async def _lineage(self, row: VideoRow) -> Lineage | None:
        if row.parent_id is None:
            return None
        parent = await self._videos.get(row.parent_id)
        return Lineage.of(parent) if parent is not None else None

    def _layout(
        self, card: _Card, note: str | None = None, files: list[Upload] | None = None
    ) -> discord.ui.LayoutView:
        """The whole card for its row: each edit replaces every component of the message.

        `files` are those sent with it, shown in its gallery (None: none are sent).
        """
        row = card.row
        return status_card(
            row,
            card.lineage,
            note,
            finishes_at=card.predicted_end,
            position=card.position if row.waiting else None,
            media=[f.filename for f in files or ()],
            buttons=self._buttons(card),
            lead=card.lead,
        )

    async def _show(
        self, card: _Card, *, note: str | None = None, files: list[Upload] | None = None
    ) -> None:
        """Edit the card by the best route still open, or post it anew for its owner.

        `files` (None: leave the attachments as they are) are opened afresh for every attempt:
        discord.py closes a File once a request that carried it is done, even a failed one.
        """
        if not card.lineage_loaded:
            card.lineage = await self._lineage(card.row)
            card.lineage_loaded = True
        # Stamped when Discord has the edit, not when it is sent: a slow edit followed by a
        # quick one would otherwise land less than edit_interval apart.
        try:
            await self._route(card, note=note, files=files)
        finally:
            card.last_edit = self._clock()

    async def _route(self, card: _Card, *, note: str | None, files: list[Upload] | None) -> None:
        row = card.row

        def fields() -> dict[str, Any]:
            # Content and embeds cleared: a card posted before Components V2 had them.
            chosen: dict[str, Any] = {
                "view": self._layout(card, note, files),
                "content": None,
                "embed": None,
            }
            if files is not None:
                chosen["attachments"] = [discord_file(f) for f in files]
            return chosen

        if _usable(card.interaction):
            assert card.interaction is not None
            try:
                await self._check_lease(card)
                await card.interaction.edit_original_response(**fields())
                return
            except discord.HTTPException as exc:
                if not _token_dead(exc):
                    raise
                log.info("interaction token of %s is gone; using the channel route", row.id)
            card.interaction = None
        channel = self._client.get_partial_messageable(row.channel_id, guild_id=row.guild_id)
        if row.status_message_id is None and await self._resolve_reply(card, fields):
            return
        if row.status_message_id is not None:
            try:
                await self._check_lease(card)
                await channel.get_partial_message(row.status_message_id).edit(**fields())
                return
            except discord.NotFound:
                log.info("the card of %s was deleted; posting a new one", row.id)
        card.lead = f"<@{row.owner_id}> here is your video's status."
        await self._check_lease(card)
        message = await channel.send(
            view=self._layout(card, note, files),
            files=[discord_file(f) for f in files or ()],
            allowed_mentions=discord.AllowedMentions(users=[discord.Object(row.owner_id)]),
        )
        await self._videos.set_status_message(
            row.id, message.channel.id, message.id, fence=card.fence
        )
        card.row = await self._videos.get(row.id) or row
