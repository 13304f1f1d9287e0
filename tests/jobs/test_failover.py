"""Where a refused create may go next: same model, same size and seconds, no dearer than
reserved, not tried yet, healthy providers first."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import httpx
import pytest
import respx
from pydantic import SecretStr

from bot.interactions.tree import explain
from bot.jobs.failover import next_destinations, takes
from bot.jobs.handoff import AGAIN, Step, steps
from bot.jobs.requests import JobRequest
from bot.jobs.service import Jobs
from bot.spending.money import micros
from bot.spending.service import Spending
from bot.storage import Database, GuildRepository, LedgerRepository, VideoRepository
from bot.timing.backoff import Backoff
from bot.tracker.service import Tracker
from bot.videoapi.client import VideoClient
from bot.videoapi.errors import APIStatusError, BadRequestError, InternalServerError
from bot.videoapi.health import Health, HealthTuning
from bot.videoapi.models import Video
from bot.videoapi.profile import ProviderProfile
from bot.videoapi.providers import Providers

from .test_service import (
    CHANNEL,
    GUILD,
    LIMITS,
    NOW,
    OWNER,
    Poster,
    RecordingDelivery,
    database,  # noqa: F401 (a fixture)
    no_sleep,
    page,
    video_json,
)

RESERVED = micros(0.10)


@dataclass(frozen=True)
class Dest:
    provider: str
    model: str
    backend: VideoClient


def profile(price: float) -> ProviderProfile:
    return ProviderProfile(
        models=("veo",),
        sizes=("720x1280",),
        seconds=("4", "8"),
        price_per_second={"veo": price},
    )


Make = Callable[..., Dest]


@pytest.fixture
async def make() -> AsyncIterator[Make]:
    clients: list[VideoClient] = []

    def build(name: str, price: float = 0.10) -> Dest:
        client = VideoClient("http://127.0.0.1:9/v1", None, profile=profile(price))
        clients.append(client)
        return Dest(name, "veo", client)

    yield build
    for client in clients:
        await client.aclose()


def test_failover_takes_the_same_size_seconds_and_no_dearer(make: Make) -> None:
    same = make("same")
    assert takes(same, "720x1280", "4", RESERVED)
    assert not takes(same, "1280x720", "4", RESERVED)
    assert not takes(same, "720x1280", "12", RESERVED)
    assert not takes(make("dear", price=0.11), "720x1280", "4", RESERVED)
    assert takes(make("cheap", price=0.05), "720x1280", "4", RESERVED)


def test_failover_next_keeps_the_operators_order_without_the_tried(make: Make) -> None:
    a, b, c, d = make("a"), make("b"), make("c", price=0.5), make("d")
    chosen = next_destinations(
        [a, b, c, d], {"a"}, size="720x1280", seconds="4", micros_per_second=RESERVED
    )
    assert [dest.provider for dest in chosen] == ["b", "d"]


def test_failover_next_tries_demoted_providers_last(make: Make) -> None:
    clock = [0.0]
    health = Health(HealthTuning(failures=1, share=0.0), clock=lambda: clock[0])
    health.record("b", InternalServerError("down", status=500))
    chosen = next_destinations(
        [make("a"), make("b"), make("c")],
        {"a"},
        size="720x1280",
        seconds="4",
        micros_per_second=RESERVED,
        health=health,
    )
    assert [dest.provider for dest in chosen] == ["c", "b"]


# -- the create path: Jobs moving a refused create on, within its reservation ------------------

PRICES = {"a": 0.10, "b": 0.10, "c": 0.05, "dear": 0.50}


def url(name: str) -> str:
    return f"https://{name}.test/v1"


@dataclass
class Several:
    routers: dict[str, respx.Router]
    providers: Providers
    videos: VideoRepository
    ledger: LedgerRepository
    tracker: Tracker
    delivery: RecordingDelivery
    jobs: Jobs[Poster]
    health: Health

    def posts(self, name: str) -> int:
        return sum(
            1
            for call in self.routers[name].calls
            if call.request.method == "POST" and call.request.url.path == "/v1/videos"
        )

    def request(self, model: str | None = "veo") -> JobRequest:
        return self.jobs.created(
            "a red kite",
            model=model,
            size=None,
            seconds=None,
            owner_id=OWNER,
            guild_id=GUILD,
            channel_id=CHANNEL,
        )


@pytest.fixture
async def several(database: Database) -> AsyncIterator[Several]:  # noqa: F811
    routers, backends = {}, {}
    for name, price in PRICES.items():
        routers[name] = respx.Router(base_url=url(name), assert_all_called=False)
        backends[name] = VideoClient(
            url(name),
            SecretStr(f"sk-{name}"),
            profile=profile(price),
            backoff=Backoff(sleep=no_sleep),
            transport=httpx.MockTransport(routers[name].async_handler),
        )
    providers = Providers(backends)
    videos = VideoRepository(database, clock=lambda: NOW)
    ledger = LedgerRepository(database, videos, clock=lambda: NOW)
    tracker = Tracker(providers, videos, clock=lambda: NOW)
    delivery = RecordingDelivery()
    clock = [0.0]
    health = Health(HealthTuning(failures=1, share=0.0), clock=lambda: clock[0])
    jobs: Jobs[Poster] = Jobs(
        providers,
        videos,
        ledger,
        Spending(GuildRepository(database), LIMITS),
        tracker,
        delivery,
        explain=explain,
        reconcile_wait=0.0,
        clock=lambda: NOW,
        health=health,
    )
    yield Several(routers, providers, videos, ledger, tracker, delivery, jobs, health)
    await providers.aclose()


def refuse(several: Several, name: str, answer: httpx.Response) -> None:
    several.routers[name].post("/videos").mock(return_value=answer)


def accept(several: Several, name: str, video_id: str) -> None:
    several.routers[name].post("/videos").respond(200, json=video_json(video_id, model="veo"))


CREDITS = httpx.Response(402, json={"error": {"message": "Insufficient credits"}})
NOT_ACCEPTED = httpx.Response(
    503, json={"error": {"message": "The job was not accepted: no capacity. Nothing was created."}}
)


async def entries(several: Several, key: int) -> list[str]:
    return [entry.state for entry in await several.ledger.entries_for(key)]


@pytest.mark.parametrize(
    ("refusal", "why"), [(CREDITS, "credits"), (NOT_ACCEPTED, "not_accepted")], ids=["402", "503"]
)
async def test_failover_moves_a_refused_create_to_the_next_provider(
    several: Several, refusal: httpx.Response, why: str
) -> None:
    refuse(several, "a", refusal)
    accept(several, "b", "video_b")
    poster = Poster()
    row = await several.jobs.start(several.request(), poster)
    assert (row.id, row.provider, row.model) == ("video_b", "b", "veo")
    assert steps(row.handoff) == (Step("a", why),)
    # One row, one reservation, one billable create that made something.
    assert await entries(several, row.key) == ["reserved"]
    assert len(await several.videos.list_visible(OWNER, GUILD, limit=10)) == 1
    assert (several.posts("a"), several.posts("b"), several.posts("c")) == (1, 1, 0)
    assert several.tracker.tracked == {"video_b"}
    assert poster.calls == ["begin"]
    assert [posted.id for posted, _ in several.delivery.posted] == ["video_b"]


async def test_no_failover_after_a_lost_answer_the_job_is_found_where_it_was_sent(
    several: Several,
) -> None:
    several.routers["a"].post("/videos").mock(side_effect=[httpx.ReadTimeout("slow")])
    several.routers["a"].get("/videos").respond(200, json=page(video_json("video_a", model="veo")))
    row = await several.jobs.start(several.request(), Poster())
    assert (row.id, row.provider, row.handoff) == ("video_a", "a", None)
    assert (several.posts("a"), several.posts("b"), several.posts("c")) == (1, 0, 0)


async def test_no_failover_after_a_lost_answer_even_when_nothing_was_made(
    several: Several,
) -> None:
    several.routers["a"].post("/videos").mock(
        side_effect=[httpx.Response(500), httpx.Response(200, json=video_json("video_again"))]
    )
    several.routers["a"].get("/videos").respond(200, json=page())
    row = await several.jobs.start(several.request(), Poster())
    # Sent again where it was sent (the list's proof is about that provider alone).
    assert (row.id, row.provider) == ("video_again", "a")
    assert steps(row.handoff) == (Step("a", AGAIN),)
    assert (several.posts("a"), several.posts("b")) == (2, 0)


async def test_failover_after_a_send_again_that_was_refused(several: Several) -> None:
    several.routers["a"].post("/videos").mock(side_effect=[httpx.Response(500), CREDITS])
    several.routers["a"].get("/videos").respond(200, json=page())
    accept(several, "b", "video_b")
    row = await several.jobs.start(several.request(), Poster())
    assert (row.id, row.provider) == ("video_b", "b")
    assert steps(row.handoff) == (Step("a", AGAIN), Step("a", "credits"))
    assert (several.posts("a"), several.posts("b")) == (2, 1)


async def test_failover_refused_everywhere_abandons_and_releases(several: Several) -> None:
    for name in ("a", "b", "c"):
        refuse(several, name, CREDITS)
    poster = Poster()
    with pytest.raises(APIStatusError):
        await several.jobs.start(several.request(), poster)
    assert poster.calls == ["begin", "abort"]
    assert await several.videos.list_visible(OWNER, GUILD, limit=10) == []
    assert (await several.ledger.month(GUILD)).held_micros == 0
    # Each tried once; the dearer one never, for the reservation would not cover it.
    assert [several.posts(name) for name in PRICES] == [1, 1, 1, 0]


async def test_no_failover_for_a_request_any_provider_would_refuse(several: Several) -> None:
    refuse(several, "a", httpx.Response(400, json={"error": {"message": "bad", "param": "size"}}))
    with pytest.raises(BadRequestError):
        await several.jobs.start(several.request(), Poster())
    assert (several.posts("a"), several.posts("b")) == (1, 0)


async def test_no_failover_for_a_derived_job(several: Several) -> None:
    parent = await several.videos.insert(
        Video.model_validate(video_json("video_p", model="veo", status="completed", progress=100)),
        owner_id=OWNER,
        guild_id=GUILD,
        channel_id=CHANNEL,
        kind="create",
        prompt="a red kite",
        model="veo",
        size="720x1280",
        seconds="4",
        provider="a",
    )
    several.routers["a"].post("/videos/video_p/remix").mock(return_value=CREDITS)
    request = several.jobs.derived(
        "remix", parent, "in the rain", owner_id=OWNER, guild_id=GUILD, channel_id=CHANNEL
    )
    with pytest.raises(APIStatusError):
        await several.jobs.start(request, Poster())
    assert sum(len(router.calls) for name, router in several.routers.items() if name != "a") == 0


async def test_failover_tries_healthy_providers_before_demoted_ones(several: Several) -> None:
    several.health.record("b", InternalServerError("down", status=500))
    refuse(several, "a", CREDITS)
    accept(several, "c", "video_c")
    row = await several.jobs.start(several.request(), Poster())
    assert (row.provider, several.posts("b")) == ("c", 0)


async def test_failover_health_sends_a_new_job_past_a_demoted_first_provider(
    several: Several,
) -> None:
    several.health.record("a", InternalServerError("down", status=500))
    accept(several, "b", "video_b")
    request = several.request()
    assert request.provider == "b"
    row = await several.jobs.start(request, Poster())
    assert (row.provider, row.handoff, several.posts("a")) == ("b", None, 0)


async def test_failover_health_leaves_a_model_every_provider_refused_to_the_first(
    several: Several,
) -> None:
    for name in PRICES:
        several.providers.get(name).capabilities.retire("veo")
    several.health.record("a", InternalServerError("down", status=500))
    # Nobody serves it now: the first provider is named, and refuses it saying why.
    assert several.request().provider == "a"


# A safety refusal is about the prompt, not the provider: OpenRouter's moderation 403 (its
# error body's `metadata.reasons`) and the contract's 400 `moderation_blocked`.
FLAGGED = httpx.Response(
    403,
    json={
        "error": {
            "code": 403,
            "message": "veo requires moderation on Google Vertex. Your input was flagged",
            "metadata": {"reasons": ["violence"], "flagged_input": "a"},
        }
    },
)
MODERATION_BLOCKED = httpx.Response(
    400, json={"error": {"code": "moderation_blocked", "message": "Blocked by our safety system."}}
)


@pytest.mark.parametrize("refusal", [FLAGGED, MODERATION_BLOCKED], ids=["403", "400"])
async def test_no_failover_for_a_providers_safety_refusal(
    several: Several, refusal: httpx.Response
) -> None:
    refuse(several, "a", refusal)
    accept(several, "b", "video_b")
    row = await several.jobs.start(several.request(), Poster())
    assert (row.status, row.error_code, row.provider) == ("failed", "moderation_blocked", "a")
    assert (several.posts("a"), several.posts("b"), several.posts("c")) == (1, 0, 0)
    assert (await several.ledger.month(GUILD)).held_micros == 0
