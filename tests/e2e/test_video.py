"""/video as a user sees it: a card, progress edits, the MP4 (or its thumbnail) on the card."""

from __future__ import annotations

import itertools

from bot.tracker.cadence import Cadence
from bot.videoapi.models import Operation, VideoError
from tests import cards

from .botenv import EDIT_INTERVAL, StartBot
from .harness import Upload, png
from .views import (
    BAR,
    attachment_names,
    card_text,
    delivered,
    edits_of,
    field,
    gallery,
    has_card,
    has_mp4,
    plays_mp4,
    row_when,
    status,
    uploads,
    video_id,
    video_key,
)

# The fake records a request once its body is read; allow for that much jitter between two.
JITTER = 0.02


async def test_video_card_progress_and_mp4(start_bot: StartBot) -> None:
    # Refresh far more often than the card may be edited, so that coalescing has work to do.
    env = await start_bot(job_seconds=2.0, cadence=Cadence(base=0.05, floor=0.05, ceiling=0.05))
    h = env.harness
    rec = await h.slash("video", {"prompt": "a calico cat playing piano"}, user=h.world.alice)
    await h.response(rec)
    assert rec.ack_latency is not None
    assert rec.ack_latency < 3
    card = await h.original(rec, has_card)
    assert not h.is_ephemeral(card)
    assert "a calico cat playing piano" in card_text(card)
    assert field(card, "By") == f"<@{h.world.alice['id']}>"

    done = await h.original(rec, has_mp4, within=15)
    assert status(done) == "✅ Done"
    assert attachment_names(done) == [f"video-{video_key(done)}.mp4"]
    assert plays_mp4(done)
    assert env.sim.calls[Operation.CREATE] == 1

    edits = edits_of(h.fake, card["id"])
    bodies = [r.json for r in edits]
    progress = [
        body
        for body in bodies
        if cards.heading(body["components"]) == "🎬 Generating"
        and BAR.fullmatch(cards.facts(body["components"]).get("Progress", ""))
    ]
    assert progress, "no progress edit was sent"
    # Coalesced: no two progress edits closer than the interval, and none that changes
    # nothing; the result goes out as soon as it is ready.
    gaps = [later.at - earlier.at for earlier, later in itertools.pairwise(edits[:-1])]
    assert min(gaps) >= EDIT_INTERVAL - JITTER, gaps
    assert bodies[-1].get("attachments")
    for earlier, later in itertools.pairwise(bodies):
        assert later["components"] != earlier["components"] or later.get("attachments"), later
    # The result went up exactly once, on the card.
    assert len(uploads(h.fake)) == 1


async def test_an_oversized_video_is_re_encoded_to_fit(start_bot: StartBot) -> None:
    env = await start_bot(job_seconds=0.5, big_assets=True)
    h = env.harness
    # The simulator's 12 MiB MP4, on a server that takes 10 MiB.
    h.fake.set_attachment_limit(10 * 1024 * 1024)
    rec = await h.slash("video", {"prompt": "a very long take"}, user=h.world.alice)
    done = await h.original(rec, lambda m: bool(m.get("attachments")), within=15)
    [name] = attachment_names(done)
    assert name == f"video-{video_key(done)}.mp4"
    assert field(done, "Note") is None
    [attachment] = done["attachments"]
    data = h.fake.uploads[int(attachment["id"])]
    assert len(data) < 10 * 1024 * 1024 * 0.95
    assert data[4:8] == b"ftyp"
    assert not [r for r in h.fake.requests if r.status == 413]


async def test_a_video_that_cannot_fit_gets_its_thumbnail(start_bot: StartBot) -> None:
    env = await start_bot(job_seconds=0.5)
    h = env.harness
    # Below what even a 240p re-encode needs (about 100 KB as made), above the thumbnail's 8 KB.
    h.fake.set_attachment_limit(30_000)
    rec = await h.slash("video", {"prompt": "a small server"}, user=h.world.alice)
    done = await h.original(rec, lambda m: bool(m.get("attachments")), within=15)
    assert attachment_names(done) == [f"video-{video_key(done)}-thumbnail.webp"]
    assert gallery(done) == [f"attachment://video-{video_key(done)}-thumbnail.webp"]
    note = field(done, "Note") or ""
    assert "99.1 KiB" in note, note
    assert "29.3 KiB upload limit" in note, note
    assert "even re-encoded" in note
    # Nothing was sent that Discord refused for its size.
    assert not [r for r in h.fake.requests if r.status == 413]


async def test_failed_job_says_why(start_bot: StartBot) -> None:
    env = await start_bot(job_seconds=5.0)
    h = env.harness
    rec = await h.slash("video", {"prompt": "something forbidden"}, user=h.world.alice)
    card = await h.original(rec, has_card)
    env.sim.fail(
        video_id(card),
        VideoError(code="moderation_blocked", message="Blocked by the moderation system."),
    )
    blocked = "🛡️ Blocked by the provider's safety system"
    failed = await h.original(rec, lambda m: status(m) == blocked, within=10)
    why = field(failed, "Why") or ""
    assert "safety system refused this prompt" in why, why
    assert "rewording it" in why, why
    assert field(failed, "Progress") is None
    assert not failed["attachments"]
    await row_when(env.bot.videos, video_id(card), delivered)


async def test_failed_job_without_a_known_code_shows_the_providers_words(
    start_bot: StartBot,
) -> None:
    env = await start_bot(job_seconds=5.0)
    h = env.harness
    rec = await h.slash("video", {"prompt": "a storm at sea"}, user=h.world.alice)
    card = await h.original(rec, has_card)
    env.sim.fail(video_id(card), VideoError(code="internal", message="The renderer crashed."))
    failed = await h.original(rec, lambda m: status(m) == "❌ Failed", within=10)
    assert "The renderer crashed." in (field(failed, "Why") or "")


async def test_reference_image_of_another_size_is_resized(start_bot: StartBot) -> None:
    env = await start_bot(job_seconds=0.5)
    h = env.harness
    options = {"prompt": "the ball rolls away", "image": Upload("ball.png", png(300, 200))}
    rec = await h.slash("video", options, user=h.world.alice)
    # The simulator refuses a reference whose size differs from the video's (720x1280 here).
    done = await h.original(rec, has_mp4, within=15)
    assert status(done) == "✅ Done"
    assert field(done, "Size") == "720x1280"
    assert env.sim.calls[Operation.CREATE] == 1


async def test_job_finished_when_accepted_is_still_delivered(start_bot: StartBot) -> None:
    # A provider may answer the create call with a job that is already completed.
    env = await start_bot(job_seconds=0.0)
    h = env.harness
    rec = await h.slash("video", {"prompt": "an instant replay"}, user=h.world.alice)
    done = await h.original(rec, has_mp4)
    assert status(done) == "✅ Done"
    await row_when(env.bot.videos, video_id(done), delivered)
    assert len(uploads(h.fake)) == 1
