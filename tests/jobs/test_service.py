"""Jobs: the line for a full slot, write-ahead rows and their reservations, lost answers
reconciled, Retry, recovery, delete.

The provider is a respx router behind a real VideoClient, the database a real SQLite file with
the real ledger and limits, the tracker the real one (never started: only `track` is used);
Discord is replaced by a poster and a delivery that record what they were asked to do.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from pydantic import SecretStr

from bot.errors import LimitReached, UserError, VideoNotReady
from bot.interactions.buttons import result_buttons
from bot.interactions.tree import describe, explain
from bot.jobs.handoff import AGAIN, Step, steps
from bot.jobs.requests import JobRequest, Lineage
from bot.jobs.service import NOT_CONFIRMED_TEXT, Jobs
from bot.media.images import fit_reference
from bot.spending.limits import Ask, Limits
from bot.spending.service import Spending
from bot.storage import (
    Database,
    GuildRepository,
    LedgerRepository,
    SqliteDatabase,
    VideoRepository,
    VideoRow,
)
from bot.storage.videos import NOT_CONFIRMED, NOT_STARTED, PLACEHOLDER_PREFIX
from bot.timing.backoff import Backoff
from bot.tracker.leases import Leases
from bot.tracker.service import JobEvent, Tracker
from bot.videoapi.client import VideoClient
from bot.videoapi.errors import (
    BadRequestError,
    InvalidParameterError,
    UnprocessableEntityError,
    UnsupportedOperationError,
    VideoAPIError,
)
from bot.videoapi.models import Operation, Upload, Video
from bot.videoapi.profile import ProviderProfile
from bot.videoapi.providers import DEFAULT_PROVIDER

from ..media.images import ztxt_bomb

BASE_URL = "https://videos.test/v1"
NOW = 1_800_000_000.0
OWNER = 11
OTHER = 22
GUILD = 33
CHANNEL = 44
LIMIT = 2
# Only the per-user slots bind unless a test says otherwise.
LIMITS = Limits(
    jobs_per_user=LIMIT,
    jobs_per_guild=None,
    daily_seconds_per_user=None,
    daily_seconds_per_guild=None,
    monthly_budget_micros=None,
)
OPEN = Limits(None, None, None, None, None)


async def slots_held(env: Env) -> int:
    """The owner's jobs that hold a slot: unfinished, not waiting in line, not deleted."""
    rows = await env.videos.list_visible(OWNER, GUILD, limit=100)
    return len([row for row in rows if not row.finished and not row.waiting])


def video_json(video_id: str = "video_1", **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": video_id,
        "object": "video",
        "model": "sora-2",
        "status": "queued",
        "progress": 0,
        "created_at": int(NOW) + 1,
        "prompt": "a red kite",
        "size": "720x1280",
        "seconds": "4",
    }
    return body | changes


def page(*videos: dict[str, Any]) -> dict[str, Any]:
    return {"object": "list", "data": list(videos), "has_more": False}


async def no_sleep(_: float) -> None:
    return None


class Poster:
    """A first card's place: records whether it was opened and taken back."""

    interaction = None

    def __init__(self) -> None:
        self.calls: list[str] = []

    async def begin(self) -> None:
        self.calls.append("begin")

    async def abort(self) -> None:
        self.calls.append("abort")


class RecordingDelivery:
    def __init__(self) -> None:
        self.posted: list[tuple[VideoRow, Lineage | None]] = []
        self.positions: list[int | None] = []
        self.refreshed: list[VideoRow] = []
        self.tombstones: list[tuple[int, int]] = []

    def expect(self, row: VideoRow) -> None:
        return None

    async def keep_reply(self, row: VideoRow, poster: Poster) -> None:
        return None

    async def post_first(
        self,
        row: VideoRow,
        poster: Poster,
        lineage: Lineage | None,
        *,
        position: int | None = None,
    ) -> VideoRow:
        self.posted.append((row, lineage))
        self.positions.append(position)
        return row

    def refresh(self, row: VideoRow) -> None:
        self.refreshed.append(row)

    def show_waiting(self, row: VideoRow, position: int) -> None:
        return None

    async def tombstone(self, row: VideoRow, actor_id: int) -> None:
        self.tombstones.append((row.key, actor_id))


class Env:
    def __init__(
        self,
        router: respx.Router,
        api: VideoClient,
        videos: VideoRepository,
        ledger: LedgerRepository,
        tracker: Tracker,
        delivery: RecordingDelivery,
        jobs: Jobs,
    ) -> None:
        self.router = router
        self.api = api
        self.videos = videos
        self.ledger = ledger
        self.tracker = tracker
        self.delivery = delivery
        self.jobs = jobs

    def calls(self, method: str, path: str) -> list[httpx.Request]:
        return [
            call.request
            for call in self.router.calls
            if call.request.method == method and call.request.url.path == f"/v1{path}"
        ]

    def request(self, prompt: str = "a red kite", owner: int = OWNER) -> JobRequest:
        return self.jobs.created(
            prompt,
            model=None,
            size=None,
            seconds=None,
            owner_id=owner,
            guild_id=GUILD,
            channel_id=CHANNEL,
        )

    async def completed(self, video_id: str, **changes: Any) -> VideoRow:
        """A finished video of OWNER's, as the bot stores one the provider made."""
        video = Video.model_validate(
            video_json(video_id, status="completed", progress=100, completed_at=int(NOW) + 9)
            | changes
        )
        return await self.videos.insert(
            video,
            owner_id=OWNER,
            guild_id=GUILD,
            channel_id=CHANNEL,
            kind="create",
            prompt=video.prompt or "",
            model="sora-2",
            size="720x1280",
            seconds=video.seconds or "4",
        )

    async def states(self, key: int) -> list[str]:
        """The states of the ledger entries of the row `key`."""
        return [entry.state for entry in await self.ledger.entries_for(key)]

    async def held(self) -> int:
        """What reservations still hold in GUILD this month, in micro-dollars."""
        return (await self.ledger.month(GUILD)).held_micros


