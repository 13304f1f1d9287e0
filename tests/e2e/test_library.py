"""/videos: a gallery whose paging survives restarts, filters, re-posting a card, downloads."""

from __future__ import annotations

import re
import time

from bot.simulator import SimulatorConfig, make_app
from tests import cards

from .botenv import BotEnv, StartBot
from .fake_discord import walk_components
from .harness import Harness
from .views import (
    JSON,
    attachment_names,
    button_id,
    card_text,
    custom_ids,
    delivered,
    ephemeral_answer,
    footer_text,
    gallery,
    has_card,
    has_mp4,
    insert_video,
    plays_mp4,
    public,
    result_ids,
    row_when,
    status,
    video_id,
    video_key,
    video_ref,
)

FAST = 0.02
REF = re.compile(r"· (#\d+)$", re.MULTILINE)
FOOTER = re.compile(r"Page (\d+) of (\d+) · (\d+) videos")


def listed(message: JSON) -> list[str]:
    """The video references (`#key`) a library page shows, top to bottom."""
    return REF.findall(card_text(message))


def footer(message: JSON) -> tuple[int, int, int]:
    found = FOOTER.fullmatch(footer_text(message))
    assert found is not None, footer_text(message)
    page, pages, total = found.groups()
    return int(page), int(pages), int(total)


def open_id(viewer: JSON) -> str:
    return f"videobot:v1:open:{viewer['id']}"


def options(message: JSON) -> dict[str, str]:
    """The page's "Open a video" menu: each option's value (the key) and label."""
    [menu] = [c for c in walk_components(message["components"]) if c["type"] == 3]
    return {o["value"]: o["label"] for o in menu["options"]}


def page_id(viewer: JSON, page: int, owner: JSON | None = None, status: str = "") -> str:
    owner_id = owner["id"] if owner is not None else 0
    return f"videobot:v1:page:{viewer['id']}:{owner_id}:{status}:{page}"


def buttons(message: JSON) -> dict[str, bool]:
    """Each page button's custom id, and whether it can be clicked."""
    return {
        item["custom_id"]: not item.get("disabled", False)
        for item in walk_components(message["components"])
        if item["type"] == 2
    }


async def library(env: BotEnv, count: int, owner: JSON, start: int) -> list[str]:
    """`count` finished videos of `owner` in the world's guild, newest last, by reference."""
    h = env.harness
    ids = []
    for i in range(count):
        row = await insert_video(
            env.bot.videos,
            owner_id=int(owner["id"]),
            guild_id=h.world.guild_id,
            channel_id=h.world.channel_id,
            prompt=f"{owner['username']} video {i}",
            created_at=start + i,
        )
        ids.append(row.ref)
    return ids


async def turned(h: Harness, page: JSON, top: str) -> JSON:
    """The library's message once it shows the page whose first video is `top`."""
    return await h.wait_for(
        lambda: (m := h.fake.messages[int(page["id"])]) and listed(m)[:1] == [top] and m,
        what=f"the page starting at {top}",
    )


async def run_list(h: Harness, caller: JSON, **options: object) -> JSON:
    """The ephemeral first page `caller` gets from /videos list with these options."""
    rec = await h.slash("videos list", options, user=caller)
    return await ephemeral_answer(h, rec)


