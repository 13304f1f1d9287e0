"""Each user may run a bounded number of jobs at once; the rest are refused with the reason."""

from __future__ import annotations

from bot.videoapi.models import Operation

from .botenv import StartBot
from .views import ephemeral_reply, has_card, row_when, video_id, visible_messages_of


async def test_third_concurrent_job_is_refused(start_bot: StartBot) -> None:
    env = await start_bot(job_seconds=30.0)
    h = env.harness
    alice = h.world.alice
    # Three commands at once: the slot check and the start must not interleave.
    recs = [
        await h.slash("video", {"prompt": f"a lantern, take {n}"}, user=alice) for n in range(3)
    ]
    await h.wait_for(
        # A refused command is first answered "thinking" like any other, then told why.
        lambda: all(
            ephemeral_reply(h, r) or any(has_card(m) for m in visible_messages_of(h, r))
            for r in recs
        ),
        what="an answer to all three",
    )
    refused = [r for r in recs if ephemeral_reply(h, r)]
    started = [r for r in recs if r not in refused]
    assert len(refused) == 1
    reply = ephemeral_reply(h, refused[0])
    assert reply is not None
    assert "You already have 2 videos in progress (the limit is 2)" in reply["content"]
    assert "A slot frees as soon as one of them finishes" in reply["content"]
    assert not visible_messages_of(h, refused[0])
    assert env.sim.calls[Operation.CREATE] == 2

    # Others are not held back by Alice's jobs.
    rec = await h.slash("video", {"prompt": "bob's own"}, user=h.world.bob)
    await h.original(rec, has_card)
    assert env.sim.calls[Operation.CREATE] == 3

    # Once one of hers finishes, Alice may start another.
    first = video_id(await h.original(started[0], has_card))
    env.sim.complete(first)
    await row_when(env.bot.videos, first, lambda row: row.status == "completed")
    rec = await h.slash("video", {"prompt": "a lantern, once more"}, user=alice)
    await h.original(rec, has_card)
    assert env.sim.calls[Operation.CREATE] == 4


async def test_a_third_job_after_two_running_is_refused_at_once_in_private(
    start_bot: StartBot,
) -> None:
    env = await start_bot(job_seconds=30.0)
    h = env.harness
    alice = h.world.alice
    for n in range(2):
        rec = await h.slash("video", {"prompt": f"a kite, take {n}"}, user=alice)
        await h.original(rec, has_card)
    tracker = env.bot.tracker
    await h.wait_for(lambda: tracker.unfinished_for(int(alice["id"])) == 2, what="both tracked")
    rec = await h.slash("video", {"prompt": "a kite, once more"}, user=alice)
    await h.response(rec)
    # Answered straight away and only to her: no public "thinking…" first.
    assert rec.response_type == 4
    reply = ephemeral_reply(h, rec)
    assert reply is not None
    assert "You already have 2 videos in progress" in reply["content"]
    assert env.sim.calls[Operation.CREATE] == 2