MakeEnv = Callable[..., Env]


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    async with await SqliteDatabase.open(tmp_path / "videobot.sqlite3") as db:
        yield db


def build_env(
    database: Database,
    *,
    profile: ProviderProfile | None = None,
    limits: Limits = LIMITS,
    clock: Callable[[], float] = lambda: NOW,
    leases: Leases | None = None,
) -> Env:
    """One bot process's jobs on `database` (beside others when it has `leases`)."""
    router = respx.Router(base_url=BASE_URL, assert_all_called=False)
    api = VideoClient(
        BASE_URL,
        SecretStr("sk-test"),
        profile=profile,
        backoff=Backoff(sleep=no_sleep),
        transport=httpx.MockTransport(router.async_handler),
    )
    videos = VideoRepository(database, clock=clock)
    ledger = LedgerRepository(database, videos, clock=clock)
    spending = Spending(GuildRepository(database), limits)
    tracker = Tracker(api, videos, clock=clock, leases=leases)
    delivery = RecordingDelivery()
    jobs = Jobs(
        api,
        videos,
        ledger,
        spending,
        tracker,
        delivery,
        explain=explain,
        reconcile_wait=0.0,
        clock=clock,
        leases=leases,
    )
    return Env(router, api, videos, ledger, tracker, delivery, jobs)


@pytest.fixture
async def make_env(database: Database) -> AsyncIterator[MakeEnv]:
    envs: list[Env] = []

    def make(profile: ProviderProfile | None = None, limits: Limits = LIMITS) -> Env:
        envs.append(build_env(database, profile=profile, limits=limits))
        return envs[-1]

    yield make
    for env in envs:
        await env.api.aclose()


@pytest.fixture
def env(make_env: MakeEnv) -> Env:
    return make_env()


async def running(env: Env, count: int, *, tracked: bool) -> None:
    for n in range(count):
        row = await env.videos.insert(
            Video.model_validate(video_json(f"video_running_{n}", status="in_progress")),
            owner_id=OWNER,
            guild_id=GUILD,
            channel_id=CHANNEL,
            kind="create",
            prompt="a red kite",
            model="sora-2",
            size="720x1280",
            seconds="4",
        )
        if tracked:
            await env.tracker.track(row.id)


# -- the line -------------------------------------------------------------------------------


async def test_a_job_over_the_owners_limit_waits_in_line_holding_its_reservation(
    env: Env,
) -> None:
    # Jobs just written are not tracked yet: the database's count decides, in the transaction.
    await running(env, LIMIT, tracked=False)
    poster = Poster()
    row = await env.jobs.start(env.request(), poster)
    assert row.waiting
    assert row.submitting_since is None
    assert row.id.startswith(PLACEHOLDER_PREFIX)
    assert poster.calls == ["begin"]
    assert [posted.key for posted, _ in env.delivery.posted] == [row.key]
    assert env.delivery.positions == [1]
    # Nothing is sent while it waits; what it will cost is held.
    assert env.router.calls.call_count == 0
    assert env.tracker.tracked == frozenset()
    assert await env.states(row.key) == ["reserved"]
    assert await env.held() == 400_000
    assert [waiting.key for waiting in await env.videos.waiting_rows()] == [row.key]


async def test_a_burst_of_clicks_cannot_beat_the_limit(env: Env) -> None:
    gate = asyncio.Event()
    made = iter(range(100))

    async def slow_create(request: httpx.Request) -> httpx.Response:
        await gate.wait()
        return httpx.Response(200, json=video_json(f"video_burst_{next(made)}"))

    env.router.post("/videos").mock(side_effect=slow_create)
    starts = [asyncio.create_task(env.jobs.start(env.request(), Poster())) for _ in range(5)]
    # Let every click count and write before the provider answers any of them.
    for _ in range(20):
        await asyncio.sleep(0)
    gate.set()
    rows = await asyncio.gather(*starts)
    started = [row for row in rows if not row.waiting]
    waiting = [row for row in rows if row.waiting]
    assert (len(started), len(waiting)) == (LIMIT, 5 - LIMIT)
    assert len(env.calls("POST", "/videos")) == LIMIT
    assert sorted(p for p in env.delivery.positions if p is not None) == [1, 2, 3]


async def test_the_limit_is_per_owner(env: Env) -> None:
    await running(env, LIMIT, tracked=True)
    env.router.post("/videos").respond(200, json=video_json("video_other"))
    row = await env.jobs.start(env.request(owner=OTHER), Poster())
    assert row.owner_id == OTHER
    assert not row.waiting
    assert row.id == "video_other"


async def finish_one_running(env: Env, events: asyncio.Queue[JobEvent]) -> None:
    """One of OWNER's running jobs completes, as the tracker would report it."""
    done = Video.model_validate(video_json("video_running_0", status="completed", progress=100))
    await env.videos.apply_refresh(done)
    row = await env.videos.get("video_running_0")
    assert row is not None
    events.put_nowait(JobEvent(row, "in_progress"))


async def refreshed(env: Env) -> VideoRow:
    """The card refresh of the waiting job once its call went out."""
    for _ in range(500):
        if env.delivery.refreshed:
            await env.jobs.idle()
            [row] = env.delivery.refreshed
            return row
        await asyncio.sleep(0.01)
    raise AssertionError("the waiting job never started")


async def test_a_waiting_job_starts_when_a_slot_frees(env: Env) -> None:
    await running(env, LIMIT, tracked=False)
    waiting = await env.jobs.start(env.request(), Poster())
    assert waiting.waiting
    env.router.post("/videos").respond(200, json=video_json("video_waited"))
    events: asyncio.Queue[JobEvent] = asyncio.Queue()
    env.jobs.watch(events)
    try:
        await finish_one_running(env, events)
        row = await refreshed(env)
    finally:
        await env.jobs.stop()
    assert (row.key, row.id, row.waiting_since, row.submitting_since) == (
        waiting.key,
        "video_waited",
        None,
        None,
    )
    assert env.tracker.tracked == {"video_waited"}
    assert len(env.calls("POST", "/videos")) == 1
    assert await env.states(row.key) == ["reserved"]


