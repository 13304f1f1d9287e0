"""Starting and deleting jobs: one path for slash commands, buttons, forms and reactions.

A job's row is written before the billable call goes out (write-ahead), in the transaction that
checks the spending limits and reserves its seconds and cost in the ledger, and completed with
the provider's answer. When that answer is lost (a 5xx, a timeout, a crash), the provider's
newest videos are searched for the job before anyone is told anything; only when it is not
there does the card offer a Retry button, which starts a new (billable) job.

A job whose only obstacle is a full slot (its owner's or its server's) waits in line instead,
holding its reservation; the line is the table, so it survives restarts, and it moves whenever
the tracker says a job ended. The reservation is released when nothing was made and settled at
the seconds the provider reports when the job completes.

Beside other processes on one database, a job's call goes out and its place in line is kept
under its lease (bot/tracker/leases.py): each process starts only the jobs it put in line, recovers
only the calls of processes that died, and looks at both every lease renewal.

Nothing here knows Discord: who asks and where comes in as an `Asker` (read by
bot/interactions/who.py), cards are shown through `Cards` (bot/jobs/cards.py), which
bot.delivery implements, and a refusal is a typed error (bot/errors.py) that the tree words.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Callable
from typing import Final, Generic

from bot.errors import NotAllowed, SpendingRefused, UserError, VideoNotFound, VideoNotReady
from bot.jobs.cards import Cards, Explain, PosterT
from bot.jobs.reconcile import find_created
from bot.jobs.requests import (
    OPERATIONS,
    Asker,
    Call,
    DerivedKind,
    ImageLoader,
    JobRequest,
    Lineage,
    added_seconds,
)
from bot.spending.limits import Ask, Refuse, Wait, denied
from bot.spending.money import micros
from bot.spending.service import Spending
from bot.storage import LedgerRepository, VideoRepository, VideoRow
from bot.storage.videos import NOT_CONFIRMED, NOT_STARTED
from bot.timing.tasks import cancel_and_wait
from bot.tracker.leases import Leases
from bot.tracker.service import JobEvent, Tracker
from bot.videoapi.backend import VideoBackend
from bot.videoapi.errors import (
    APIConnectionError,
    InternalServerError,
    NotFoundError,
    UnsupportedOperationError,
)
from bot.videoapi.models import Operation, Video
from bot.videoapi.profile import check_prompt

log = logging.getLogger(__name__)

# The call went out and no answer came back: the provider may or may not have made the job.
LOST_ANSWERS: Final = (InternalServerError, APIConnectionError)
NOT_CONFIRMED_TEXT: Final = (
    "The provider did not answer when asked to make this video, and it is not among its videos."
)

IMAGE_GONE: Final = "It was made from an image, which I don't keep: run /video again."


class Jobs(Generic[PosterT]):
    """Jobs started, waiting and ended; their cards shown by `cards` through posters of the
    type `PosterT` that the commands hand in."""

    def __init__(
        self,
        api: VideoBackend,
        videos: VideoRepository,
        ledger: LedgerRepository,
        spending: Spending,
        tracker: Tracker,
        cards: Cards[PosterT],
        *,
        explain: Explain,
        reconcile_wait: float = 2.0,
        clock: Callable[[], float] = time.time,
        leases: Leases | None = None,
    ) -> None:
        self._api = api
        self._videos = videos
        self._ledger = ledger
        self._spending = spending
        self._tracker = tracker
        self._cards = cards
        self._explain = explain
        self._reconcile_wait = reconcile_wait
        self._clock = clock
        # With other processes on the database: a job's call is out only under its lease.
        self._leases = leases
        # The calls of waiting jobs, kept while this process runs: after a restart a call is
        # rebuilt from the row (all but a reference image can be).
        self._calls: dict[int, Call] = {}
        # Waiting jobs whose card is being posted: they start only once it is there.
        self._posting: set[int] = set()
        self._line_moved = asyncio.Event()
        # Set while the line has no pass to make.
        self._line_still = asyncio.Event()
        self._line_still.set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._loops: list[asyncio.Task[None]] = []
        if leases is not None:
            leases.on_lost(self._lost)

    def require(self, operation: Operation) -> None:
        if self._api.supports(operation) is False:
            raise UnsupportedOperationError(operation)

    async def visible(self, ref: str, user_id: int, guild_id: int | None) -> VideoRow:
        """The video named by `ref` (`#key` or a provider's id) if the caller may see it here."""
        row = await self._videos.visible(ref.strip(), user_id, guild_id)
        if row is None:
            raise VideoNotFound()
        return row

    async def parent(
        self, ref: str, user_id: int, guild_id: int | None, operation: Operation
    ) -> VideoRow:
        """The video to build on: visible to the caller here, completed, and supported."""
        row = await self.visible(ref, user_id, guild_id)
        if row.status == "failed":
            raise VideoNotReady("That video failed, so there is nothing to build on.")
        if row.status != "completed":
            raise VideoNotReady("That video is not finished yet; try again when it is done.")
        self.require(operation)
        return row

    def downloadable(self, row: VideoRow) -> VideoRow:
        """`row`, if it has files to download (checked before anything is asked of anyone)."""
        if row.status != "completed":
            raise VideoNotReady("That video has no files: it is not finished.")
        if row.expires_at is not None and row.expires_at < time.time():
            raise UserError("The provider's files for this video have expired.")
        self.require(Operation.DOWNLOAD)
        return row

    def created(
        self,
        prompt: str,
        *,
        model: str | None,
        size: str | None,
        seconds: str | None,
        owner_id: int,
        guild_id: int | None,
        channel_id: int,
        image: ImageLoader | None = None,
    ) -> JobRequest:
        """A new video from a prompt (and a reference image), validated and priced."""
        profile = self._api.profile
        text = check_prompt(prompt)
        chosen_model = profile.check_model(model)
        chosen_size = profile.check_size(chosen_model, size)
        chosen_seconds = profile.check_seconds(chosen_model, seconds)
        self.require(Operation.CREATE)

        async def call() -> Video:
            reference = await image(chosen_size) if image is not None else None
            return await self._api.create(
                text,
                model=chosen_model,
                size=chosen_size,
                seconds=chosen_seconds,
                input_reference=reference,
            )

        price = micros(profile.price_for(chosen_model))
        return JobRequest(
            owner_id,
            guild_id,
            channel_id,
            "create",
            text,
            None,
            Ask(int(chosen_seconds), price * int(chosen_seconds)),
            price,
            call,
            model=chosen_model,
            size=chosen_size,
            seconds=chosen_seconds,
            with_image=image is not None,
        )

    def derived(
        self,
        kind: DerivedKind,
        parent: VideoRow,
        prompt: str,
        *,
        owner_id: int,
        guild_id: int | None,
        channel_id: int,
        seconds: str | None = None,
    ) -> JobRequest:
        """A remix, extension or edit of `parent`, validated and priced, ready to start."""
        api = self._api
        text = check_prompt(prompt)
        call: Call
        total = parent.seconds
        price = micros(api.profile.price_for(parent.model))
        if kind == "extend":
            added = api.profile.check_seconds(parent.model, seconds, extend=True)
            generated = int(added)
            call = functools.partial(api.extend, parent.id, text, added, model=parent.model)
            # An extension is the source and the new segment stitched together.
            total = str(int(parent.seconds) + int(added)) if parent.seconds.isdigit() else added
        else:
            # A remix or edit generates the whole video again.
            generated = int(parent.seconds) if parent.seconds.isdigit() else 0
            method = api.remix if kind == "remix" else api.edit
            call = functools.partial(method, parent.id, text, model=parent.model)
        return JobRequest(
            owner_id,
            guild_id,
            channel_id,
            kind,
            text,
            parent,
            Ask(generated, price * generated),
            price,
            call,
            model=parent.model,
            size=parent.size,
            seconds=total,
        )

    async def start(
        self, request: JobRequest, poster: PosterT, asker: Asker | None = None
    ) -> VideoRow:
        """Start the job, or put it in line, or refuse it saying why: the API is called only
        for a job whose reservation is written."""
        scope = request.guild_id or 0
        # Who may generate is answered at once and privately, from memory.
        access = await self._spending.access(scope)
        where = asker or Asker(channel_ids=(request.channel_id,))
        reason = denied(access, request.owner_id, where.channel_ids, where.role_ids)
        if reason is not None:
            raise NotAllowed(reason, access)
        limits = await self._spending.limits(scope)
        # Answer, then decide: under a burst the transaction waits its turn for the connection.
        await poster.begin()
        try:
            admission = await self._ledger.admit(request.new_job(), limits)
        except Exception:
            # Nothing was written: the answer is taken back for the error handler's.
            await poster.abort()
            raise
        verdict, row = admission.verdict, admission.row
        if isinstance(verdict, Refuse) or row is None:
            await poster.abort()
            assert isinstance(verdict, Refuse)  # only a refusal writes no row
            raise SpendingRefused(verdict, scope, self._clock())
        lineage = Lineage.of(request.parent) if request.parent else None
        if isinstance(verdict, Wait):
            return await self._post_waiting(row, request.call, poster, lineage, verdict.position)
        try:
            if self._leases is not None:
                # Leased before the call goes out: no other process takes it for a dead one's.
                await self._leases.claim(row.key)
            await self._cards.keep_reply(row, poster)
            video: Video | None = await request.call()
        except LOST_ANSWERS as exc:
            log.warning("creating %s got no answer (%s); looking for it", row.ref, exc)
            video = await self._find_after_a_moment(row)
        except Exception:
            # Refused, or failed before its call was answered (a bad image, a bug): nothing is
            # kept, nothing is owed, and the error handler tells the user (a bug with its id).
            await self._ledger.abandon(row.key)
            self._move_line()
            await poster.abort()
            raise
        if video is None:
            failed = await self._ledger.unconfirmed(row.key, NOT_CONFIRMED, NOT_CONFIRMED_TEXT)
            self._move_line()
            return await self._cards.post_first(failed or row, poster, lineage)
        confirmed = await self._videos.confirm(row.key, video) or row
        # Followed before its card is posted: a card Discord refuses loses nothing. A result
        # that comes at once waits for that post, which knows the interaction's upload limit.
        self._cards.expect(confirmed)
        await self._tracker.track(confirmed.id)
        return await self._cards.post_first(confirmed, poster, lineage)

    async def _post_waiting(
        self,
        row: VideoRow,
        call: Call,
        poster: PosterT,
        lineage: Lineage | None,
        position: int,
    ) -> VideoRow:
        self._calls[row.key] = call
        self._posting.add(row.key)
        try:
            if self._leases is not None:
                # Its call is kept here: this process starts it, and shows its place in line.
                await self._leases.claim(row.key)
            return await self._cards.post_first(row, poster, lineage, position=position)
        finally:
            self._posting.discard(row.key)
            # A slot may have freed while the card went up.
            self._move_line()

    def _lost(self, keys: set[int]) -> None:
        """Leases found lost: the calls kept for those jobs in line are the new holder's to
        make (rebuilt from their rows), never this process's."""
        for key in keys:
            self._calls.pop(key, None)

    async def cancel(self, ref: str, user_id: int, guild_id: int | None) -> VideoRow:
        """Take a waiting job out of line: nothing was sent, its reservation is released."""
        row = await self.visible(ref, user_id, guild_id)
        if row.owner_id != user_id:
            raise UserError("Only whoever asked for this video can cancel it.")
        if not row.waiting or not await self._ledger.cancel(row.key):
            raise UserError("That video has started already, so it can no longer be cancelled.")
        self._calls.pop(row.key, None)
        self._move_line()
        return row

    # -- the line, and the ledger following the tracker -----------------------------------------

    def watch(self, events: asyncio.Queue[JobEvent]) -> None:
        """Settle or release each job as it ends, and start waiting jobs as slots free."""
        self._loops = [
            asyncio.create_task(self._follow(events), name="videobot-ledger"),
            asyncio.create_task(self._run_line(), name="videobot-line"),
        ]
        if self._leases is not None:
            self._loops.append(
                asyncio.create_task(self._watch_others(self._leases), name="videobot-others")
            )
        self._move_line()

    async def stop(self) -> None:
        await cancel_and_wait(*self._loops, *self._tasks)
        self._loops = []

    async def idle(self) -> None:
        """Wait until the line has moved as asked and no waiting job is being started (tests
        and benchmarks)."""
        while True:
            if self._loops:
                await self._line_still.wait()
            pending = [task for task in self._tasks if not task.done()]
            if not pending:
                return
            await asyncio.wait(pending)

    def limits_changed(self) -> None:
        """A server's limits changed: waiting jobs may have slots now."""
        self._move_line()

    def _move_line(self) -> None:
        self._line_still.clear()
        self._line_moved.set()

    async def _follow(self, events: asyncio.Queue[JobEvent]) -> None:
        while True:
            event = await events.get()
            if not event.job.finished:
                continue
            try:
                await self._close(event.job)
            except Exception:
                log.exception("closing the reservation of %s failed", event.job.ref)
            # A finished job frees its slot.
            self._move_line()

    async def _close(self, row: VideoRow) -> None:
        """Settle a completed job at the seconds it generated; release a failed one."""
        if row.status != "completed":
            await self._ledger.release(row.key)
            return
        entry = await self._ledger.open_entry(row.key)
        if entry is None:
            return
        seconds = row.seconds
        if row.kind == "extend":
            parent = await self._videos.get(row.parent_id) if row.parent_id else None
            seconds = added_seconds(row, parent)
        generated = int(seconds) if seconds.isdigit() else entry.seconds
        # A row's cost is 0 until settled, unless the provider reported what it charged.
        reported = micros(row.cost) if row.cost > 0 else None
        await self._ledger.settle(row.key, generated, reported)

    async def reconcile_ledger(self) -> None:
        """On start, after `recover`: close every reservation whose job ended while down."""
        for entry in await self._ledger.open_entries():
            row = await self._videos.get_by_key(entry.video_key) if entry.video_key else None
            if row is not None and row.finished:
                await self._close(row)

    async def _watch_others(self, leases: Leases) -> None:
        """Beside other processes: the calls and the line of one that died are taken over by
        a survivor, which need not restart for it; a slot another process freed is seen."""
        while True:
            await asyncio.sleep(leases.renew_every)
            try:
                await self.recover()
            except Exception:
                # The database or the provider is away for a moment: the next round tries again.
                log.exception("recovering the calls of stopped processes failed")
            self._move_line()

    async def _run_line(self) -> None:
        while True:
            if not self._line_moved.is_set():
                self._line_still.set()
            await self._line_moved.wait()
            self._line_moved.clear()
            try:
                await self._start_due()
            except Exception:
                # One bad pass must not end the loop: the next change tries again.
                log.exception("starting waiting jobs failed")

    async def _start_due(self) -> None:
        line = await self._videos.waiting_rows()
        if not line:
            return
        # Beside other processes, the jobs each one put in line are its own to start and show:
        # it has their calls (a reference image lives only there) and their cards.
        here = await self._leases.waiting_here() if self._leases is not None else None
        waiting = [
            r for r in line if r.key not in self._posting and (here is None or r.key in here)
        ]
        if not waiting:
            return
        limits = {scope: await self._spending.limits(scope) for scope in {r.scope for r in waiting}}
        started = await self._ledger.start_waiting(limits, hold=self._posting, startable=here)
        for row in started:
            task = asyncio.create_task(self._start_waited(row), name=f"videobot-start-{row.key}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        for row, position in await self._ledger.line():
            if row.key not in self._posting and (here is None or row.key in here):
                self._cards.show_waiting(row, position)

    async def _start_waited(self, row: VideoRow) -> None:
        """The API call of a job that waited for its slot; its card says how it went."""
        try:
            call = self._calls.pop(row.key, None) or await self._rebuilt_call(row)
            video: Video | None = await call()
        except LOST_ANSWERS as exc:
            log.warning("starting %s got no answer (%s); looking for it", row.ref, exc)
            video = await self._find_after_a_moment(row)
        except Exception as exc:
            # Refused, or failed before its call was answered: the card says why (a bug: its id).
            text = self._explain(exc, f"starting {row.ref}")
            failed = await self._ledger.unconfirmed(row.key, NOT_STARTED, text)
            self._move_line()
            self._cards.refresh(failed or row)
            return
        if video is None:
            failed = await self._ledger.unconfirmed(row.key, NOT_CONFIRMED, NOT_CONFIRMED_TEXT)
            self._move_line()
            self._cards.refresh(failed or row)
            return
        confirmed = await self._videos.confirm(row.key, video) or row
        await self._tracker.track(confirmed.id)
        self._cards.refresh(confirmed)

    async def _rebuilt_call(self, row: VideoRow) -> Call:
        """The call of a job that waited across a restart, from its row."""
        if row.with_image:
            raise UserError(IMAGE_GONE)
        return (await self._request_for(row, row.channel_id)).call

    async def retry(
        self,
        row: VideoRow,
        user_id: int,
        channel_id: int,
        poster: PosterT,
        asker: Asker | None = None,
    ) -> VideoRow:
        """Start again a job whose first call got no answer and which the provider lacks."""
        if row.owner_id != user_id:
            raise UserError("Only whoever asked for this video can retry it.")
        if row.error_code != NOT_CONFIRMED:
            raise UserError("That video was retried already, or never needed it.")
        if row.with_image:
            raise UserError(IMAGE_GONE)
        request = await self._request_for(row, channel_id)
        if not await self._videos.claim_retry(row.key):
            raise UserError("That video was retried already.")
        try:
            return await self.start(request, poster, asker)
        except BaseException:
            await self._videos.release_retry(row.key)
            raise

    async def recover(self) -> None:
        """On start: every job whose billable call was out when the bot stopped is found at
        the provider and followed, or ends failed with a Retry button for its owner.

        Beside other processes, only the calls no live process has out: those whose lease ran
        out or was released, taken first, so that one process recovers each.
        """
        for row in await self._stranded():
            video = await find_created(self._api, row, self._videos.known_ids)
            if video is not None:
                log.info("found %s at the provider after a restart", row.ref)
                await self._videos.confirm(row.key, video)
            else:
                await self._ledger.unconfirmed(row.key, NOT_CONFIRMED, NOT_CONFIRMED_TEXT)
            if self._leases is not None:
                # Followed and delivered from here like any job another process left.
                await self._leases.let_go(row.key)

    async def _stranded(self) -> list[VideoRow]:
        if self._leases is None:
            return await self._videos.submitting()
        rows = [await self._videos.get_by_key(key) for key in await self._leases.claim_stranded()]
        # In the order they were sent, as on start: of two alike, the older gets the older video.
        return sorted(
            (row for row in rows if row is not None), key=lambda row: row.submitting_since or 0.0
        )

    async def delete(self, row: VideoRow, actor_id: int) -> None:
        """Delete upstream, hide the row, and turn the card into a tombstone without buttons."""
        if not row.finished:
            raise VideoNotReady("That video is still being made; delete it once it is done.")
        if row.at_provider:
            # Gone already is as good as deleted. A provider that cannot delete says so to the
            # user (UnsupportedOperationError): hiding a video it still serves would mislead.
            with contextlib.suppress(NotFoundError):
                await self._api.delete(row.id)
        if await self._videos.mark_deleted(row.id):
            await self._cards.tombstone(row, actor_id)

    async def _find_after_a_moment(self, row: VideoRow) -> Video | None:
        # A provider lists a job it accepted a moment after; asking at once would miss it.
        await asyncio.sleep(self._reconcile_wait)
        try:
            return await find_created(self._api, row, self._videos.known_ids)
        except Exception:
            # Not found, as when the list cannot be read: the card says so and offers Retry.
            log.exception("looking for %s at the provider failed", row.ref)
            return None

    async def _request_for(self, row: VideoRow, channel_id: int) -> JobRequest:
        """The request that made `row`, to send again."""
        owner, guild = row.owner_id, row.guild_id
        if row.kind == "create":
            return self.created(
                row.prompt,
                model=row.model,
                size=row.size,
                seconds=row.seconds,
                owner_id=owner,
                guild_id=guild,
                channel_id=channel_id,
            )
        parent = await self._videos.get(row.parent_id) if row.parent_id else None
        if parent is None or parent.deleted_at is not None or parent.status != "completed":
            raise UserError("The video it was made from is gone, so it cannot be made again.")
        self.require(OPERATIONS[row.kind])
        added = added_seconds(row, parent) if row.kind == "extend" else None
        return self.derived(
            row.kind,
            parent,
            row.prompt,
            owner_id=owner,
            guild_id=guild,
            channel_id=channel_id,
            seconds=added,
        )
