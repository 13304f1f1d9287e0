"""PROVIDER=openrouter end to end: the real bot on the fake Discord, OpenRouter's API served by
the simulator's openrouter dialect; the video is delivered and the ledger settles at the cost
the provider reported."""

from __future__ import annotations

import asyncio

from bot.videoapi.models import Operation

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
