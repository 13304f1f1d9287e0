"""Jobs: the per-user limit, write-ahead rows, lost answers reconciled, Retry, recovery, delete.

The provider is a respx router behind a real VideoClient, the database a real SQLite file, the
tracker the real one (never started: only its counts and `track` are used); Discord is replaced
by a poster and a delivery that record what they were asked to do.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from pydantic import SecretStr

from bot.errors import TooManyJobs, UserError, VideoNotReady
from bot.jobs import NOT_CONFIRMED_TEXT, JobRequest, Jobs
from bot.storage import Database, VideoRepository, VideoRow
from bot.storage.videos import NOT_CONFIRMED, PLACEHOLDER_PREFIX
from bot.tracker import Tracker
from bot.ui.buttons import result_view
from bot.ui.card import Lineage
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
from bot.videoapi.retry import Backoff

BASE_URL = "https://videos.test/v1"
NOW = 1_800_000_000.0
OWNER = 11
OTHER = 22
GUILD = 33
CHANNEL = 44
LIMIT = 2


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
        self.tombstones: list[tuple[int, int]] = []

    async def post_first(self, row: VideoRow, poster: Poster, lineage: Lineage | None) -> VideoRow:
        self.posted.append((row, lineage))
        return row

    async def tombstone(self, row: VideoRow, actor_id: int) -> None:
        self.tombstones.append((row.key, actor_id))


class Env:
    def __init__(
        self,
        router: respx.Router,
        api: VideoClient,
        videos: VideoRepository,
        tracker: Tracker,
        delivery: RecordingDelivery,
        jobs: Jobs,
    ) -> None:
        self.router = router
        self.api = api
        self.videos = videos
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


MakeEnv = Callable[..., Env]


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    async with await Database.open(tmp_path / "videobot.sqlite3") as db:
        yield db


@pytest.fixture
async def make_env(database: Database) -> AsyncIterator[MakeEnv]:
    clients: list[VideoClient] = []

    def make(profile: ProviderProfile | None = None) -> Env:
        router = respx.Router(base_url=BASE_URL, assert_all_called=False)
        api = VideoClient(
            BASE_URL,
            SecretStr("sk-test"),
            profile=profile,
            backoff=Backoff(sleep=no_sleep),
            transport=httpx.MockTransport(router.async_handler),
        )
        clients.append(api)
        videos = VideoRepository(database, clock=lambda: NOW)
        tracker = Tracker(api, videos, clock=lambda: NOW)
        delivery = RecordingDelivery()
        jobs = Jobs(
            api,
            videos,
            tracker,
            delivery,  # type: ignore[arg-type]
            max_per_user=LIMIT,
            reconcile_wait=0.0,
        )
        return Env(router, api, videos, tracker, delivery, jobs)

    yield make
    for client in clients:
        await client.aclose()


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


# -- the limit -------------------------------------------------------------------------------


async def test_the_trackers_count_refuses_before_anything_is_answered_or_sent(env: Env) -> None:
    await running(env, LIMIT, tracked=True)
    poster = Poster()
    with pytest.raises(TooManyJobs, match=r"already have 2 videos in progress \(the limit is 2\)"):
        await env.jobs.start(env.request(), poster)
    assert poster.calls == []
    assert env.router.calls.call_count == 0


async def test_the_databases_count_decides_under_the_lock(env: Env) -> None:
    # Jobs just written are not tracked yet: only the database knows them.
    await running(env, LIMIT, tracked=False)
    assert env.tracker.unfinished_for(OWNER) == 0
    poster = Poster()
    with pytest.raises(TooManyJobs):
        await env.jobs.start(env.request(), poster)
    assert poster.calls == ["begin", "abort"]
    assert env.router.calls.call_count == 0
    assert await env.videos.count_unfinished_for_owner(OWNER) == LIMIT


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
    results = await asyncio.gather(*starts, return_exceptions=True)
    started = [r for r in results if isinstance(r, VideoRow)]
    refused = [r for r in results if isinstance(r, TooManyJobs)]
    assert (len(started), len(refused)) == (LIMIT, 5 - LIMIT)
    assert len(env.calls("POST", "/videos")) == LIMIT


async def test_the_limit_is_per_owner(env: Env) -> None:
    await running(env, LIMIT, tracked=True)
    env.router.post("/videos").respond(200, json=video_json("video_other"))
    row = await env.jobs.start(env.request(owner=OTHER), Poster())
    assert row.owner_id == OTHER


# -- write-ahead, refusals and lost answers --------------------------------------------------


async def test_an_accepted_job_is_confirmed_tracked_and_posted(env: Env) -> None:
    env.router.post("/videos").respond(200, json=video_json("video_ok"))
    poster = Poster()
    row = await env.jobs.start(env.request(), poster)
    assert row.id == "video_ok"
    assert row.submitting_since is None
    assert row.cost == pytest.approx(0.4)
    assert poster.calls == ["begin"]
    assert env.tracker.tracked == {"video_ok"}
    assert [(posted.id, lineage) for posted, lineage in env.delivery.posted] == [("video_ok", None)]
    stored = await env.videos.get("video_ok")
    assert stored is not None
    assert stored.key == row.key


async def test_the_row_is_written_before_the_billable_call(env: Env) -> None:
    seen: list[list[VideoRow]] = []

    async def create(request: httpx.Request) -> httpx.Response:
        seen.append(await env.videos.submitting())
        return httpx.Response(200, json=video_json("video_ok"))

    env.router.post("/videos").mock(side_effect=create)
    await env.jobs.start(env.request(), Poster())
    assert len(seen) == 1
    assert len(seen[0]) == 1
    assert seen[0][0].id.startswith(PLACEHOLDER_PREFIX)
    assert await env.videos.submitting() == []


@pytest.mark.parametrize(
    ("status", "error_class"), [(400, BadRequestError), (422, UnprocessableEntityError)]
)
async def test_a_refused_call_abandons_the_row_and_aborts_the_card(
    env: Env, status: int, error_class: type[VideoAPIError]
) -> None:
    error = {"error": {"message": "prompt rejected", "type": "invalid_request_error"}}
    env.router.post("/videos").respond(status, json=error)
    poster = Poster()
    with pytest.raises(error_class, match="rejected"):
        await env.jobs.start(env.request(), poster)
    assert poster.calls == ["begin", "abort"]
    assert await env.videos.submitting() == []
    assert await env.videos.count_unfinished_for_owner(OWNER) == 0
    assert await env.videos.list_visible(OWNER, GUILD) == []
    assert env.delivery.posted == []


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
    env.router.post("/videos").mock(side_effect=[post] * 3)
    env.router.get("/videos").respond(200, json=listed)
    poster = Poster()
    row = await env.jobs.start(env.request(), poster)
    assert (row.status, row.error_code, row.error_message) == (
        "failed",
        NOT_CONFIRMED,
        NOT_CONFIRMED_TEXT,
    )
    assert row.submitting_since is None
    assert not row.at_provider
    assert env.tracker.tracked == frozenset()
    assert [posted.key for posted, _ in env.delivery.posted] == [row.key]
    view = result_view(row, frozenset())
    assert view is not None
    assert [item.custom_id for item in view.children] == [f"videobot:v2:retry:{row.key}"]  # type: ignore[attr-defined]


# -- Retry -----------------------------------------------------------------------------------


async def unconfirmed(env: Env, *, owner: int = OWNER, image: bool = False) -> VideoRow:
    """A job whose create got a 500 and which the provider does not list."""
    env.router.post("/videos").mock(side_effect=[httpx.Response(500)])
    env.router.get("/videos").respond(200, json=page())

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


async def derived_unconfirmed(env: Env, parent: VideoRow) -> VideoRow:
    env.router.post("/videos/extensions").mock(side_effect=[httpx.Response(502)])
    env.router.get("/videos").respond(200, json=page())
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
    return await env.videos.begin_submit(
        owner_id=OWNER,
        guild_id=GUILD,
        channel_id=CHANNEL,
        kind="create",
        prompt=prompt,
        model="sora-2",
        size="720x1280",
        seconds="4",
        cost=0.4,
    )


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
    # Each row looks in the provider's list; nothing is sent again.
    assert len(env.calls("GET", "/videos")) == env.router.calls.call_count == 3


async def test_recover_without_a_list_fails_every_submitting_row(make_env: MakeEnv) -> None:
    env = make_env(ProviderProfile(missing=frozenset({Operation.LIST})))
    row = await submitting(env, "a red kite")
    await env.jobs.recover()
    stored = await env.videos.get_by_key(row.key)
    assert stored is not None
    assert stored.error_code == NOT_CONFIRMED
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


async def test_extend_stores_the_stitched_seconds_and_prices_what_is_added(env: Env) -> None:
    parent = await env.completed("video_parent", seconds="8")
    request = env.jobs.derived(
        "extend",
        parent,
        "and then",
        owner_id=OTHER,
        guild_id=GUILD,
        channel_id=CHANNEL,
        seconds="12",
    )
    assert (request.kind, request.parent, request.seconds) == ("extend", parent, "20")
    assert request.cost == pytest.approx(1.2)
    assert (request.model, request.size) == (parent.model, parent.size)


async def test_extend_of_a_parent_with_odd_seconds_stores_what_is_added(env: Env) -> None:
    parent = await env.completed("video_parent", seconds="8.5")
    request = env.jobs.derived(
        "extend",
        parent,
        "and then",
        owner_id=OWNER,
        guild_id=GUILD,
        channel_id=CHANNEL,
        seconds="4",
    )
    assert request.seconds == "4"


async def test_extend_refuses_seconds_the_provider_does_not_add(env: Env) -> None:
    parent = await env.completed("video_parent")
    with pytest.raises(InvalidParameterError):
        env.jobs.derived(
            "extend",
            parent,
            "and then",
            owner_id=OWNER,
            guild_id=GUILD,
            channel_id=CHANNEL,
            seconds="7",
        )


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