async def test_a_waiting_job_the_provider_refuses_ends_failed_and_releases(env: Env) -> None:
    await running(env, LIMIT, tracked=False)
    waiting = await env.jobs.start(env.request(), Poster())
    error = {"error": {"message": "prompt rejected", "type": "invalid_request_error"}}
    env.router.post("/videos").respond(400, json=error)
    events: asyncio.Queue[JobEvent] = asyncio.Queue()
    env.jobs.watch(events)
    try:
        await finish_one_running(env, events)
        row = await refreshed(env)
    finally:
        await env.jobs.stop()
    # Its card is there already: it says why, instead of vanishing like a refused command.
    assert (row.key, row.status, row.error_code) == (waiting.key, "failed", NOT_STARTED)
    assert row.error_message is not None
    assert "rejected" in row.error_message
    assert await env.states(row.key) == ["released"]
    assert await env.held() == 0


async def test_a_spending_limit_refuses_before_anything_is_sent(make_env: MakeEnv) -> None:
    env = make_env(limits=Limits(LIMIT, None, 4, None, None))
    env.router.post("/videos").respond(200, json=video_json("video_ok"))
    await env.jobs.start(env.request(), Poster())
    poster = Poster()
    with pytest.raises(LimitReached) as refused:
        await env.jobs.start(env.request(), poster)
    assert "you have 0 s left of your 4 s for today" in str(describe(refused.value))
    assert poster.calls == ["begin", "abort"]
    assert len(env.calls("POST", "/videos")) == 1
    assert await env.videos.waiting_rows() == []
    assert await slots_held(env) == 1


# -- write-ahead, refusals and lost answers --------------------------------------------------


async def test_an_accepted_job_is_confirmed_tracked_and_posted(env: Env) -> None:
    env.router.post("/videos").respond(200, json=video_json("video_ok"))
    poster = Poster()
    row = await env.jobs.start(env.request(), poster)
    assert row.id == "video_ok"
    assert row.submitting_since is None
    assert row.cost == pytest.approx(0.4)
    assert poster.calls == ["begin"]
    # Held until the tracker says it ended (then settled at the seconds it reports).
    assert await env.states(row.key) == ["reserved"]
    assert env.tracker.tracked == {"video_ok"}
    assert [(posted.id, lineage) for posted, lineage in env.delivery.posted] == [("video_ok", None)]
    stored = await env.videos.get("video_ok")
    assert stored is not None
    assert stored.key == row.key


async def test_the_row_is_written_before_the_billable_call(env: Env) -> None:
    seen: list[list[VideoRow]] = []
    reserved: list[list[str]] = []

    async def create(request: httpx.Request) -> httpx.Response:
        rows = await env.videos.submitting()
        seen.append(rows)
        reserved.extend([await env.states(row.key) for row in rows])
        return httpx.Response(200, json=video_json("video_ok"))

    env.router.post("/videos").mock(side_effect=create)
    await env.jobs.start(env.request(), Poster())
    assert len(seen) == 1
    assert len(seen[0]) == 1
    assert seen[0][0].id.startswith(PLACEHOLDER_PREFIX)
    # The reservation was written with the row, before the call.
    assert reserved == [["reserved"]]
    assert await env.videos.submitting() == []


@pytest.mark.parametrize(
    ("status", "error_class"), [(400, BadRequestError), (422, UnprocessableEntityError)]
)
async def test_a_refused_call_abandons_the_row_aborts_the_card_and_releases(
    env: Env, status: int, error_class: type[VideoAPIError]
) -> None:
    error = {"error": {"message": "prompt rejected", "type": "invalid_request_error"}}
    env.router.post("/videos").respond(status, json=error)
    poster = Poster()
    with pytest.raises(error_class, match="rejected"):
        await env.jobs.start(env.request(), poster)
    assert poster.calls == ["begin", "abort"]
    assert await env.videos.submitting() == []
    assert await slots_held(env) == 0
    assert await env.videos.list_visible(OWNER, GUILD) == []
    assert env.delivery.posted == []
    assert await env.ledger.open_entries() == []
    assert await env.held() == 0


class Boom(Exception):
    """A bug: an exception nobody expected."""


async def bomb_loader(size: str) -> Upload:
    """The /video command's loader, given a PNG whose text chunk inflates to 50 MiB."""
    return Upload("reference.png", "image/png", fit_reference(ztxt_bomb(), size))


async def broken_loader(size: str) -> Upload:
    raise Boom("a bug while reading the image")


async def failing_create(request: httpx.Request) -> httpx.Response:
    raise Boom("a bug while the call is out")


@pytest.mark.parametrize(
    ("loader", "create", "error"),
    [
        pytest.param(bomb_loader, None, UserError, id="ztxt-bomb"),
        pytest.param(broken_loader, None, Boom, id="before-the-call"),
        pytest.param(None, failing_create, Boom, id="during-the-call"),
    ],
)
async def test_an_exception_before_the_create_is_confirmed_strands_nothing(
    env: Env,
    loader: Callable[[str], Any] | None,
    create: Callable[[httpx.Request], Any] | None,
    error: type[Exception],
) -> None:
    route = env.router.post("/videos")
    if create is not None:
        route.mock(side_effect=create)
    request = env.jobs.created(
        "a red kite",
        model=None,
        size=None,
        seconds=None,
        owner_id=OWNER,
        guild_id=GUILD,
        channel_id=CHANNEL,
        image=loader,
    )
    poster = Poster()
    with pytest.raises(error):
        await env.jobs.start(request, poster)
    # The "thinking" answer is taken back (the error handler answers instead), and nothing
    # is kept or held: no row, no reservation, no slot.
    assert poster.calls == ["begin", "abort"]
    assert await env.videos.submitting() == []
    assert await env.videos.list_visible(OWNER, GUILD) == []
    assert await env.ledger.open_entries() == []
    assert await env.held() == 0
    assert await slots_held(env) == 0
    # Both of the owner's slots are free: the next jobs start at once, not in line.
    answers = [httpx.Response(200, json=video_json(f"video_next_{n}")) for n in range(LIMIT)]
    route.mock(side_effect=answers)
    rows = [await env.jobs.start(env.request(), Poster()) for _ in range(LIMIT)]
    assert [row.id for row in rows] == [f"video_next_{n}" for n in range(LIMIT)]


