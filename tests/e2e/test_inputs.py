"""Bad input gets an ephemeral answer that says what to change, and costs no API call."""

from __future__ import annotations

from typing import Any

import pytest

from bot.media import images
from bot.videoapi.models import Operation

from ..media.images import png, ztxt_bomb
from .botenv import BotEnv, StartBot
from .harness import Harness, Upload
from .views import (
    JSON,
    ephemeral_reply,
    has_card,
    has_mp4,
    status,
    unfinished_of,
    video_id,
    visible_messages_of,
)


async def refusal(h: Harness, rec: Any) -> JSON:
    """The ephemeral answer, and nothing else the channel can see."""
    reply = await h.wait_for(lambda: ephemeral_reply(h, rec), what="an ephemeral answer")
    assert not visible_messages_of(h, rec)
    return reply


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"prompt": ""}, "prompt must not be empty"),
        ({"prompt": "   \n\t "}, "prompt must not be empty"),
        (
            {"prompt": "a cat", "seconds": "5"},
            "seconds must be one of 4, 8, 12 for sora-2, not '5'",
        ),
        (
            {"prompt": "a cat", "model": "veo-9"},
            "model must be one of sora-2, sora-2-pro, not 'veo-9'",
        ),
        (
            {"prompt": "a cat", "size": "640x480"},
            "size must be one of 720x1280, 1280x720, 1024x1792, 1792x1024 for sora-2",
        ),
        (
            {"prompt": "a cat", "image": Upload("notes.txt", b"not an image at all")},
            "The image must be a PNG, JPEG or WebP file.",
        ),
    ],
    ids=["empty", "whitespace", "seconds", "model", "size", "text-file"],
)
async def test_bad_video_input(start_bot: StartBot, options: JSON, expected: str) -> None:
    env = await start_bot()
    h = env.harness
    rec = await h.slash("video", options, user=h.world.alice)
    reply = await refusal(h, rec)
    assert expected in reply["content"]
    assert rec.response_type == 4  # answered at once, no "thinking" first
    assert sum(env.sim.calls.values()) == 0


async def test_image_that_is_not_what_it_claims(start_bot: StartBot) -> None:
    env = await start_bot()
    h = env.harness
    options = {"prompt": "a cat", "image": Upload("broken.png", b"\x89PNG\r\n\x1a\n" + b"0" * 40)}
    rec = await h.slash("video", options, user=h.world.alice)
    reply = await h.wait_for(lambda: ephemeral_reply(h, rec), what="an ephemeral answer")
    assert "could not read that image" in reply["content"]
    assert sum(env.sim.calls.values()) == 0
    assert await unfinished_of(env.bot.videos, int(h.world.alice["id"])) == 0


async def nothing_stranded(env: BotEnv, rec: Any, expected: str) -> None:
    """The member got `expected` instead of "thinking…", and holds nothing: both of their
    slots are free, so their next two videos start at once."""
    h = env.harness
    reply = await h.wait_for(lambda: ephemeral_reply(h, rec), what="an ephemeral answer")
    assert expected in reply["content"]
    assert h.fake.original_message(rec) is None  # the "thinking…" answer was taken back
    alice = int(h.world.alice["id"])
    assert await unfinished_of(env.bot.videos, alice) == 0
    assert await env.bot.ledger.open_entries() == []
    for prompt in ("a calm sea", "a windy sea"):
        rec = await h.slash("video", {"prompt": prompt}, user=h.world.alice)
        await h.original(rec, has_card)
    assert await env.bot.videos.waiting_rows() == []
    assert env.sim is not None
    assert env.sim.calls[Operation.CREATE] == 2


async def test_an_image_whose_text_chunk_inflates_to_50_mib(start_bot: StartBot) -> None:
    env = await start_bot()
    h = env.harness
    options = {"prompt": "a cat", "image": Upload("bomb.png", ztxt_bomb())}
    rec = await h.slash("video", options, user=h.world.alice)
    await nothing_stranded(env, rec, "could not read that image")


async def test_a_bug_while_fitting_the_image_is_answered_with_an_error_id(
    start_bot: StartBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(data: bytes, size: str) -> bytes:
        raise RuntimeError("a bug")

    # Patched where the command's extension, loaded afresh by the bot, imports it from.
    monkeypatch.setattr(images, "fit_reference", broken)
    env = await start_bot()
    h = env.harness
    h.allow_errors()
    options = {"prompt": "a cat", "image": Upload("cat.png", png(64, 64))}
    rec = await h.slash("video", options, user=h.world.alice)
    await nothing_stranded(env, rec, "Something went wrong on my side. If it keeps happening")


async def test_an_error_quoting_a_very_long_input_fits_in_a_message(start_bot: StartBot) -> None:
    env = await start_bot()
    h = env.harness
    for quoted in (6_000, 10_000):
        rec = await h.slash(
            "video", {"prompt": "a cat", "seconds": "9" * quoted}, user=h.world.alice
        )
        reply = await refusal(h, rec)
        # Discord refuses longer content, and the member would see nothing at all.
        assert len(reply["content"]) <= 2000
        assert reply["content"].startswith("seconds must be one of 4, 8, 12 for sora-2, not '999")


async def test_remix_of_an_unknown_id(start_bot: StartBot) -> None:
    env = await start_bot()
    h = env.harness
    options = {"video": "video_0123456789abcdef", "prompt": "again"}
    rec = await h.slash("remix", options, user=h.world.alice)
    reply = await refusal(h, rec)
    assert "I can't find that video" in reply["content"]
    assert sum(env.sim.calls.values()) == 0


async def test_extend_of_a_video_still_in_progress(start_bot: StartBot) -> None:
    env = await start_bot(job_seconds=30.0)
    h = env.harness
    rec = await h.slash("video", {"prompt": "a long road"}, user=h.world.alice)
    parent = video_id(await h.original(rec, has_card))
    options = {"video": parent, "prompt": "keep driving", "seconds": "4"}
    rec = await h.slash("extend", options, user=h.world.alice)
    reply = await refusal(h, rec)
    assert "not finished yet" in reply["content"]
    assert env.sim.calls[Operation.EXTEND] == 0
    assert env.sim.calls[Operation.CREATE] == 1


async def test_extend_not_served_by_the_provider(start_bot: StartBot) -> None:
    env = await start_bot(job_seconds=0.5, disabled_operations=frozenset({Operation.EXTEND}))
    h = env.harness
    alice = int(h.world.alice["id"])
    rec = await h.slash("video", {"prompt": "a river"}, user=h.world.alice)
    parent = video_id(await h.original(rec, has_mp4, within=15))
    options = {"video": parent, "prompt": "further downstream", "seconds": "4"}

    # The first try learns that the route is missing (a 404 from the gateway).
    rec = await h.slash("extend", options, user=h.world.alice)
    reply = await refusal(h, rec)
    assert "not supported by this provider" in reply["content"]
    assert env.sim.calls[Operation.EXTEND] == 1
    assert await env.bot.videos.count_visible(alice, h.world.guild_id) == 1
    assert await unfinished_of(env.bot.videos, alice) == 0
    [card] = [m for m in h.messages() if has_card(m)]
    assert video_id(card) == parent
    assert status(card) == "✅ Done"

    # From then on the bot knows, and asks the provider nothing.
    rec = await h.slash("extend", options, user=h.world.alice)
    reply = await refusal(h, rec)
    assert "not supported by this provider" in reply["content"]
    assert rec.response_type == 4
    assert env.sim.calls[Operation.EXTEND] == 1
