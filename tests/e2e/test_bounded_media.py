"""A provider's files are taken within bounds, a result that cannot be taken says why, and one
that waits out a provider outage goes as soon as the provider answers again (issue 18)."""

from __future__ import annotations

import time

from bot.simulator import SimulatorConfig, make_app
from bot.videoapi.models import Operation

from .botenv import StartBot
from .views import (
    attachment_names,
    delivered,
    ephemeral_answer,
    field,
    has_card,
    has_mp4,
    row_when,
    status,
    video_id,
)

FAST = 0.02
RETRY = {"delivery_retry_seconds": 0.3, "delivery_retry_max_seconds": 0.6}


async def test_a_video_over_the_download_cap_ends_with_the_reason_not_retries(
    start_bot: StartBot,
) -> None:
    # The simulator's padded MP4 is past 10 MiB; the operator takes no more than 1 MiB.
    sim_app = make_app(SimulatorConfig(job_seconds=0.3, big_assets=True))
    settings = RETRY | {"provider_max_download_mib": 1}
    env = await start_bot(sim_app=sim_app, settings=settings, edit_interval=FAST)
    h = env.harness
    rec = await h.slash("video", {"prompt": "a salt flat at noon"}, user=h.world.alice)
    card = await h.original(rec, has_card)

    def explained() -> bool:
        note = field(h.fake.messages[int(card["id"])], "Note") or ""
        return "larger than the 1 MiB this bot downloads" in note

    await h.wait_for(explained, 15, what="the card to say why")
    row = await row_when(env.bot.videos, video_id(card), delivered)
    message = h.fake.messages[int(card["id"])]
    assert status(message) == "✅ Done"
    assert attachment_names(message) == []
    # Given up at once: one download of the video, no retry scheduled.
    assert row.delivery_attempts == 0
    assert env.api_requests.count(f"GET /v1/videos/{row.id}/content") == 1

    # Asked for again, the video gets the same answer, not a file.
    options = {"video": row.id, "variant": "video"}
    got = await h.slash("videos download", options, user=h.world.alice)
    reply = await ephemeral_answer(h, got)
    assert "larger than the 1 MiB this bot downloads" in reply["content"]
    assert reply.get("attachments", []) == []


async def test_a_result_waiting_out_an_outage_goes_when_the_provider_answers_again(
    start_bot: StartBot,
) -> None:
    settings = {"delivery_retry_seconds": 0.3, "delivery_retry_max_seconds": 600.0}
    env = await start_bot(job_seconds=0.3, settings=settings, edit_interval=FAST)
    h = env.harness
    env.set_faults(unavailable_operations=frozenset({Operation.DOWNLOAD}))
    rec = await h.slash("video", {"prompt": "a tide pool"}, user=h.world.alice)
    card = await h.original(rec, has_card)
    video = video_id(card)
    await row_when(env.bot.videos, video, lambda r: r.delivery_attempts >= 1)
    # A long outage: after this many failures the next try is minutes away.
    for _ in range(12):
        await env.bot.videos.delivery_failed(video, time.time())
    await row_when(env.bot.videos, video, lambda r: r.delivery_attempts >= 14)

    # The provider is back, and answers Bob's new video.
    env.set_faults(unavailable_operations=frozenset())
    await h.slash("video", {"prompt": "a lighthouse"}, user=h.world.bob)

    await h.wait_for(lambda: has_mp4(h.fake.messages[int(card["id"])]), 15, what="the mp4")
    await row_when(env.bot.videos, video, delivered)
    h.allow_errors()
