"""When the interaction's token dies or the card is deleted, the result still reaches its owner."""

from __future__ import annotations

from .botenv import StartBot
from .views import (
    CHANNEL_EDIT,
    CHANNEL_POST,
    HOOK_ORIGINAL,
    attachment_names,
    delivered,
    edits_of,
    has_card,
    has_mp4,
    mentions,
    row_when,
    status,
    uploads,
    video_id,
    video_key,
)


async def test_expired_token_result_lands_on_the_same_card(start_bot: StartBot) -> None:
    # Long enough to stay queued (no visible change) until the test completes it.
    env = await start_bot(job_seconds=30.0)
    h = env.harness
    rec = await h.slash("video", {"prompt": "a slow sunrise"}, user=h.world.alice)
    card = await h.original(rec, has_card)
    h.fake.expire_interaction(rec)
    env.sim.complete(video_id(card))

    done = await h.wait_for(
        lambda: has_mp4(h.fake.messages[int(card["id"])]), within=10, what="the MP4 on the card"
    )
    assert done
    message = h.fake.messages[int(card["id"])]
    assert status(message) == "✅ Done"
    assert attachment_names(message) == [f"video-{video_key(card)}.mp4"]
    # The webhook said the token was dead; the channel route carried the result.
    hook = [r for r in edits_of(h.fake, card["id"]) if r.route == HOOK_ORIGINAL]
    assert [r.error_code for r in hook if r.status >= 400] == [50027]
    [edit] = [r for r in h.fake.requests_to(CHANNEL_EDIT) if r.files]
    assert edit.path.endswith(f"/messages/{card['id']}")
    assert edit.status == 200
    assert len(uploads(h.fake)) == 1
    assert not h.fake.requests_to(CHANNEL_POST)
    await row_when(env.bot.videos, video_id(card), delivered)


async def test_expired_token_mid_job_keeps_the_card_moving(start_bot: StartBot) -> None:
    env = await start_bot(job_seconds=1.5)
    h = env.harness
    rec = await h.slash("video", {"prompt": "clouds rolling by"}, user=h.world.alice)
    card = await h.original(rec, has_card)
    h.fake.expire_interaction(rec)

    await h.wait_for(lambda: has_mp4(h.fake.messages[int(card["id"])]), within=10)
    channel_edits = [r for r in edits_of(h.fake, card["id"]) if r.route == CHANNEL_EDIT]
    # Progress edits and the result, all through the channel route once the token failed once.
    assert len(channel_edits) >= 2
    assert all(r.status == 200 for r in channel_edits)
    hook_failures = [
        r for r in edits_of(h.fake, card["id"]) if r.route == HOOK_ORIGINAL and r.status >= 400
    ]
    assert len(hook_failures) == 1
    assert len(uploads(h.fake)) == 1


async def test_deleted_card_result_goes_to_a_new_message_for_the_owner(
    start_bot: StartBot,
) -> None:
    env = await start_bot(job_seconds=30.0)
    h = env.harness
    rec = await h.slash("video", {"prompt": "a paper boat"}, user=h.world.alice)
    card = await h.original(rec, has_card)
    h.fake.delete_message(int(card["id"]))
    env.sim.complete(video_id(card))

    def reposted() -> list[dict[str, object]]:
        return [m for m in h.messages() if has_mp4(m)]

    [message] = await h.wait_for(reposted, within=10, what="the result in a new message")
    assert message["id"] != card["id"]
    assert mentions(message, h.world.alice)
    assert status(message) == "✅ Done"
    assert attachment_names(message) == [f"video-{video_key(card)}.mp4"]
    assert len(uploads(h.fake)) == 1
    row = await row_when(env.bot.videos, video_id(card), delivered)
    assert row.status_message_id == int(message["id"])


async def test_card_deleted_mid_job_is_reposted_and_finished(start_bot: StartBot) -> None:
    env = await start_bot(job_seconds=1.5)
    h = env.harness
    rec = await h.slash("video", {"prompt": "a kite in the wind"}, user=h.world.alice)
    card = await h.original(rec, has_card)
    h.fake.delete_message(int(card["id"]))

    [message] = await h.wait_for(
        lambda: [m for m in h.messages() if has_mp4(m)], within=10, what="the result"
    )
    assert mentions(message, h.world.alice)
    assert status(message) == "✅ Done"
    # One new card, edited in place until the end, not one message per update.
    assert len([m for m in h.messages() if has_card(m)]) == 1
    assert len(uploads(h.fake)) == 1