async def test_a_bug_while_admitting_takes_the_answer_back(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: object) -> None:
        raise Boom("a bug in the transaction")

    monkeypatch.setattr(env.ledger, "admit", broken)
    poster = Poster()
    with pytest.raises(Boom):
        await env.jobs.start(env.request(), poster)
    assert poster.calls == ["begin", "abort"]
    assert env.router.calls.call_count == 0


async def test_a_waiting_job_whose_start_hits_a_bug_ends_failed_with_an_error_id(
    env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    await running(env, LIMIT, tracked=False)
    waiting = await env.jobs.start(env.request(), Poster())
    env.router.post("/videos").mock(side_effect=failing_create)
    events: asyncio.Queue[JobEvent] = asyncio.Queue()
    env.jobs.watch(events)
    try:
        await finish_one_running(env, events)
        row = await refreshed(env)
    finally:
        await env.jobs.stop()
    assert (row.key, row.status, row.error_code) == (waiting.key, "failed", NOT_STARTED)
    assert row.error_message is not None
    error_id = re.fullmatch(
        r"Something went wrong on my side\. .* error `(\w+)`\.", row.error_message
    )
    assert error_id is not None
    assert f"error {error_id[1]} in starting {row.ref}" in caplog.text
    assert await env.states(row.key) == ["released"]
    assert await env.held() == 0


async def test_a_retry_hitting_a_bug_releases_and_may_be_tried_again(env: Env) -> None:
    row = await unconfirmed(env)
    env.router.post("/videos").mock(side_effect=failing_create)
    with pytest.raises(Boom):
        await env.jobs.retry(row, OWNER, CHANNEL, Poster())
    stored = await env.videos.get_by_key(row.key)
    assert stored is not None
    assert stored.error_code == NOT_CONFIRMED
    assert await env.ledger.open_entries() == []
    env.router.post("/videos").mock(side_effect=None).respond(200, json=video_json("video_later"))
    assert (await env.jobs.retry(stored, OWNER, CHANNEL, Poster())).id == "video_later"


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(httpx.Response(500, json={"error": {"message": "boom"}}), id="500"),
        pytest.param(httpx.ReadTimeout("no answer"), id="timeout"),
    ],
)
async def test_a_lost_answer_whose_job_exists_is_confirmed_and_tracked(
    env: Env, answer: httpx.Response | Exception
) -> None:
    env.router.post("/videos").mock(side_effect=[answer])
    env.router.get("/videos").respond(
        200,
        json=page(
            video_json("video_other_prompt", prompt="something else"),
            video_json("video_found"),
        ),
    )
    poster = Poster()
    row = await env.jobs.start(env.request(), poster)
    assert row.id == "video_found"
    assert row.error_code is None
    assert env.tracker.tracked == {"video_found"}
    assert await env.states(row.key) == ["reserved"]
    assert poster.calls == ["begin"]
    assert [posted.id for posted, _ in env.delivery.posted] == ["video_found"]
    # Reconciled, not sent again: a second POST could bill a second job.
    assert len(env.calls("POST", "/videos")) == 1
    listing = env.calls("GET", "/videos")
    assert len(listing) == 1
    assert listing[0].url.params["order"] == "desc"


@pytest.mark.parametrize(
    ("post", "listed"),
    [
        pytest.param(httpx.Response(503), page(), id="503-empty-list"),
        pytest.param(httpx.ConnectError("reset"), page(video_json(prompt="other")), id="conn"),
        pytest.param(httpx.ReadTimeout("slow"), page(video_json(created_at=1)), id="too-old"),
    ],
)
async def test_a_lost_answer_with_no_job_ends_unconfirmed_with_the_retry_card(
    env: Env, post: httpx.Response | Exception, listed: dict[str, Any]
) -> None:
    # A connection that fails before the request leaves is tried three times by the client.
    tries = 3 if isinstance(post, httpx.ConnectError) else 1
    env.router.post("/videos").mock(side_effect=[post] * 2 * tries)
    env.router.get("/videos").respond(200, json=listed)
    poster = Poster()
    row = await env.jobs.start(env.request(), poster)
    # The list proved nothing was made, so it was sent once more; that answer was lost too,
    # and a third is never sent by itself.
    assert len(env.calls("POST", "/videos")) == 2 * tries
    assert steps(row.handoff) == (Step(DEFAULT_PROVIDER, AGAIN),)
    assert (row.status, row.error_code, row.error_message) == (
        "failed",
        NOT_CONFIRMED,
        NOT_CONFIRMED_TEXT,
    )
    assert row.submitting_since is None
    assert not row.at_provider
    assert env.tracker.tracked == frozenset()
    # Nothing was made that anyone knows of: nothing is owed.
    assert await env.states(row.key) == ["released"]
    assert [posted.key for posted, _ in env.delivery.posted] == [row.key]
    buttons = result_buttons(row, frozenset())
    assert [item.custom_id for item in buttons] == [f"videobot:v2:retry:{row.key}"]


