"""Cards as Components V2, seen end to end: every state is one coloured container, the MP4
plays in a gallery of the same message, cards of before are turned over in place and their
buttons still work; and the fake Discord refuses what Discord would of a V2 message."""

from __future__ import annotations

import copy
import io
from typing import Any

import discord
import pytest

from bot.videoapi.models import VideoError
from tests import cards

from .botenv import StartBot
from .fake_discord import (
    COMPONENTS_V2,
    DiscordError,
    check_components_v2,
    check_media_references,
)
from .views import (
    JSON,
    attachment_names,
    button_id,
    custom_ids,
    delivered,
    edits_of,
    ephemeral_answer,
    field,
    gallery,
    has_card,
    has_mp4,
    plays_mp4,
    result_ids,
    row_when,
    status,
    video_id,
    video_key,
)

FAST = 0.05


def accent(message: JSON) -> int:
    [container] = cards.containers(message["components"])
    return int(container["accent_color"])


async def test_components_v2_every_state_of_a_card_and_the_mp4_playing_in_it(
    start_bot: StartBot,
) -> None:
    env = await start_bot(job_seconds=1.5, edit_interval=FAST)
    h = env.harness
    rec = await h.slash("video", {"prompt": "a paper boat in the rain"}, user=h.world.alice)
    done = await h.original(rec, has_mp4, within=15)
    key = video_key(done)

    # Every write of the card was a whole V2 card: the flag, no content, no embeds.
    bodies = [r.json for r in edits_of(h.fake, done["id"])]
    assert bodies
    for body in bodies:
        assert int(body["flags"]) & COMPONENTS_V2
        assert not body.get("content")
        assert not body.get("embeds")
        check_components_v2(body)
    seen = {cards.heading(b["components"]): b for b in bodies}
    assert {"⏳ Queued", "🎬 Generating", "✅ Done"} <= seen.keys()
    colours = {int(cards.containers(b["components"])[0]["accent_color"]) for b in seen.values()}
    assert len(colours) == len(seen)
    running = cards.facts(seen["🎬 Generating"]["components"])
    assert running["Progress"].endswith("%")
    assert running["Started"].startswith("<t:")

    # Done: the MP4 attached to the card itself plays in its gallery, the result buttons follow.
    assert status(done) == "✅ Done"
    assert done["content"] == ""
    assert done["embeds"] == []
    assert attachment_names(done) == [f"video-{key}.mp4"]
    assert gallery(done) == [f"attachment://video-{key}.mp4"]
    assert plays_mp4(done)
    assert custom_ids(done) == result_ids(key)
    [container] = cards.containers(done["components"])
    kinds = [c["type"] for c in container["components"]]
    assert kinds[-4:] == [cards.GALLERY, cards.ROW, cards.ROW, cards.TEXT]
    assert field(done, "Took") is not None


async def test_components_v2_a_failed_card_says_why_in_red_with_what_applies(
    start_bot: StartBot,
) -> None:
    env = await start_bot(job_seconds=5.0, edit_interval=FAST)
    h = env.harness
    rec = await h.slash("video", {"prompt": "a storm at sea"}, user=h.world.alice)
    card = await h.original(rec, has_card)
    env.sim.fail(video_id(card), VideoError(code="internal", message="The renderer crashed."))
    failed = await h.original(rec, lambda m: status(m) == "❌ Failed", within=10)
    assert accent(failed) == discord.Colour.red().value
    assert "The renderer crashed." in (field(failed, "Why") or "")
    assert gallery(failed) == []
    # Nothing to retry (the provider made it and failed it): only Delete applies.
    assert custom_ids(failed) == [button_id("delete", video_key(failed))]
    await row_when(env.bot.videos, video_id(card), delivered)


async def test_components_v2_an_embed_card_of_before_is_turned_over_and_its_buttons_work(
    start_bot: StartBot,
) -> None:
    env = await start_bot(job_seconds=1.5, edit_interval=FAST)
    h = env.harness
    rec = await h.slash("video", {"prompt": "a lighthouse at dusk"}, user=h.world.alice)
    card = await h.original(rec, has_card)
    video = video_id(card)
    # The card as an earlier version left it: an embed, its content, no V2 flag.
    stored = h.fake.messages[int(card["id"])]
    stored |= {
        "flags": 0,
        "content": "",
        "components": [],
        "embeds": [{"type": "rich", "description": "a lighthouse at dusk"}],
    }

    done = await h.original(rec, has_mp4, within=15)
    assert done["flags"] & COMPONENTS_V2
    assert done["embeds"] == []
    assert plays_mp4(done)
    await row_when(env.bot.videos, video, delivered)

    # An embed card of before with its buttons: v2 ids (the bot's key) and v1 ids (the
    # provider's id) still route to the one table's handlers.
    key = video_key(done)
    old = copy.deepcopy(done)
    old |= {
        "flags": 0,
        "components": [
            {
                "type": 1,
                "components": [
                    {"type": 2, "style": 2, "label": "Thumbnail", "custom_id": custom_id}
                    for custom_id in (
                        button_id("thumbnail", key),
                        f"videobot:v1:spritesheet:{video}",
                    )
                ],
            }
        ],
        "embeds": [{"type": "rich", "description": "a lighthouse at dusk"}],
    }
    h.fake.messages[int(old["id"])] = old
    for custom_id, name in (
        (button_id("thumbnail", key), f"video-{key}-thumbnail.webp"),
        (f"videobot:v1:spritesheet:{video}", f"video-{key}-spritesheet.webp"),
    ):
        click = await h.click(old, custom_id, user=h.world.bob)
        reply = await ephemeral_answer(h, click)
        assert attachment_names(reply) == [name]


