"""Rows named by the bot's `#key` or the provider's id; what the bot asked fills what it omits."""

from __future__ import annotations

import pytest

from bot.storage import CharacterRepository, Database, VideoRepository, VideoRow
from bot.storage.videos import parse_ref
from bot.videoapi.models import Video

from .helpers import CHANNEL, CREATED_AT, GUILD, MEMBER, OTHER_GUILD, OWNER, Clock, add_video

STRANGER = 333
# LiteLLM's ids: base64 with '=' and '/', far past a custom id's 100 characters.
LONG_ID = "video_" + "aGVsbG8/d29ybGQ=" * 31 + "ab"


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("#12", 12),
        (" #12 ", 12),
        ("#1", 1),
        ("#007", 7),
        ("12", None),
        ("#", None),
        ("", None),
        ("#1a", None),
        ("#-1", None),
        ("#+1", None),
        ("# 12", None),
        ("##12", None),
        ("#1.5", None),
        ("#\u0661\u0662", None),  # Arabic-Indic digits: str.isdigit() says yes
        ("#\uff11\uff12", None),  # fullwidth digits
        ("video_12", None),
    ],
)
def test_parse_ref(text: str, key: int | None) -> None:
    assert parse_ref(text) == key


async def insert(videos: VideoRepository, video: Video, **options: object) -> VideoRow:
    defaults: dict[str, object] = {
        "owner_id": OWNER,
        "guild_id": GUILD,
        "channel_id": CHANNEL,
        "kind": "create",
        "prompt": "a cat",
        "model": "sora-2",
        "size": "720x1280",
        "seconds": "4",
    }
    return await videos.insert(video, **(defaults | options))  # type: ignore[arg-type]


# Who may see a video: (where it was made, who asks, where they ask, whether they see it).
SCOPES = pytest.mark.parametrize(
    ("made_in", "user_id", "guild_id", "visible"),
    [
        pytest.param(GUILD, OWNER, GUILD, True, id="owner-in-the-guild"),
        pytest.param(GUILD, OWNER, None, True, id="owner-in-a-dm"),
        pytest.param(GUILD, MEMBER, GUILD, True, id="member-of-the-guild"),
        pytest.param(GUILD, MEMBER, OTHER_GUILD, False, id="member-in-another-guild"),
        pytest.param(GUILD, MEMBER, None, False, id="member-in-a-dm"),
        pytest.param(None, OWNER, GUILD, True, id="dm-video-owner-in-a-guild"),
        pytest.param(None, STRANGER, None, False, id="dm-video-someone-else-in-a-dm"),
    ],
)


@SCOPES
async def test_visible_by_key_and_by_provider_id_follow_the_same_scope(
    videos: VideoRepository, made_in: int | None, user_id: int, guild_id: int | None, visible: bool
) -> None:
    await add_video(videos, "video_0", owner_id=STRANGER, guild_id=OTHER_GUILD)
    row = await add_video(videos, LONG_ID, guild_id=made_in)
    assert row.key == 2
    assert row.ref == "#2"
    expected = row if visible else None
    assert await videos.visible("#2", user_id, guild_id) == expected
    assert await videos.visible(" #2 ", user_id, guild_id) == expected
    assert await videos.visible(LONG_ID, user_id, guild_id) == expected


@SCOPES
async def test_a_card_is_visible_by_the_same_scope(
    videos: VideoRepository, made_in: int | None, user_id: int, guild_id: int | None, visible: bool
) -> None:
    other = await add_video(videos, "video_0", owner_id=STRANGER, guild_id=OTHER_GUILD)
    await videos.set_status_message(other.id, channel_id=CHANNEL, message_id=40)
    row = await add_video(videos, "video_1", guild_id=made_in)
    await videos.set_status_message(row.id, channel_id=CHANNEL, message_id=41)
    shown = await videos.get(row.id)

    assert await videos.visible_card(41, user_id, guild_id) == (shown if visible else None)


async def test_a_deleted_videos_card_is_visible_to_nobody(videos: VideoRepository) -> None:
    row = await add_video(videos, "video_1")
    await videos.set_status_message(row.id, channel_id=CHANNEL, message_id=41)
    await videos.mark_deleted(row.id)

    assert await videos.visible_card(41, OWNER, GUILD) is None
    assert await videos.visible_card(42, OWNER, GUILD) is None


