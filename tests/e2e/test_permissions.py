"""A permission the bot lacks is told plainly to whoever ran the command; the card makes do."""

from __future__ import annotations

from .botenv import StartBot
from .fake_discord import ATTACH_FILES, EMBED_LINKS
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


async def test_card_without_attach_files_says_why(start_bot: StartBot) -> None:
    env = await start_bot(job_seconds=0.5)
    h = env.harness
    h.fake.deny_bot(h.world.channel_id, ATTACH_FILES)
    rec = await h.slash("video", {"prompt": "a cat"}, user=h.world.alice)
    done = await h.original(
        rec, lambda m: has_card(m) and status(m) == "✅ Done" and field(m, "Note") is not None
    )
    assert attachment_names(done) == []
    assert field(done, "Note") == (
        f"I can't attach files in <#{h.world.channel_id}>: give me Attach Files. "
        "Then `/videos show` posts the video."
    )
    await row_when(env.bot.videos, video_id(done), delivered)

    # Asked again, the one error handler names the channel and the permission (in place of
    # the public "thinking" placeholder /videos show answers with).
    show = await h.slash("videos show", {"video": video_id(done)}, user=h.world.alice)
    answer = await h.original(show)
    assert answer["content"] == (
        f"I can't attach files in <#{h.world.channel_id}>: give me Attach Files."
    )


async def test_several_missing_permissions_are_named_together(start_bot: StartBot) -> None:
    env = await start_bot(job_seconds=0.5)
    h = env.harness
    rec = await h.slash("video", {"prompt": "a dog"}, user=h.world.alice)
    done = await h.original(rec, lambda m: bool(attachment_names(m)), within=15)
    await row_when(env.bot.videos, video_id(done), delivered)
    h.fake.deny_bot(h.world.channel_id, ATTACH_FILES | EMBED_LINKS)
    show = await h.slash("videos download", {"video": video_id(done)}, user=h.world.bob)
    answer = await ephemeral_answer(h, show)
    assert answer["content"] == (
        f"I can't show embeds or attach files in <#{h.world.channel_id}>: "
        "give me Embed Links and Attach Files."
    )
