"""Result-card buttons: v2 custom ids carry the bot's key; v1 ids from older cards still work."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import pytest

from bot.storage import VideoRow
from bot.ui.buttons import ACTIONS, TEMPLATE, VideoAction, custom_id

# A gateway's id at the contract's limit, with the characters base64 brings.
LONG_ID = ("video_" + "Zm9v/YmFy=" * 60)[:512]
ROW = VideoRow(
    key=4711,
    id=LONG_ID,
    owner_id=1,
    guild_id=2,
    channel_id=3,
    status_message_id=None,
    kind="create",
    parent_id=None,
    prompt="a cat",
    model="sora-2",
    size="720x1280",
    seconds="4",
    status="completed",
    progress=100,
    error_code=None,
    error_message=None,
    cost=0.4,
    created_at=1000,
    updated_at=1000.0,
    completed_at=1020,
    expires_at=None,
    delivered_at=None,
    deleted_at=None,
)
DISCORD_CUSTOM_ID_MAX = 100


def compiled() -> re.Pattern[str]:
    """The pattern discord.py matches clicks against (with fullmatch) for this item."""
    pattern: re.Pattern[str] = VideoAction.__discord_ui_compiled_template__
    assert pattern.pattern == TEMPLATE
    return pattern


async def from_custom_id(value: str) -> VideoAction:
    match = compiled().fullmatch(value)
    assert match is not None, value
    none: Any = None
    return await VideoAction.from_custom_id(none, none, match)


@pytest.mark.parametrize("action", ACTIONS)
async def test_a_button_carries_the_key_not_the_providers_id(action: str) -> None:
    assert (len(ROW.id), {"=", "/"} <= set(ROW.id)) == (512, True)
    item = VideoAction.of(action, ROW)
    assert item.custom_id == f"videobot:v2:{action}:4711"
    assert custom_id(action, ROW) == item.custom_id
    assert len(item.custom_id) < DISCORD_CUSTOM_ID_MAX
    assert item.ref == "#4711"
    assert item.action == action


async def test_the_largest_key_still_fits() -> None:
    item = VideoAction.of("confirm-delete", replace(ROW, key=10**18 - 1))
    assert len(item.custom_id) < DISCORD_CUSTOM_ID_MAX
    assert compiled().fullmatch(item.custom_id) is not None


@pytest.mark.parametrize("action", ACTIONS)
async def test_a_v2_id_reads_back_as_the_rows_ref(action: str) -> None:
    item = await from_custom_id(f"videobot:v2:{action}:4711")
    assert (item.action, item.ref) == (action, "#4711")
    assert item.custom_id == f"videobot:v2:{action}:4711"


@pytest.mark.parametrize("action", ACTIONS)
async def test_a_v1_id_from_an_older_card_reads_back_as_the_providers_id(action: str) -> None:
    old = f"videobot:v1:{action}:video_68d7512d07848190b3e45da0ecbebcde"
    item = await from_custom_id(old)
    assert (item.action, item.ref) == (action, "video_68d7512d07848190b3e45da0ecbebcde")
    # The button keeps the id it was posted with, so Discord still routes it here.
    assert item.custom_id == old


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("videobot:v1:page:1:0::0", id="library-page"),
        pytest.param("videobot:v1:page:111:222:completed:3", id="library-page-filtered"),
        pytest.param("videobot:v1:vote:42", id="contest-vote"),
        pytest.param("videobot:v2:vote:42", id="vote-as-v2"),
        pytest.param("videobot:v2:remix:video_1", id="v2-with-a-provider-id"),
        pytest.param("videobot:v2:remix:", id="v2-without-a-key"),
        pytest.param("videobot:v2:remix:" + "1" * 19, id="v2-key-too-long"),
        pytest.param("videobot:v1:remix:" + "a" * 81, id="v1-id-too-long"),
        pytest.param("videobot:v1:remix:abc=", id="v1-id-with-base64-padding"),
        pytest.param("videobot:v3:remix:1", id="unknown-version"),
        pytest.param("videobot:v2:download:1", id="unknown-action"),
        pytest.param("videobot:v2:remix:1:extra", id="trailing-text"),
    ],
)
def test_other_custom_ids_are_not_video_actions(value: str) -> None:
    assert compiled().fullmatch(value) is None


@pytest.mark.parametrize(
    "value",
    [
        "videobot:v2:remix:1",
        "videobot:v2:confirm-delete:123456789012345678",
        "videobot:v1:edit:a-b_C",
    ],
)
def test_video_action_ids_match(value: str) -> None:
    assert compiled().fullmatch(value) is not None
