"""PROVIDER=openrouter end to end: the real bot on the fake Discord, OpenRouter's API served by
the simulator's openrouter dialect; the video is delivered and the ledger settles at the cost
the provider reported."""

from __future__ import annotations

import asyncio

from bot.tracker.cadence import Cadence
from bot.videoapi.models import Operation
from bot.wiring import WEBHOOK_SAFETY_LOOK, webhook_receiver
from tests.procs import free_port

from .botenv import StartBot
from .views import (
    attachment_names,
    button_id,
    custom_ids,
    delivered,
    field,
    has_mp4,
    row_when,
    status,
    video_id,
    video_key,
)


async def test_openrouter_video_is_delivered_and_settled_at_the_reported_cost(
    start_bot: StartBot,
) -> None:
    env = await start_bot(settings={"provider": "openrouter"}, dialect="openrouter")
    h = env.harness
    assert env.sim is not None
    # Wan 2.6 costs $0.50 a video: the reservation spreads it over its shortest duration
    # ($0.10 a second, so $1.00 for 10 s); OpenRouter reports $0.50, and that is what it costs.
    rec = await h.slash(
        "video",
        {"prompt": "rain on a tin roof", "model": "alibaba/wan-2.6", "seconds": "10"},
        user=h.world.alice,
    )
    done = await h.original(rec, has_mp4, within=15)
    assert status(done) == "✅ Done"
    assert attachment_names(done) == [f"video-{video_key(done)}.mp4"]
    job = env.sim.jobs[video_id(done)]
    assert (job.model, job.seconds, job.size) == ("alibaba/wan-2.6", "10", "1280x720")
    # Tracked one job at a time (OpenRouter has no list); the MP4 came from /content.
    assert env.sim.calls[Operation.LIST] == 0
    assert env.sim.calls[Operation.DOWNLOAD] == 1
    await row_when(env.bot.videos, video_id(done), delivered)

    deadline = asyncio.get_running_loop().time() + 5
    while (entries := await env.bot.ledger.entries_for(video_key(done)))[0].state != "settled":
        assert asyncio.get_running_loop().time() < deadline, entries
        await asyncio.sleep(0.02)
    [settled] = entries
    assert (settled.seconds, settled.micros) == (10, 500_000)
    assert field(done, "Price") == "$0.50"
    # No delete there: the card offers no Delete button.
    shown = custom_ids(done)
    assert button_id("delete", video_key(done)) not in shown
    assert button_id("extend", video_key(done)) in shown


async def test_openrouter_models_autocomplete_from_the_catalogue_with_prices(
    start_bot: StartBot,
) -> None:
    env = await start_bot(settings={"provider": "openrouter"}, dialect="openrouter")
    h = env.harness
    rec = await h.autocomplete("video", {"prompt": "", "model": ""}, "model", user=h.world.alice)
    await h.response(rec)
    assert [(c["name"], c["value"]) for c in rec.choices or []] == [
        ("google/veo-3.1-fast · $0.10/s", "google/veo-3.1-fast"),
        ("kwaivgi/kling-video-o1 · $0.112/s", "kwaivgi/kling-video-o1"),
        ("alibaba/wan-2.6 · $0.10/s", "alibaba/wan-2.6"),
    ]
    rec = await h.autocomplete(
        "video",
        {"prompt": "", "model": "kwaivgi/kling-video-o1", "seconds": ""},
        "seconds",
        user=h.world.alice,
    )
    await h.response(rec)
    assert [c["value"] for c in rec.choices or []] == ["5", "10"]


async def test_openrouter_with_webhooks_sends_no_status_request(start_bot: StartBot) -> None:
    listen = f"127.0.0.1:{free_port()}"
    secret = "whsec-e2e"
    hooks = {
        "provider": "openrouter",
        "webhook_public_url": f"http://{listen}/hooks/openrouter",
        "webhook_listen": listen,
        "openrouter_webhook_secret": secret,
    }
    # The cadence the bot takes with webhooks: only a look every 2 minutes, as a safety net.
    slow = Cadence(base=WEBHOOK_SAFETY_LOOK, floor=WEBHOOK_SAFETY_LOOK, ceiling=WEBHOOK_SAFETY_LOOK)
    env = await start_bot(
        settings=hooks, dialect="openrouter", openrouter_webhook_secret=secret, cadence=slow
    )
    h = env.harness
    async with webhook_receiver(env.bot.settings, env.bot.tracker):
        rec = await h.slash(
            "video",
            {"prompt": "rain on a tin roof", "model": "alibaba/wan-2.6", "seconds": "10"},
            user=h.world.alice,
        )
        done = await h.original(rec, has_mp4, within=15)
    assert status(done) == "✅ Done"
    made = video_id(done)
    # The signed event said it ended and what it cost: no status request, the MP4 from /content.
    assert not [sent for sent in env.api_requests if sent.endswith(f"/videos/{made}")]
    assert [sent for sent in env.api_requests if made in sent] == [
        f"GET /api/v1/videos/{made}/content"
    ]
    deadline = asyncio.get_running_loop().time() + 5
    while (entries := await env.bot.ledger.entries_for(video_key(done)))[0].state != "settled":
        assert asyncio.get_running_loop().time() < deadline, entries
        await asyncio.sleep(0.02)
    assert entries[0].micros == 500_000