async def test_list_pages_newest_first_and_after_a_restart(start_bot: StartBot) -> None:
    sim_app = make_app(SimulatorConfig())
    env = await start_bot(sim_app=sim_app)
    h = env.harness
    alice, bob = h.world.alice, h.world.bob
    newest_first = list(reversed(await library(env, 25, alice, int(time.time()) - 1000)))

    first = await run_list(h, alice)
    assert listed(first) == newest_first[:10]
    assert footer(first) == (1, 3, 25)
    assert buttons(first) == {page_id(alice, 0): False, page_id(alice, 1): True}
    assert "**1.**" in card_text(first)

    older = await h.click(first, page_id(alice, 1), user=alice)
    await h.response(older)
    assert older.response_type == 6  # the same message, edited once its thumbnails are in
    second = await turned(h, first, newest_first[10])
    assert listed(second) == newest_first[10:20]
    assert footer(second) == (2, 3, 25)
    assert buttons(second) == {page_id(alice, 0): True, page_id(alice, 2): True}

    # Someone else's page buttons are not theirs to turn.
    other = await h.click(second, page_id(alice, 2), user=bob)
    refusal = await ephemeral_answer(h, other)
    assert "belongs to someone else" in refusal["content"]
    assert listed(h.fake.messages[int(first["id"])]) == newest_first[10:20]

    await h.close()
    env = await start_bot(sim_app=sim_app)
    h = env.harness
    older = await h.click(second, page_id(alice, 2), user=alice)
    await h.response(older)
    third = await turned(h, first, newest_first[20])
    assert listed(third) == newest_first[20:]
    assert footer(third) == (3, 3, 25)
    assert buttons(third) == {page_id(alice, 1): True, page_id(alice, 3): False}
    newer = await h.click(third, page_id(alice, 1), user=alice)
    await h.response(newer)
    assert listed(await turned(h, first, newest_first[10])) == newest_first[10:20]


async def test_list_of_a_member_shows_only_what_the_caller_may_see(
    start_bot: StartBot,
) -> None:
    env = await start_bot()
    h = env.harness
    alice, bob = h.world.alice, h.world.bob
    start = int(time.time()) - 1000
    bobs = await library(env, 2, bob, start)
    await library(env, 1, alice, start + 10)
    # Bob's video from a server Alice is not in.
    hidden = await insert_video(
        env.bot.videos,
        owner_id=int(bob["id"]),
        guild_id=h.world.guild_id + 1,
        channel_id=h.world.channel_id + 1,
        prompt="bob elsewhere",
        created_at=start + 20,
    )

    page = await run_list(h, alice, user=bob)
    assert listed(page) == list(reversed(bobs))
    assert f"<@{bob['id']}>'s videos" in card_text(page)
    assert footer(page) == (1, 1, 2)
    assert buttons(page) == {page_id(alice, 0, bob): False, page_id(alice, 1, bob): False}

    page = await run_list(h, bob, user=bob)
    assert listed(page) == [hidden.ref, *reversed(bobs)]


async def test_list_by_status(start_bot: StartBot) -> None:
    env = await start_bot()
    h = env.harness
    alice = h.world.alice
    start = int(time.time()) - 1000
    done = await library(env, 3, alice, start)
    failed = await insert_video(
        env.bot.videos,
        owner_id=int(alice["id"]),
        guild_id=h.world.guild_id,
        channel_id=h.world.channel_id,
        prompt="blocked",
        created_at=start + 10,
        status="failed",
    )

    page = await run_list(h, alice, status="failed")
    assert listed(page) == [failed.ref]
    assert buttons(page) == {
        page_id(alice, 0, status="failed"): False,
        page_id(alice, 1, status="failed"): False,
    }
    page = await run_list(h, alice, status="completed")
    assert listed(page) == list(reversed(done))
    page = await run_list(h, alice)
    assert footer(page) == (1, 1, 4)


async def test_show_reposts_the_card_with_fresh_buttons(start_bot: StartBot) -> None:
    env = await start_bot(job_seconds=0.0, edit_interval=FAST)
    h = env.harness
    alice, bob = h.world.alice, h.world.bob
    rec = await h.slash("video", {"prompt": "a kite over dunes"}, user=alice)
    card = await h.original(rec, has_mp4)
    video = video_id(card)
    await row_when(env.bot.videos, video, delivered)

    shown = await h.slash("videos show", {"video": video_ref(card)}, user=bob)
    repost = await h.original(shown, has_card)
    assert not h.is_ephemeral(repost)
    assert repost["id"] != card["id"]
    assert video_id(repost) == video
    assert status(repost) == "✅ Done"
    key = video_key(card)
    assert [a["filename"] for a in repost["attachments"]] == [f"video-{key}.mp4"]
    assert custom_ids(repost) == result_ids(key)
    assert len(public(h)) == 2

    # The fresh buttons work like the card's own.
    click = await h.click(repost, button_id("thumbnail", key), user=bob)
    reply = await ephemeral_answer(h, click)
    assert [a["filename"] for a in reply["attachments"]] == [f"video-{key}-thumbnail.webp"]

    # An id the caller cannot see gets the one "not found" answer.
    missing = await h.slash("videos show", {"video": "video_nope"}, user=bob)
    reply = await ephemeral_answer(h, missing)
    assert "I can't find that video" in reply["content"]