async def test_failover_recreates_once_at_the_same_provider_when_its_list_proves_nothing_made(
    env: Env,
) -> None:
    env.router.post("/videos").mock(
        side_effect=[httpx.Response(500), httpx.Response(200, json=video_json("video_again"))]
    )
    env.router.get("/videos").respond(200, json=page(video_json("video_old", created_at=1)))
    poster = Poster()
    row = await env.jobs.start(env.request(), poster)
    assert (row.id, row.status) == ("video_again", "queued")
    # Looked at twice before sending again: a provider lists a job a moment after taking it.
    assert len(env.calls("GET", "/videos")) == 2
    assert len(env.calls("POST", "/videos")) == 2
    # The same row and the same reservation: one job, one charge.
    assert await env.states(row.key) == ["reserved"]
    assert len(await env.videos.list_visible(OWNER, GUILD, limit=10)) == 1
    assert env.tracker.tracked == {"video_again"}
    stored = await env.videos.get_by_key(row.key)
    assert stored is not None
    assert steps(stored.handoff) == (Step(DEFAULT_PROVIDER, AGAIN),)
    assert [posted.id for posted, _ in env.delivery.posted] == ["video_again"]
    assert poster.calls == ["begin"]


async def test_failover_recreate_waits_for_the_second_look_which_finds_the_job(env: Env) -> None:
    env.router.post("/videos").mock(side_effect=[httpx.Response(502)])
    env.router.get("/videos").mock(
        side_effect=[
            httpx.Response(200, json=page()),
            httpx.Response(200, json=page(video_json("video_late"))),
        ]
    )
    row = await env.jobs.start(env.request(), Poster())
    assert row.id == "video_late"
    assert row.handoff is None
    assert len(env.calls("POST", "/videos")) == 1


@pytest.mark.parametrize(
    "listing",
    [
        pytest.param(httpx.Response(500), id="list-fails"),
        pytest.param(httpx.Response(404, text="404: Not Found"), id="no-list"),
        pytest.param(
            # The newest 100 are all newer than the call: the job may be further down.
            httpx.Response(
                200, json=page(video_json("video_newer", prompt="other")) | {"has_more": True}
            ),
            id="cut-short",
        ),
    ],
)
async def test_no_failover_recreate_without_proof_from_the_list(
    env: Env, listing: httpx.Response
) -> None:
    env.router.post("/videos").mock(side_effect=[httpx.Response(500), httpx.Response(500)])
    env.router.get("/videos").mock(return_value=listing)
    row = await env.jobs.start(env.request(), Poster())
    assert (row.status, row.error_code) == ("failed", NOT_CONFIRMED)
    assert row.handoff is None
    # Never sent again without proof: the card's Retry is the member's to press.
    assert len(env.calls("POST", "/videos")) == 1
    assert await env.states(row.key) == ["released"]


async def test_failover_recreate_refused_abandons_the_row_and_releases(env: Env) -> None:
    env.router.post("/videos").mock(
        side_effect=[httpx.Response(500), httpx.Response(400, json={"error": {"message": "no"}})]
    )
    env.router.get("/videos").respond(200, json=page())
    poster = Poster()
    with pytest.raises(BadRequestError):
        await env.jobs.start(env.request(), poster)
    assert poster.calls == ["begin", "abort"]
    assert await env.videos.list_visible(OWNER, GUILD, limit=10) == []
    assert await env.held() == 0


async def test_failover_recreates_a_waiting_job_once_too(env: Env) -> None:
    await running(env, LIMIT, tracked=False)
    waiting = await env.jobs.start(env.request(), Poster())
    assert waiting.waiting
    env.router.post("/videos").mock(
        side_effect=[httpx.ReadTimeout("slow"), httpx.Response(200, json=video_json("video_w"))]
    )
    env.router.get("/videos").respond(200, json=page())
    events: asyncio.Queue[JobEvent] = asyncio.Queue()
    env.jobs.watch(events)
    try:
        await finish_one_running(env, events)
        row = await refreshed(env)
    finally:
        await env.jobs.stop()
    assert (row.key, row.id, steps(row.handoff)) == (
        waiting.key,
        "video_w",
        (Step(DEFAULT_PROVIDER, AGAIN),),
    )
    assert len(env.calls("POST", "/videos")) == 2
    assert await env.states(row.key) == ["reserved"]