async def test_a_key_names_only_its_own_row(videos: VideoRepository) -> None:
    first = await add_video(videos, "video_1")
    second = await add_video(videos, "video_2")
    assert (first.key, second.key) == (1, 2)
    assert await videos.visible("#1", OWNER, GUILD) == first
    assert await videos.visible("#2", OWNER, GUILD) == second
    assert await videos.visible("#3", OWNER, GUILD) is None
    # A key is not a provider's id, nor the other way round.
    assert await videos.visible("2", OWNER, GUILD) is None
    assert await videos.visible("#video_1", OWNER, GUILD) is None


async def test_a_provider_id_that_looks_like_a_ref_is_still_found_by_its_key(
    videos: VideoRepository,
) -> None:
    row = await add_video(videos, "#99")
    assert await videos.visible("#1", OWNER, GUILD) == row
    # `#99` is read as a key, and there is no row 99.
    assert await videos.visible("#99", OWNER, GUILD) is None


async def test_a_deleted_video_is_invisible_by_key_too(videos: VideoRepository) -> None:
    await add_video(videos, "video_1")
    await videos.mark_deleted("video_1")
    assert await videos.visible("#1", OWNER, GUILD) is None


@pytest.mark.parametrize("ref", ["#" + "9" * 19, "#" + "9" * 40])
async def test_a_key_too_large_for_sqlite_is_simply_not_found(
    db: Database, videos: VideoRepository, ref: str
) -> None:
    # Typed into /videos by hand: an unknown reference, not a crash.
    await add_video(videos, "video_1")
    assert await videos.visible(ref, OWNER, GUILD) is None
    assert await CharacterRepository(db).visible(ref, OWNER) is None


async def test_insert_fills_what_the_provider_left_out_from_what_was_asked(
    videos: VideoRepository, clock: Clock
) -> None:
    bare = Video.model_validate({"id": "video_1", "status": "pending"})
    row = await insert(videos, bare, model="wan2.2", size="832x480", seconds="5")
    stored = await videos.get("video_1")
    assert stored == row
    assert stored is not None
    assert (stored.model, stored.size, stored.seconds) == ("wan2.2", "832x480", "5")
    assert stored.created_at == int(clock.now)
    assert stored.status == "queued"
    assert stored.prompt == "a cat"


async def test_insert_keeps_what_the_provider_answered(videos: VideoRepository) -> None:
    # An extension's seconds are the stitched total the provider reports.
    answer = Video.model_validate(
        {
            "id": "video_1",
            "status": "queued",
            "model": "sora-2-pro",
            "size": "1280x720",
            "seconds": 12,
            "created_at": str(CREATED_AT),
        }
    )
    await insert(videos, answer, model="sora-2", size="720x1280", seconds="4")
    stored = await videos.get("video_1")
    assert stored is not None
    assert (stored.model, stored.size, stored.seconds, stored.created_at) == (
        "sora-2-pro",
        "1280x720",
        "12",
        CREATED_AT,
    )


async def test_keys_keep_counting_after_the_newest_row_is_gone(videos: VideoRepository) -> None:
    await add_video(videos, "video_1")
    await add_video(videos, "video_2")
    await videos.mark_deleted("video_2")
    third = await add_video(videos, "video_3")
    assert third.key == 3


async def test_a_refresh_keyed_by_the_stored_id_applies_an_answer_with_another_id(
    videos: VideoRepository, clock: Clock
) -> None:
    await add_video(videos, LONG_ID)
    clock.now += 5
    # LiteLLM answers with the id re-encoded.
    answer = Video.model_validate(
        {"id": "video_reencoded", "status": "succeeded", "completed_at": CREATED_AT + 60}
    )

    [changed] = await videos.apply_refreshes({LONG_ID: answer})

    assert changed.id == LONG_ID
    assert (changed.status, changed.progress, changed.completed_at) == (
        "completed",
        100,
        CREATED_AT + 60,
    )
    assert await videos.get(LONG_ID) == changed
    assert await videos.get("video_reencoded") is None


async def test_apply_refresh_with_the_asked_id(videos: VideoRepository) -> None:
    await add_video(videos, "video_1")
    answer = Video.model_validate({"id": "other", "status": "processing", "progress": 30})

    changed = await videos.apply_refresh(answer, "video_1")

    assert changed is not None
    assert (changed.id, changed.status, changed.progress) == ("video_1", "in_progress", 30)


async def test_an_answer_about_no_stored_id_changes_nothing(videos: VideoRepository) -> None:
    row = await add_video(videos, "video_1")
    answer = Video.model_validate({"id": "video_1", "status": "completed"})

    assert await videos.apply_refreshes({"video_unknown": answer}) == []

    assert await videos.get("video_1") == row
