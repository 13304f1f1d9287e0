"""Starting and deleting jobs: one path for slash commands, buttons, forms and reactions.

A job's row is written before the billable call goes out (write-ahead), in the transaction that
checks the spending limits and reserves its seconds and cost in the ledger, and completed with
the provider's answer. When that answer is lost (a 5xx, a timeout, a crash), the provider's
newest videos are searched for the job before anyone is told anything. When the provider's list
shows twice, a few seconds apart, that nothing was made, the call is sent once more by itself,
on the same row and reservation, and the card says so; only when the job is neither found nor
proven absent (a provider that cannot list) does the card offer a Retry button, which starts
a new (billable) job.

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
from bot.jobs.failover import next_destinations
from bot.jobs.handoff import AGAIN, Step, add
from bot.jobs.reconcile import UNKNOWN, Look, look
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
from bot.spending.limits import Access, Ask, Refuse, Wait, denied
from bot.spending.money import micros
from bot.spending.rules import PromptRules, blocked_by_provider
from bot.spending.service import Spending
from bot.storage import LedgerRepository, VideoRepository, VideoRow
from bot.storage.rules import PROVIDER_BLOCKED
from bot.storage.videos import NOT_CONFIRMED, NOT_STARTED
from bot.timing.tasks import cancel_and_wait
from bot.tracker.leases import Leases
from bot.tracker.service import JobEvent, Tracker
from bot.videoapi.backend import VideoBackend
from bot.videoapi.errors import NotFoundError, UnsupportedOperationError
from bot.videoapi.health import Health
from bot.videoapi.models import Operation, Video
from bot.videoapi.profile import check_prompt
from bot.videoapi.providers import ProviderRemoved, Providers, Route, routed
from bot.videoapi.refusals import answer_lost, nothing_made

log = logging.getLogger(__name__)

NOT_CONFIRMED_TEXT: Final = (
    "The provider did not answer when asked to make this video, and it is not among its videos."
)

IMAGE_GONE: Final = "It was made from an image, which I don't keep: run /video again."


class Jobs(Generic[PosterT]):
    """Jobs started, waiting and ended; their cards shown by `cards` through posters of the
    type `PosterT` that the commands hand in."""

    def __init__(
        self,
        api: VideoBackend | Providers,
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
        prompts: PromptRules | None = None,
        health: Health | None = None,
    ) -> None:
        # Every configured provider: a new job goes where its model is served, every later
        # call about a job to the provider its row names.
        self._providers = routed(api)
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
        # A server's prompt rules and the moderation check, before anything is reserved.
        self._prompts = prompts
        # Which providers fail often: a new job and a failover try them last.
        self._health = health
        # The requests of waiting jobs, kept while this process runs: after a restart one is
        # rebuilt from the row (all but a reference image can be).
        self._requests: dict[int, JobRequest] = {}
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

    def require(self, operation: Operation, provider: str | None = None) -> None:
        """Refuse at once an operation the provider (the first one when None) lacks."""
        backend = self._providers.get(provider or self._providers.default)
        if backend.supports(operation) is False:
            raise UnsupportedOperationError(operation)

    def provider_of(self, row: VideoRow) -> VideoBackend:
        """The provider that made `row` (ProviderRemoved when it is no longer configured)."""
        return self._providers.get(row.provider)

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
        self.require(operation, row.provider)
        return row

    def downloadable(self, row: VideoRow) -> VideoRow:
        """`row`, if it has files to download (checked before anything is asked of anyone)."""
        if row.status != "completed":
            raise VideoNotReady("That video has no files: it is not finished.")
        if row.expires_at is not None and row.expires_at < time.time():
            raise UserError("The provider's files for this video have expired.")
        self.require(Operation.DOWNLOAD, row.provider)
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
        provider: str | None = None,
    ) -> JobRequest:
        """A new video from a prompt (and a reference image), validated and priced, for the
        first provider (in the operator's order) that serves `model`, or for `provider`."""
        if provider is not None and model is not None:
            route = Route(provider, model, self._providers.get(provider))
        else:
            route = self._route(model)
        profile = route.backend.profile
        text = check_prompt(prompt)
        chosen_model = profile.check_model(route.model)
        chosen_size = profile.check_size(chosen_model, size)
        chosen_seconds = profile.check_seconds(chosen_model, seconds)
        self.require(Operation.CREATE, route.provider)
        elsewhere = functools.partial(
            self.create_call, prompt=text, size=chosen_size, seconds=chosen_seconds, image=image
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
            elsewhere(route),
            model=chosen_model,
            size=chosen_size,
            seconds=chosen_seconds,
            with_image=image is not None,
            provider=route.provider,
            elsewhere=elsewhere,
        )

    def _route(self, model: str | None) -> Route:
        """Where a new job for `model` goes: the first provider serving it in the operator's
        order, unless that one is demoted for failing and another serves it too."""
        route = self._providers.route(model)
        if model is None or self._health is None or not self._health.demoted(route.provider):
            return route
        # Empty when every provider refused the model as gone: the first says so again.
        serving = self._health.order(self._providers.serving(model), lambda r: r.provider)
        return serving[0] if serving else route

    @staticmethod
    def create_call(
        route: Route, prompt: str, size: str, seconds: str, image: ImageLoader | None
    ) -> Call:
        """The billable create of `prompt` at `route`'s provider, with its model."""

        async def call() -> Video:
            reference = await image(size) if image is not None else None
            return await route.backend.create(
                prompt, model=route.model, size=size, seconds=seconds, input_reference=reference
            )

        return call

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
        """A remix, extension or edit of `parent`, validated and priced, ready to start; it
        goes to the provider that made `parent` (only it knows the parent's id)."""
        api = self._providers.get(parent.provider)
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
            provider=parent.provider,
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
        self._check_model(access, request)
        limits = await self._spending.limits(scope)
        # Answer, then decide: under a burst the transaction waits its turn for the connection.
        await poster.begin()
        try:
            if self._prompts is not None:
                await self._prompts.check(
                    scope, request.prompt, age_restricted=where.age_restricted
                )
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
            return await self._post_waiting(row, request, poster, lineage, verdict.position)
        try:
            if self._leases is not None:
                # Leased before the call goes out: no other process takes it for a dead one's.
                await self._leases.claim(row.key)
            await self._cards.keep_reply(row, poster)
            video = await self._sent(row, request)
        except Exception as exc:
            if blocked_by_provider(exc):
                # Its own card state, kept for the record; nothing was made, nothing is owed.
                blocked = await self._ledger.unconfirmed(row.key, PROVIDER_BLOCKED, str(exc))
                self._move_line()
                return await self._cards.post_first(blocked or row, poster, lineage)
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

    def _check_model(self, access: Access, request: JobRequest) -> None:
        """A server's admins may narrow the models used there (/limits models)."""
        shown = self._providers.group(request.model)
        if access.models and shown not in access.models:
            allowed = ", ".join(sorted(access.models))
            raise UserError(f"{shown} is not used in this server; its admins allow: {allowed}.")

    async def _post_waiting(
        self,
        row: VideoRow,
        request: JobRequest,
        poster: PosterT,
        lineage: Lineage | None,
        position: int,
    ) -> VideoRow:
        self._requests[row.key] = request
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
        """Leases found lost: the requests kept for those jobs in line are the new holder's to
        make (rebuilt from their rows), never this process's."""
        for key in keys:
            self._requests.pop(key, None)

    async def cancel(self, ref: str, user_id: int, guild_id: int | None) -> VideoRow:
        """Take a waiting job out of line: nothing was sent, its reservation is released."""
        row = await self.visible(ref, user_id, guild_id)
        if row.owner_id != user_id:
            raise UserError("Only whoever asked for this video can cancel it.")
        if not row.waiting or not await self._ledger.cancel(row.key):
            raise UserError("That video has started already, so it can no longer be cancelled.")
        self._requests.pop(row.key, None)
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
            request = self._requests.pop(row.key, None) or await self._rebuilt_request(row)
            video = await self._sent(row, request)
        except Exception as exc:
            # Refused, or failed before its call was answered: the card says why (a bug: its id).
            text = self._explain(exc, f"starting {row.ref}")
            code = PROVIDER_BLOCKED if blocked_by_provider(exc) else NOT_STARTED
            failed = await self._ledger.unconfirmed(row.key, code, text)
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

    async def _rebuilt_request(self, row: VideoRow) -> JobRequest:
        """The request of a job that waited across a restart, from its row."""
        if row.with_image:
            raise UserError(IMAGE_GONE)
        return await self._request_for(row, row.channel_id)

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
            video = (await self._look(row)).video
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
                await self._providers.get(row.provider).delete(row.id)
        if await self._videos.mark_deleted(row.id):
            await self._cards.tombstone(row, actor_id)

    async def _sent(self, row: VideoRow, request: JobRequest) -> Video | None:
        """The job's billable call, and what the bot does by itself when it fails.

        A create refused with proof that nothing was made goes on to the next provider serving
        its model (bot/jobs/failover.py). A call whose answer was lost is looked for at its
        provider, never sent elsewhere; when that provider's list shows twice that nothing was
        made, the call is sent there once more. Either way on the same row and reservation, the
        row saying so for the card, and a billable POST goes out again only on such proof.
        None: the job is neither found nor proven absent, and the card offers Retry. A refusal
        with nowhere left to go is raised.
        """
        call, tried, sent_again = request.call, {row.provider}, False
        while True:
            try:
                return await call()
            except Exception as exc:
                error = exc
            if blocked_by_provider(error):
                # A safety refusal is about the prompt: another provider is not asked (OpenRouter
                # flags with a 403, which would otherwise read as a refusal to fail over from).
                raise error
            why = nothing_made(error)
            if why is not None:
                failover = self._failover(row, request, tried)
                if failover is None:
                    raise error
                route, call = failover
                moved = await self._videos.send_again(
                    row,
                    add(row.handoff, Step(row.provider, why)),
                    provider=route.provider,
                    model=route.model,
                )
                if moved is None:
                    raise error
                log.warning(
                    "%s: %s made nothing (%s); sending it to %s",
                    row.ref,
                    row.provider,
                    why,
                    route.provider,
                )
                row = moved
                tried.add(route.provider)
                continue
            if not answer_lost(error):
                raise error
            log.warning("sending %s got no answer (%s); looking for it", row.ref, error)
            seen = await self._look_after_a_moment(row)
            if seen.found_nothing and not sent_again:
                # A provider lists a job a moment after accepting it: one empty look is not
                # enough to send it again.
                seen = await self._look_after_a_moment(row)
            if sent_again or not seen.found_nothing:
                return seen.video
            again = await self._videos.send_again(row, add(row.handoff, Step(row.provider, AGAIN)))
            if again is None:
                return None
            log.info(
                "%s was not made at %s (its list shows it twice): sending it again",
                row.ref,
                row.provider,
            )
            row, sent_again = again, True

    def _failover(
        self, row: VideoRow, request: JobRequest, tried: set[str]
    ) -> tuple[Route, Call] | None:
        """Where a create refused without making anything goes next, and its call there."""
        if request.elsewhere is None:
            return None
        destinations = next_destinations(
            self._providers.serving(row.model),
            tried,
            size=row.size,
            seconds=row.seconds,
            micros_per_second=request.micros_per_second,
            health=self._health,
        )
        if not destinations:
            return None
        return destinations[0], request.elsewhere(destinations[0])

    async def _look_after_a_moment(self, row: VideoRow) -> Look:
        # A provider lists a job it accepted a moment after; asking at once would miss it.
        await asyncio.sleep(self._reconcile_wait)
        try:
            return await self._look(row)
        except Exception:
            # As when the list cannot be read: nothing found, nothing proven.
            log.exception("looking for %s at the provider failed", row.ref)
            return UNKNOWN

    async def _look(self, row: VideoRow) -> Look:
        """The job `row`'s lost call made, looked for at the provider it was sent to."""
        try:
            api = self._providers.get(row.provider)
        except ProviderRemoved:
            log.warning("%s was sent to %r, no longer configured", row.ref, row.provider)
            return UNKNOWN
        return await look(api, row, self._videos.known_ids)

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
                # Sent again where it was sent (or was to be, for a job that waited).
                provider=row.provider,
            )
        parent = await self._videos.get(row.parent_id) if row.parent_id else None
        if parent is None or parent.deleted_at is not None or parent.status != "completed":
            raise UserError("The video it was made from is gone, so it cannot be made again.")
        self.require(OPERATIONS[row.kind], parent.provider)
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