async def test_components_v2_the_fake_refuses_a_card_discord_would(start_bot: StartBot) -> None:
    env = await start_bot()
    h = env.harness
    channel = env.bot.get_partial_messageable(h.world.channel_id, guild_id=h.world.guild_id)

    too_long = discord.ui.LayoutView(timeout=None)
    too_long.add_item(discord.ui.Container(discord.ui.TextDisplay("x" * 4001)))
    with pytest.raises(discord.HTTPException) as refused:
        await channel.send(view=too_long)
    assert refused.value.status == 400

    elsewhere = discord.ui.LayoutView(timeout=None)
    elsewhere.add_item(
        discord.ui.MediaGallery(discord.MediaGalleryItem("attachment://video-2.mp4"))
    )
    with pytest.raises(discord.HTTPException):
        await channel.send(view=elsewhere, file=discord.File(io.BytesIO(b"mp4"), "video-1.mp4"))
    sent = await channel.send(view=elsewhere, file=discord.File(io.BytesIO(b"mp4"), "video-2.mp4"))
    assert gallery(h.fake.messages[sent.id]) == ["attachment://video-2.mp4"]
    # Once V2, an edit can neither take the flag off nor bring content back.
    with pytest.raises(discord.HTTPException):
        await sent.edit(content="plain text again")
    assert h.fake.messages[sent.id]["flags"] & COMPONENTS_V2


def text(content: str) -> JSON:
    return {"type": 10, "content": content}


def button(custom_id: str) -> JSON:
    return {"type": 2, "style": 2, "label": "Go", "custom_id": custom_id}


def media(count: int) -> JSON:
    return {"type": 12, "items": [{"media": {"url": f"https://e.x/{i}.png"}} for i in range(count)]}


def container(*children: JSON) -> JSON:
    return {"type": 17, "components": list(children)}


OVER_THE_LIMITS: dict[str, JSON] = {
    "41 components, nested ones counted": {
        "components": [container(*(text(str(i)) for i in range(40)))]
    },
    "4001 characters of text": {"components": [text("x" * 2000), text("y" * 2001)]},
    "content with the flag": {"content": "hello", "components": [text("x")]},
    "an embed with the flag": {"embeds": [{"description": "x"}], "components": [text("x")]},
    "an empty gallery": {"components": [media(0)]},
    "a gallery of 11": {"components": [media(11)]},
    "6 buttons in a row": {
        "components": [{"type": 1, "components": [button(f"b{i}") for i in range(6)]}]
    },
    "a button beside a select": {
        "components": [
            {
                "type": 1,
                "components": [
                    button("b"),
                    {"type": 3, "custom_id": "s", "options": [{"label": "a", "value": "a"}]},
                ],
            }
        ]
    },
    "a select of 26 options": {
        "components": [
            {
                "type": 1,
                "components": [
                    {
                        "type": 3,
                        "custom_id": "s",
                        "options": [{"label": str(i), "value": str(i)} for i in range(26)],
                    }
                ],
            }
        ]
    },
    "a container in a container": {"components": [container(container(text("x")))]},
    "a button at the top level": {"components": [button("b")]},
    "a section of four texts": {
        "components": [
            {
                "type": 9,
                "components": [text(str(i)) for i in range(4)],
                "accessory": button("b"),
            }
        ]
    },
    "a section without an accessory": {"components": [{"type": 9, "components": [text("x")]}]},
    "a file from a web address": {
        "components": [{"type": 13, "file": {"url": "https://e.x/a.zip"}}]
    },
    "a long alt text": {
        "components": [
            {
                "type": 12,
                "items": [{"media": {"url": "https://e.x/a.png"}, "description": "d" * 1025}],
            }
        ]
    },
    "a colour out of range": {
        "components": [{"type": 17, "accent_color": 0x1000000, "components": [text("x")]}]
    },
}


@pytest.mark.parametrize("body", OVER_THE_LIMITS.values(), ids=OVER_THE_LIMITS.keys())
def test_components_v2_a_payload_over_a_discord_limit_is_refused(body: JSON) -> None:
    with pytest.raises(DiscordError) as refused:
        check_components_v2(body)
    assert refused.value.status == 400


def test_components_v2_a_payload_at_the_limits_is_taken() -> None:
    rows = [{"type": 1, "components": [button(f"b{r}{i}") for i in range(5)]} for r in range(5)]
    body: dict[str, Any] = {
        "content": None,
        "embeds": [],
        "components": [
            container(
                text("x" * 3997),
                media(10),
                *rows,
                {"type": 9, "components": [text("a")] * 3, "accessory": button("s")},
                {"type": 14, "spacing": 2},
            )
        ],
    }
    check_components_v2(body)


def test_components_v2_attachment_names_must_match_the_files_sent() -> None:
    shown = [{"type": 12, "items": [{"media": {"url": "attachment://video-3.mp4"}}]}]
    check_media_references(shown, [{"filename": "video-3.mp4"}])
    with pytest.raises(DiscordError):
        check_media_references(shown, [{"filename": "video-4.mp4"}])
    with pytest.raises(DiscordError):
        check_media_references(shown, [])