async def test_a_lost_answer_whose_lookup_hits_a_bug_ends_unconfirmed(
    env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    env.router.post("/videos").mock(side_effect=[httpx.Response(500)])
    env.router.get("/videos").mock(side_effect=failing_create)
    row = await env.jobs.start(env.request(), Poster())
    # As when the list cannot be read: the card says so and offers Retry; nothing is held.
    assert (row.status, row.error_code) == ("failed", NOT_CONFIRMED)
    assert await env.states(row.key) == ["released"]
    assert await env.videos.submitting() == []
    assert f"looking for {row.ref} at the provider failed" in caplog.text


# -- Retry -----------------------------------------------------------------------------------


async def unconfirmed(env: Env, *, owner: int = OWNER, image: bool = False) -> VideoRow:
    """A job whose create got a 500 and which the provider's list cannot show (it fails)."""
    env.router.post("/videos").mock(side_effect=[httpx.Response(500)])
    env.router.get("/videos").respond(500)

    async def loader(size: str) -> Upload:
        return Upload("ref.png", "image/png", b"\x89PNG")

    request = env.jobs.created(
        "a red kite",
        model=None,
        size=None,
        seconds=None,
        owner_id=owner,
        guild_id=GUILD,
        channel_id=CHANNEL,
        image=loader if image else None,
    )
    row = await env.jobs.start(request, Poster())
    assert row.error_code == NOT_CONFIRMED
    return row


async def test_retry_starts_a_new_job_once(env: Env) -> None:
    row = await unconfirmed(env)
    env.router.post("/videos").mock(side_effect=None).respond(200, json=video_json("video_again"))
    again = await env.jobs.retry(row, OWNER, 777, Poster())
    assert again.id == "video_again"
    assert again.key != row.key
    assert again.channel_id == 777
    # The new job has its own reservation; the lost one's stays released.
    assert await env.states(again.key) == ["reserved"]
    assert await env.states(row.key) == ["released"]
    assert (again.prompt, again.model, again.size, again.seconds) == (
        row.prompt,
        row.model,
        row.size,
        row.seconds,
    )
    body = json.loads(env.calls("POST", "/videos")[-1].content)
    assert body["prompt"] == "a red kite"
    # The same card clicked again, by the same user: not a third job.
    with pytest.raises(UserError, match="retried already"):
        await env.jobs.retry(row, OWNER, 777, Poster())
    stored = await env.videos.get_by_key(row.key)
    assert stored is not None
    assert stored.error_code == "retried"
    with pytest.raises(UserError, match="retried already, or never needed it"):
        await env.jobs.retry(stored, OWNER, 777, Poster())
    assert len(env.calls("POST", "/videos")) == 2


async def test_only_the_owner_may_retry(env: Env) -> None:
    row = await unconfirmed(env)
    with pytest.raises(UserError, match="Only whoever asked"):
        await env.jobs.retry(row, OTHER, CHANNEL, Poster())
    assert len(env.calls("POST", "/videos")) == 1


async def test_a_job_made_from_an_image_is_not_retried(env: Env) -> None:
    row = await unconfirmed(env, image=True)
    assert row.with_image
    with pytest.raises(UserError, match="made from an image"):
        await env.jobs.retry(row, OWNER, CHANNEL, Poster())
    assert len(env.calls("POST", "/videos")) == 1


async def test_a_retry_that_fails_to_start_may_be_tried_again(env: Env) -> None:
    row = await unconfirmed(env)
    error = {"error": {"message": "billing hard limit", "type": "invalid_request_error"}}
    env.router.post("/videos").mock(side_effect=None).respond(400, json=error)
    with pytest.raises(BadRequestError):
        await env.jobs.retry(row, OWNER, CHANNEL, Poster())
    stored = await env.videos.get_by_key(row.key)
    assert stored is not None
    assert stored.error_code == NOT_CONFIRMED
    env.router.post("/videos").respond(200, json=video_json("video_later"))
    assert (await env.jobs.retry(stored, OWNER, CHANNEL, Poster())).id == "video_later"


async def test_a_retry_over_a_spending_limit_may_be_tried_again(make_env: MakeEnv) -> None:
    env = make_env(limits=Limits(LIMIT, None, 4, None, None))
    row = await unconfirmed(env)
    # The lost job's seconds were given back, and another job took them.
    env.router.post("/videos").mock(side_effect=None).respond(200, json=video_json("video_ok"))
    await env.jobs.start(env.request(), Poster())
    with pytest.raises(LimitReached):
        await env.jobs.retry(row, OWNER, CHANNEL, Poster())
    stored = await env.videos.get_by_key(row.key)
    assert stored is not None
    assert stored.error_code == NOT_CONFIRMED
    assert len(env.calls("POST", "/videos")) == 2


async def derived_unconfirmed(env: Env, parent: VideoRow) -> VideoRow:
    env.router.post("/videos/extensions").mock(side_effect=[httpx.Response(502)])
    env.router.get("/videos").respond(500)
    request = env.jobs.derived(
        "extend",
        parent,
        "and then it rains",
        owner_id=OWNER,
        guild_id=GUILD,
        channel_id=CHANNEL,
        seconds="8",
    )
    row = await env.jobs.start(request, Poster())
    assert row.error_code == NOT_CONFIRMED
    return row


async def test_a_retried_extension_sends_what_was_added_not_the_total(env: Env) -> None:
    parent = await env.completed("video_parent")
    row = await derived_unconfirmed(env, parent)
    assert row.seconds == "12"
    env.router.post("/videos/extensions").mock(side_effect=None).respond(
        200, json=video_json("video_ext", seconds="12")
    )
    again = await env.jobs.retry(row, OWNER, CHANNEL, Poster())
    assert again.id == "video_ext"
    assert again.parent_id == "video_parent"
    body = json.loads(env.calls("POST", "/videos/extensions")[-1].content)
    assert body["seconds"] == "8"
    assert body["video"] == {"id": "video_parent"}
    assert [lineage for _, lineage in env.delivery.posted][-1] == Lineage.of(parent)


async def test_a_derived_job_whose_parent_is_gone_is_not_retried(env: Env) -> None:
    parent = await env.completed("video_parent")
    row = await derived_unconfirmed(env, parent)
    await env.videos.mark_deleted(parent.id)
    with pytest.raises(UserError, match="it was made from is gone"):
        await env.jobs.retry(row, OWNER, CHANNEL, Poster())
    # Refused before the claim: the button still works once there is something to build on.
    stored = await env.videos.get_by_key(row.key)
    assert stored is not None
    assert stored.error_code == NOT_CONFIRMED
    assert len(env.calls("POST", "/videos/extensions")) == 1


# -- recovery on start -----------------------------------------------------------------------


async def submitting(env: Env, prompt: str) -> VideoRow:
    """A job whose call was out when the bot stopped: its row and its reservation."""
    row = (await env.ledger.admit(env.request(prompt).new_job(), OPEN)).row
    assert row is not None
    assert row.submitting_since is not None
    return row


async def test_recover_confirms_what_the_provider_has_and_fails_the_rest(env: Env) -> None:
    found = await submitting(env, "a red kite")
    twin = await submitting(env, "a red kite")
    missing = await submitting(env, "a blue whale")
    env.router.get("/videos").respond(200, json=page(video_json("video_kite")))
    await env.jobs.recover()
    assert await env.videos.submitting() == []
    rows = {key: await env.videos.get_by_key(key) for key in (found.key, twin.key, missing.key)}
    kite = rows[found.key]
    assert kite is not None
    assert (kite.id, kite.status) == ("video_kite", "queued")
    # One provider video is one job: the twin with the same prompt does not claim it too.
    for key in (twin.key, missing.key):
        row = rows[key]
        assert row is not None
        assert (row.status, row.error_code, row.at_provider) == ("failed", NOT_CONFIRMED, False)
        assert await env.states(key) == ["released"]
    # The found job goes on, holding what it reserved.
    assert await env.states(found.key) == ["reserved"]
    # Each row looks in the provider's list; nothing is sent again.
    assert len(env.calls("GET", "/videos")) == env.router.calls.call_count == 3


async def test_recover_without_a_list_fails_every_submitting_row(make_env: MakeEnv) -> None:
    env = make_env(ProviderProfile(missing=frozenset({Operation.LIST})))
    row = await submitting(env, "a red kite")
    await env.jobs.recover()
    stored = await env.videos.get_by_key(row.key)
    assert stored is not None
    assert stored.error_code == NOT_CONFIRMED
    assert await env.states(row.key) == ["released"]
    assert env.router.calls.call_count == 0


# -- delete ----------------------------------------------------------------------------------


async def test_delete_asks_the_provider_hides_the_row_and_tombstones_the_card(env: Env) -> None:
    row = await env.completed("video_done")
    env.router.delete("/videos/video_done").respond(
        200, json={"id": "video_done", "object": "video.deleted", "deleted": True}
    )
    await env.jobs.delete(row, OTHER)
    assert len(env.calls("DELETE", "/videos/video_done")) == 1
    stored = await env.videos.get("video_done")
    assert stored is not None
    assert stored.deleted_at is not None
    assert env.delivery.tombstones == [(row.key, OTHER)]


async def test_a_video_gone_at_the_provider_is_deleted_all_the_same(env: Env) -> None:
    row = await env.completed("video_done")
    error = {"error": {"message": "No video found", "type": "invalid_request_error"}}
    env.router.delete("/videos/video_done").respond(404, json=error)
    await env.jobs.delete(row, OWNER)
    stored = await env.videos.get("video_done")
    assert stored is not None
    assert stored.deleted_at is not None
    assert env.delivery.tombstones == [(row.key, OWNER)]


async def test_a_placeholder_id_never_reaches_the_api(env: Env) -> None:
    row = await unconfirmed(env)
    assert row.id.startswith(PLACEHOLDER_PREFIX)
    deleting = env.router.delete(url__regex=r".*").respond(500)
    await env.jobs.delete(row, OWNER)
    assert not deleting.called
    stored = await env.videos.get_by_key(row.key)
    assert stored is not None
    assert stored.deleted_at is not None
    assert env.delivery.tombstones == [(row.key, OWNER)]


async def test_a_provider_without_delete_says_so_and_the_row_stays(env: Env) -> None:
    row = await env.completed("video_done")
    env.router.delete("/videos/video_done").respond(405, text="Method Not Allowed")
    with pytest.raises(UnsupportedOperationError):
        await env.jobs.delete(row, OWNER)
    stored = await env.videos.get("video_done")
    assert stored is not None
    assert stored.deleted_at is None
    assert env.delivery.tombstones == []
    # Known from now on: refused without asking again.
    with pytest.raises(UnsupportedOperationError):
        await env.jobs.delete(row, OWNER)
    assert len(env.calls("DELETE", "/videos/video_done")) == 1


async def test_an_unfinished_video_is_not_deleted(env: Env) -> None:
    await running(env, 1, tracked=False)
    row = await env.videos.get("video_running_0")
    assert row is not None
    with pytest.raises(VideoNotReady):
        await env.jobs.delete(row, OWNER)
    assert env.router.calls.call_count == 0


# -- requests: validation and pricing ---------------------------------------------------------


def test_created_fills_in_the_defaults_and_prices_the_job(env: Env) -> None:
    request = env.jobs.created(
        "  a red kite  ",
        model=None,
        size=None,
        seconds=None,
        owner_id=OWNER,
        guild_id=None,
        channel_id=CHANNEL,
    )
    assert (request.kind, request.prompt, request.parent) == ("create", "a red kite", None)
    assert (request.model, request.size, request.seconds) == ("sora-2", "720x1280", "4")
    assert request.cost == pytest.approx(0.4)
    assert (request.ask, request.micros_per_second) == (Ask(4, 400_000), 100_000)
    assert (request.guild_id, request.with_image) == (None, False)


def test_created_prices_by_model_and_seconds(env: Env) -> None:
    request = env.jobs.created(
        "a red kite",
        model="sora-2-pro",
        size="1792x1024",
        seconds="12",
        owner_id=OWNER,
        guild_id=GUILD,
        channel_id=CHANNEL,
    )
    assert request.cost == pytest.approx(3.6)
    assert request.ask == Ask(12, 3_600_000)


@pytest.mark.parametrize(
    ("changes", "param"),
    [
        ({"prompt": "   "}, "prompt"),
        ({"model": "sora-9"}, "model"),
        ({"size": "640x480"}, "size"),
        ({"seconds": "5"}, "seconds"),
    ],
)
def test_created_refuses_what_the_provider_does_not_take(
    env: Env, changes: dict[str, str], param: str
) -> None:
    asked: dict[str, Any] = {"prompt": "a red kite", "model": None, "size": None, "seconds": None}
    asked |= changes
    prompt = asked.pop("prompt")
    with pytest.raises(InvalidParameterError) as caught:
        env.jobs.created(prompt, owner_id=OWNER, guild_id=GUILD, channel_id=CHANNEL, **asked)
    assert caught.value.param == param


def test_created_is_refused_when_the_provider_cannot_create(make_env: MakeEnv) -> None:
    env = make_env(ProviderProfile(missing=frozenset({Operation.CREATE})))
    with pytest.raises(UnsupportedOperationError):
        env.request()


async def test_the_image_is_read_at_the_chosen_size_when_the_call_goes_out(env: Env) -> None:
    sizes: list[str] = []

    async def loader(size: str) -> Upload:
        sizes.append(size)
        return Upload("ref.png", "image/png", b"\x89PNG")

    request = env.jobs.created(
        "a red kite",
        model=None,
        size="1280x720",
        seconds=None,
        owner_id=OWNER,
        guild_id=GUILD,
        channel_id=CHANNEL,
        image=loader,
    )
    assert request.with_image
    assert sizes == []
    env.router.post("/videos").respond(200, json=video_json("video_img", size="1280x720"))
    row = await env.jobs.start(request, Poster())
    assert sizes == ["1280x720"]
    assert row.with_image
    sent = env.calls("POST", "/videos")[0]
    assert sent.headers["content-type"].startswith("multipart/form-data")


def extension(env: Env, parent: VideoRow, seconds: str, owner_id: int = OWNER) -> JobRequest:
    """An extension of `parent` by `seconds`, asked in OWNER's guild."""
    return env.jobs.derived(
        "extend",
        parent,
        "and then",
        owner_id=owner_id,
        guild_id=GUILD,
        channel_id=CHANNEL,
        seconds=seconds,
    )


async def test_extend_stores_the_stitched_seconds_and_prices_what_is_added(env: Env) -> None:
    parent = await env.completed("video_parent", seconds="8")
    request = extension(env, parent, "12", owner_id=OTHER)
    assert (request.kind, request.parent, request.seconds) == ("extend", parent, "20")
    # Only the added seconds are generated, so only they are reserved and priced.
    assert request.ask == Ask(12, 1_200_000)
    assert request.cost == pytest.approx(1.2)
    assert (request.model, request.size) == (parent.model, parent.size)


async def test_extend_of_a_parent_with_odd_seconds_stores_what_is_added(env: Env) -> None:
    parent = await env.completed("video_parent", seconds="8.5")
    request = extension(env, parent, "4")
    assert request.seconds == "4"
    assert request.ask == Ask(4, 400_000)


async def test_a_completed_extension_is_settled_at_what_it_added(env: Env) -> None:
    parent = await env.completed("video_parent", seconds="8")
    request = extension(env, parent, "4")
    # The provider reports the stitched total.
    env.router.post("/videos/extensions").respond(200, json=video_json("video_ext", seconds="12"))
    row = await env.jobs.start(request, Poster())
    assert row.seconds == "12"
    done = video_json("video_ext", status="completed", progress=100, seconds="12")
    await env.videos.apply_refresh(Video.model_validate(done))
    await env.jobs.reconcile_ledger()
    [entry] = await env.ledger.entries_for(row.key)
    assert (entry.state, entry.seconds, entry.micros) == ("settled", 4, 400_000)


async def test_extend_refuses_seconds_the_provider_does_not_add(env: Env) -> None:
    parent = await env.completed("video_parent")
    with pytest.raises(InvalidParameterError):
        extension(env, parent, "7")


@pytest.mark.parametrize(
    ("kind", "path"), [("remix", "/videos/video_parent/remix"), ("edit", "/videos/edits")]
)
async def test_remix_and_edit_cost_the_parents_length_and_call_their_route(
    env: Env, kind: Any, path: str
) -> None:
    parent = await env.completed("video_parent", seconds="8")
    request = env.jobs.derived(
        kind, parent, "in winter", owner_id=OWNER, guild_id=GUILD, channel_id=CHANNEL
    )
    assert (request.seconds, request.cost) == ("8", pytest.approx(0.8))
    assert request.ask == Ask(8, 800_000)
    env.router.post(path).respond(200, json=video_json(f"video_{kind}", seconds="8"))
    row = await env.jobs.start(request, Poster())
    assert (row.id, row.kind, row.parent_id) == (f"video_{kind}", kind, "video_parent")
    assert json.loads(env.calls("POST", path)[0].content)["prompt"] == "in winter"
    assert env.delivery.posted[-1][1] == Lineage.of(parent)


async def test_a_failed_parent_cannot_be_built_on(env: Env) -> None:
    parent = await env.completed("video_parent", status="failed", completed_at=None)
    with pytest.raises(VideoNotReady, match="failed"):
        await env.jobs.parent(parent.ref, OWNER, GUILD, Operation.REMIX)


async def test_an_unsupported_parent_operation_is_refused(make_env: MakeEnv) -> None:
    env = make_env(ProviderProfile(missing=frozenset({Operation.REMIX})))
    parent = await env.completed("video_parent")
    with pytest.raises(UnsupportedOperationError):
        await env.jobs.parent(parent.ref, OWNER, GUILD, Operation.REMIX)
    assert (await env.jobs.parent(parent.ref, OWNER, GUILD, Operation.EXTEND)).id == parent.id


async def test_a_job_whose_provider_reports_its_cost_settles_at_it_openrouter(env: Env) -> None:
    request = env.jobs.created(
        "a red kite",
        model=None,
        size=None,
        seconds="8",
        owner_id=OWNER,
        guild_id=GUILD,
        channel_id=CHANNEL,
    )
    env.router.post("/videos").respond(200, json=video_json("video_costed", seconds="8"))
    row = await env.jobs.start(request, Poster())
    # OpenRouter's usage.cost: what the job really cost, not seconds x price ($0.80 here).
    done = video_json("video_costed", status="completed", progress=100, seconds="8")
    await env.videos.apply_refresh(Video.model_validate(done).with_cost(0.4372))
    await env.jobs.reconcile_ledger()
    [entry] = await env.ledger.entries_for(row.key)
    assert (entry.state, entry.seconds, entry.micros) == ("settled", 8, 437_200)
    settled = await env.videos.get_by_key(row.key)
    assert settled is not None
    assert settled.cost == pytest.approx(0.4372)
