"""A provider's files are taken within bounds; a result that cannot be taken says why (issue 18)."""

from __future__ import annotations

from bot.simulator import SimulatorConfig, make_app

from .botenv import StartBot
from .views import (
    attachment_names,
    delivered,
    ephemeral_answer,
    field,
    has_card,
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
