"""A restart loses no job and never delivers one twice."""

from __future__ import annotations

from bot.simulator import SimulatorConfig, make_app
from bot.videoapi.models import Operation

from .botenv import StartBot
from .views import (
    CHANNEL_EDIT,
    attachment_names,
    delivered,
    edits_of,
    field,
    has_card,
    has_mp4,
    row_when,
    status,
    uploads,
    video_id,
    video_key,
)


async def test_restart_mid_job_delivers_once_on_the_same_card(start_bot: StartBot) -> None:
    sim_app = make_app(SimulatorConfig(job_seconds=2.5))
    first = await start_bot(sim_app=sim_app)
    h = first.harness
    rec = await h.slash("video", {"prompt": "a train crossing a bridge"}, user=h.world.alice)
    card = await h.original(rec, lambda m: has_card(m) and status(m) == "🎬 Generating")
    job = video_id(card)
    await h.close()
    assert not uploads(h.fake)

    second = await start_bot(sim_app=sim_app)
    h2 = second.harness
    await h2.wait_for(lambda: has_mp4(h2.fake.messages[int(card["id"])]), within=15)
    message = h2.fake.messages[int(card["id"])]
    assert status(message) == "✅ Done"
    assert attachment_names(message) == [f"video-{video_key(card)}.mp4"]
    # The new process has no token: it edits the same card through the channel route.
    [upload] = uploads(h2.fake)
    assert upload.route == CHANNEL_EDIT
    assert upload.path.endswith(f"/messages/{card['id']}")
    assert len(h2.messages()) == 1
    row = await row_when(second.bot.videos, job, delivered)
    assert row.status == "completed"
    assert second.sim.calls[Operation.CREATE] == 1

    # A third start finds nothing left to do and posts nothing.
    await second.harness.close()
    third = await start_bot(sim_app=sim_app)
    assert await third.bot.videos.pending() == []
    assert third.bot.tracker.tracked == frozenset()
    await third.bot.delivery.idle()
    assert len(uploads(h2.fake)) == 1
    again = await third.bot.videos.get(job)
    assert again is not None
    assert again.delivered_at == row.delivered_at


async def test_job_finished_while_down_is_delivered_once(start_bot: StartBot) -> None:
    sim_app = make_app(SimulatorConfig(job_seconds=30.0))
    first = await start_bot(sim_app=sim_app)
    h = first.harness
    rec = await h.slash("video", {"prompt": "snow falling on a lake"}, user=h.world.alice)
    card = await h.original(rec, has_card)
    job = video_id(card)
    await h.close()
    first.sim.complete(job)

    second = await start_bot(sim_app=sim_app)
    h2 = second.harness
    await h2.wait_for(lambda: has_mp4(h2.fake.messages[int(card["id"])]), within=10)
    await row_when(second.bot.videos, job, delivered)
    assert len(uploads(h2.fake)) == 1
    assert len([r for r in edits_of(h2.fake, card["id"]) if r.files]) == 1


async def test_restart_with_a_low_upload_limit_still_delivers_the_thumbnail(
    start_bot: StartBot,
) -> None:
    sim_app = make_app(SimulatorConfig(job_seconds=30.0))
    first = await start_bot(sim_app=sim_app)
    h = first.harness
    # Discord takes less than the new process assumes (it no longer knows the interaction).
    h.fake.set_attachment_limit(50_000)
    rec = await h.slash("video", {"prompt": "a quiet harbour"}, user=h.world.alice)
    card = await h.original(rec, has_card)
    job = video_id(card)
    await h.close()
    first.sim.complete(job)

    second = await start_bot(sim_app=sim_app)
    h2 = second.harness
    await h2.wait_for(lambda: h2.fake.messages[int(card["id"])]["attachments"], within=10)
    message = h2.fake.messages[int(card["id"])]
    assert attachment_names(message) == [f"video-{video_key(card)}-thumbnail.webp"]
    assert "thumbnail" in (field(message, "Note") or "")
    await row_when(second.bot.videos, job, delivered)