async def test_download_spritesheet(start_bot: StartBot) -> None:
    env = await start_bot(job_seconds=0.0, edit_interval=FAST)
    h = env.harness
    alice = h.world.alice
    rec = await h.slash("video", {"prompt": "a kite over dunes"}, user=alice)
    card = await h.original(rec, has_mp4)
    video = video_id(card)
    await row_when(env.bot.videos, video, delivered)

    # The provider's own id names the video as well as the bot's reference does.
    options = {"video": video, "variant": "spritesheet"}
    got = await h.slash("videos download", options, user=h.world.bob)
    reply = await ephemeral_answer(h, got)
    [attachment] = reply["attachments"]
    assert attachment["filename"] == f"video-{video_key(card)}-spritesheet.webp"
    data = h.fake.uploads[int(attachment["id"])]
    assert (data[:4], data[8:12]) == (b"RIFF", b"WEBP")
    assert len(public(h)) == 1


async def test_gallery_page_shows_thumbnails_and_opens_a_video(start_bot: StartBot) -> None:
    env = await start_bot(job_seconds=0.0, edit_interval=FAST)
    h = env.harness
    alice, bob = h.world.alice, h.world.bob
    keys = []
    for prompt in ("a kite over dunes", "a heron at dawn"):
        rec = await h.slash("video", {"prompt": prompt}, user=alice)
        card = await h.original(rec, has_mp4)
        await row_when(env.bot.videos, video_id(card), delivered)
        keys.append(video_key(card))
    # One of them in the database only: the provider has no files for it, the page lists it.
    lost = await insert_video(
        env.bot.videos,
        owner_id=int(alice["id"]),
        guild_id=h.world.guild_id,
        channel_id=h.world.channel_id,
        prompt="a lost one",
        created_at=int(time.time()) - 1000,
    )

    page = await run_list(h, alice)
    assert page["flags"] & (1 << 15)  # Components V2
    newest = list(reversed(keys))
    assert listed(page) == [f"#{k}" for k in newest] + [lost.ref]
    stills = [f"video-{k}-thumbnail.webp" for k in newest]
    assert gallery(page) == [f"attachment://{name}" for name in stills]
    assert attachment_names(page) == stills
    [shown] = [c for c in walk_components(page["components"]) if c["type"] == cards.GALLERY]
    assert [i["description"] for i in shown["items"]] == [
        f"#{newest[0]} a heron at dawn",
        f"#{newest[1]} a kite over dunes",
    ]
    assert options(page) == {
        str(newest[0]): f"#{newest[0]} a heron at dawn",
        str(newest[1]): f"#{newest[1]} a kite over dunes",
        str(lost.key): f"{lost.ref} a lost one",
    }

    # Only the viewer opens from their list.
    other = await h.click(page, open_id(alice), user=bob, values=[str(keys[0])])
    assert "belongs to someone else" in (await ephemeral_answer(h, other))["content"]

    opened = await h.click(page, open_id(alice), user=alice, values=[str(keys[0])])
    card = await h.original(opened, has_card)
    assert h.is_ephemeral(card)
    assert status(card) == "✅ Done"
    assert video_key(card) == keys[0]
    assert plays_mp4(card)
    assert custom_ids(card) == result_ids(keys[0])
    assert len(public(h)) == 2
