"""DESIGN "Ownership and scope": who may see which video, and what the library lists."""

from __future__ import annotations

import pytest

from bot.storage import VideoRepository, VideoRow

from .helpers import CREATED_AT, GUILD, MEMBER, OTHER_GUILD, OWNER, add_video

STRANGER = 333


@pytest.mark.parametrize(
    ("made_in", "user_id", "guild_id", "visible"),
    [
        pytest.param(GUILD, OWNER, GUILD, True, id="owner-in-the-guild"),
        pytest.param(GUILD, OWNER, OTHER_GUILD, True, id="owner-in-another-guild"),
        pytest.param(GUILD, OWNER, None, True, id="owner-in-a-dm"),
        pytest.param(GUILD, MEMBER, GUILD, True, id="member-of-the-guild"),
        pytest.param(GUILD, MEMBER, OTHER_GUILD, False, id="member-in-another-guild"),
        pytest.param(GUILD, MEMBER, None, False, id="member-in-a-dm"),
        pytest.param(None, OWNER, GUILD, True, id="dm-video-owner-in-a-guild"),
        pytest.param(None, OWNER, None, True, id="dm-video-owner-in-a-dm"),
        pytest.param(None, STRANGER, None, False, id="dm-video-someone-else-in-a-dm"),
        pytest.param(None, STRANGER, GUILD, False, id="dm-video-someone-else-in-a-guild"),
    ],
)
async def test_visible(
    videos: VideoRepository, made_in: int | None, user_id: int, guild_id: int | None, visible: bool
) -> None:
    row = await add_video(videos, "video_1", guild_id=made_in)
    assert await videos.visible("video_1", user_id, guild_id) == (row if visible else None)


async def test_unknown_and_deleted_videos_are_invisible_even_to_the_owner(
    videos: VideoRepository,
) -> None:
    await add_video(videos, "video_1")
    await videos.mark_deleted("video_1")
    assert await videos.visible("video_1", OWNER, GUILD) is None
    assert await videos.visible("video_unknown", OWNER, GUILD) is None
    assert await videos.list_visible(OWNER, GUILD) == []


async def make_library(videos: VideoRepository) -> None:
    """Mine everywhere, a member's in this guild and in another, and a stranger's DM video."""
    await add_video(videos, "mine_here", prompt="A red fox", created_at=CREATED_AT + 1)
    await add_video(
        videos, "mine_elsewhere", guild_id=OTHER_GUILD, prompt="fox 100%", created_at=CREATED_AT + 2
    )
    await add_video(
        videos,
        "mine_dm",
        guild_id=None,
        prompt="a_fox",
        status="completed",
        created_at=CREATED_AT + 3,
    )
    await add_video(videos, "member_here", owner_id=MEMBER, prompt="owl", created_at=CREATED_AT + 4)
    await add_video(
        videos, "member_elsewhere", owner_id=MEMBER, guild_id=OTHER_GUILD, created_at=CREATED_AT + 5
    )
    await add_video(
        videos, "stranger_dm", owner_id=STRANGER, guild_id=None, created_at=CREATED_AT + 6
    )


def ids(rows: list[VideoRow]) -> list[str]:
    return [row.id for row in rows]


async def test_list_visible_is_newest_first_within_scope(videos: VideoRepository) -> None:
    await make_library(videos)
    everything = ["member_here", "mine_dm", "mine_elsewhere", "mine_here"]
    assert ids(await videos.list_visible(OWNER, GUILD)) == everything
    assert ids(await videos.list_visible(OWNER, None)) == ["mine_dm", "mine_elsewhere", "mine_here"]
    assert ids(await videos.list_visible(MEMBER, GUILD)) == [
        "member_elsewhere",
        "member_here",
        "mine_here",
    ]
    assert ids(await videos.list_visible(STRANGER, OTHER_GUILD)) == [
        "stranger_dm",
        "member_elsewhere",
        "mine_elsewhere",
    ]


@pytest.mark.parametrize(
    ("user_id", "guild_id", "owner_id", "expected"),
    [
        pytest.param(STRANGER, GUILD, MEMBER, ["member_here"], id="someone-else-here"),
        pytest.param(STRANGER, None, MEMBER, [], id="someone-else-from-a-dm"),
        pytest.param(
            OWNER, GUILD, OWNER, ["mine_dm", "mine_elsewhere", "mine_here"], id="my-own-everywhere"
        ),
    ],
)
async def test_list_visible_of_one_owner_stays_in_scope(
    videos: VideoRepository,
    user_id: int,
    guild_id: int | None,
    owner_id: int,
    expected: list[str],
) -> None:
    await make_library(videos)
    assert ids(await videos.list_visible(user_id, guild_id, owner_id=owner_id)) == expected
    assert await videos.count_visible(user_id, guild_id, owner_id=owner_id) == len(expected)


async def test_list_visible_by_status(videos: VideoRepository) -> None:
    await make_library(videos)
    assert ids(await videos.list_visible(OWNER, GUILD, status="completed")) == ["mine_dm"]
    assert await videos.count_visible(OWNER, GUILD, status="queued") == 3


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("FOX", ["mine_dm", "mine_elsewhere", "mine_here"]),
        ("%", ["mine_elsewhere"]),  # LIKE wildcards in the user's text match only themselves
        ("_", ["mine_dm"]),
        ("", ["member_here", "mine_dm", "mine_elsewhere", "mine_here"]),
        ("owl", ["member_here"]),
        ("dog", []),
    ],
)
async def test_list_visible_by_prompt_text(
    videos: VideoRepository, text: str, expected: list[str]
) -> None:
    await make_library(videos)
    assert ids(await videos.list_visible(OWNER, GUILD, text=text)) == expected
    assert await videos.count_visible(OWNER, GUILD, text=text) == len(expected)


async def test_list_visible_pages(videos: VideoRepository) -> None:
    await make_library(videos)
    assert await videos.count_visible(OWNER, GUILD) == 4
    assert ids(await videos.list_visible(OWNER, GUILD, limit=3)) == [
        "member_here",
        "mine_dm",
        "mine_elsewhere",
    ]
    assert ids(await videos.list_visible(OWNER, GUILD, limit=3, offset=3)) == ["mine_here"]
    assert await videos.list_visible(OWNER, GUILD, limit=3, offset=6) == []
