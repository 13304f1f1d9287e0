"""Several providers: a new job goes where its model is served, and everything about a job
afterwards (derived jobs, delete, the search for a lost answer) to the provider that made it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import respx
from pydantic import SecretStr

from bot.interactions.tree import describe, explain
from bot.jobs.service import Jobs
from bot.spending.service import Spending
from bot.storage import Database, GuildRepository, LedgerRepository, VideoRepository, VideoRow
from bot.storage.videos import NOT_CONFIRMED
from bot.timing.backoff import Backoff
from bot.tracker.service import Tracker
from bot.videoapi.client import VideoClient
from bot.videoapi.models import Operation, Video
from bot.videoapi.profile import ProviderProfile
from bot.videoapi.providers import ProviderRemoved, Providers

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

URLS = {"contract": "https://contract.test/v1", "gateway": "https://gateway.test/v1"}
PROFILES = {
    "contract": ProviderProfile(models=("sora-2",), price_per_second={"sora-2": 0.1}),
    "gateway": ProviderProfile(
        models=("wan2.2", "sora-2"), price_per_second={"wan2.2": 0.02, "sora-2": 0.1}
    ),
}


@dataclass
class Two:
    routers: dict[str, respx.Router]
    providers: Providers
    videos: VideoRepository
    jobs: Jobs[Poster]

    def paths(self, name: str, method: str) -> list[str]:
        return [
            call.request.url.path
            for call in self.routers[name].calls
            if call.request.method == method
        ]

    async def completed(self, provider: str, video_id: str, model: str) -> VideoRow:
        video = Video.model_validate(
            video_json(video_id, model=model, status="completed", progress=100)
        )
        return await self.videos.insert(
            video,
            owner_id=OWNER,
            guild_id=GUILD,
            channel_id=CHANNEL,
            kind="create",
            prompt="a red kite",
            model=model,
            size="720x1280",
            seconds="4",
            provider=provider,
        )


@pytest.fixture
async def two(database: Database) -> AsyncIterator[Two]:  # noqa: F811
    routers, backends = {}, {}
    for name, url in URLS.items():
        routers[name] = respx.Router(base_url=url, assert_all_called=False)
        backends[name] = VideoClient(
            url,
            SecretStr(f"sk-{name}"),
            profile=PROFILES[name],
            backoff=Backoff(sleep=no_sleep),
            transport=httpx.MockTransport(routers[name].async_handler),
        )
    providers = Providers(backends)
    videos = VideoRepository(database, clock=lambda: NOW)
    ledger = LedgerRepository(database, videos, clock=lambda: NOW)
    tracker = Tracker(providers, videos, clock=lambda: NOW)
    jobs: Jobs[Poster] = Jobs(
        providers,
        videos,
        ledger,
        Spending(GuildRepository(database), LIMITS),
        tracker,
        RecordingDelivery(),
        explain=explain,
        reconcile_wait=0.0,
        clock=lambda: NOW,
    )
    yield Two(routers, providers, videos, jobs)
    await providers.aclose()


def _create(two: Two, model: str | None) -> Any:
    return two.jobs.created(
        "a red kite",
        model=model,
        size=None,
        seconds=None,
        owner_id=OWNER,
        guild_id=GUILD,
        channel_id=CHANNEL,
    )


async def test_routing_a_job_goes_to_the_provider_serving_its_model(two: Two) -> None:
    two.routers["gateway"].post("/videos").respond(200, json=video_json("wan_1", model="wan2.2"))
    two.routers["contract"].post("/videos").respond(200, json=video_json("sora_1"))

    wan = await two.jobs.start(_create(two, "wan2.2"), Poster())
    sora = await two.jobs.start(_create(two, None), Poster())

    assert (wan.id, wan.provider, wan.model) == ("wan_1", "gateway", "wan2.2")
    assert (sora.id, sora.provider) == ("sora_1", "contract")
    assert two.paths("gateway", "POST") == ["/v1/videos"]
    assert two.paths("contract", "POST") == ["/v1/videos"]
    # Priced at its own provider's price.
    assert _create(two, "wan2.2").micros_per_second == 20_000


async def test_routing_derived_jobs_and_delete_go_to_the_parents_provider(two: Two) -> None:
    parent = await two.completed("gateway", "wan_parent", "wan2.2")
    two.routers["gateway"].post("/videos/wan_parent/remix").respond(
        200, json=video_json("wan_remix", model="wan2.2")
    )
    two.routers["gateway"].delete("/videos/wan_parent").respond(
        200, json={"id": "wan_parent", "object": "video.deleted", "deleted": True}
    )
    request = two.jobs.derived(
        "remix", parent, "in the rain", owner_id=OWNER, guild_id=GUILD, channel_id=CHANNEL
    )

    remix = await two.jobs.start(request, Poster())
    await two.jobs.delete(parent, OWNER)

    assert (remix.id, remix.provider) == ("wan_remix", "gateway")
    assert two.paths("gateway", "POST") == ["/v1/videos/wan_parent/remix"]
    assert two.paths("gateway", "DELETE") == ["/v1/videos/wan_parent"]
    assert two.routers["contract"].calls.call_count == 0


async def test_routing_a_lost_answer_is_looked_for_where_it_was_sent(two: Two) -> None:
    two.routers["gateway"].post("/videos").respond(500, json={"error": {"message": "boom"}})
    two.routers["gateway"].get("/videos").respond(
        200, json=page(video_json("wan_made", model="wan2.2", created_at=int(NOW)))
    )

    row = await two.jobs.start(_create(two, "wan2.2"), Poster())

    assert (row.id, row.provider) == ("wan_made", "gateway")
    assert two.paths("gateway", "GET") == ["/v1/videos"]
    assert two.routers["contract"].calls.call_count == 0


async def test_routing_a_video_of_a_removed_provider_says_so(two: Two) -> None:
    row = await two.completed("old-gateway", "old_video", "wan2.2")

    with pytest.raises(ProviderRemoved) as caught:
        await two.jobs.parent(row.ref, OWNER, GUILD, Operation.REMIX)
    with pytest.raises(ProviderRemoved):
        two.jobs.derived("remix", row, "again", owner_id=OWNER, guild_id=GUILD, channel_id=CHANNEL)

    assert describe(caught.value) == (
        "I can't do that: the provider 'old-gateway' that made this video is no longer configured."
    )
    assert all(router.calls.call_count == 0 for router in two.routers.values())


async def test_routing_a_retry_goes_where_the_job_was_sent_not_to_the_first_provider(
    two: Two,
) -> None:
    # Both serve sora-2 and the contract comes first; this job was sent to the gateway.
    row = await two.videos.begin_submit(
        owner_id=OWNER,
        guild_id=GUILD,
        channel_id=CHANNEL,
        kind="create",
        prompt="a red kite",
        model="sora-2",
        size="720x1280",
        seconds="4",
        provider="gateway",
    )
    failed = await two.videos.unconfirmed(row.key, NOT_CONFIRMED, "no answer")
    assert failed is not None
    two.routers["gateway"].post("/videos").respond(200, json=video_json("sora_again"))

    again = await two.jobs.retry(failed, OWNER, CHANNEL, Poster())

    assert (again.id, again.provider) == ("sora_again", "gateway")
    assert two.paths("gateway", "POST") == ["/v1/videos"]
    assert two.routers["contract"].calls.call_count == 0
    assert two.providers.route("sora-2").provider == "contract"
