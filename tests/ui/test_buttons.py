"""Result-card buttons and forms: v2 ids carry the bot's key, v1 ids of older cards still work,
the buttons a card shows, and prompt forms read back from their payload."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import discord
import pytest

from bot.storage.videos import NOT_CONFIRMED
from bot.ui.buttons import (
    ACTION_EVENT,
    ACTIONS,
    FORM_ACTIONS,
    FORM_TEMPLATE,
    PROMPT_MAX,
    TEMPLATE,
    FormAnswer,
    VideoAction,
    confirm_delete_view,
    custom_id,
    prompt_form,
    read_form,
    result_view,
)
from bot.videoapi.models import Operation
from tests.rows import video_row

# A gateway's id at the contract's limit, with the characters base64 brings.
LONG_ID = ("video_" + "Zm9v/YmFy=" * 60)[:512]
ROW = video_row(key=4711, id=LONG_ID, prompt="a cat", completed_at=1020)
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


# -- which buttons a card shows ---------------------------------------------------------------

ALL = ["remix", "extend", "edit", "thumbnail", "spritesheet", "delete"]
FAILED: dict[str, Any] = {"status": "failed"}
SERVED_BY_A_CARD = {
    Operation.REMIX,
    Operation.EXTEND,
    Operation.EDIT,
    Operation.DOWNLOAD,
    Operation.DELETE,
}


def actions_of(view: discord.ui.View | None) -> list[str] | None:
    if view is None:
        return None
    items = [item for item in view.children if isinstance(item, VideoAction)]
    assert len(items) == len(view.children)
    assert view.timeout is None
    return [item.action for item in items]


@pytest.mark.parametrize(
    ("changes", "shown"),
    [
        pytest.param({}, ALL, id="completed"),
        pytest.param({"status": "queued", "progress": 0}, None, id="queued"),
        pytest.param({"status": "in_progress", "progress": 50}, None, id="in-progress"),
        pytest.param({"deleted_at": 5.0}, None, id="deleted"),
        pytest.param(FAILED | {"error_code": "moderation_blocked"}, ["delete"], id="failed"),
        pytest.param(FAILED | {"error_code": "expired"}, ["delete"], id="expired"),
        pytest.param(FAILED | {"error_code": NOT_CONFIRMED}, ["retry"], id="unconfirmed"),
        pytest.param(FAILED | {"error_code": "retried"}, ["delete"], id="retried"),
    ],
)
def test_result_view_per_state(changes: dict[str, Any], shown: list[str] | None) -> None:
    assert actions_of(result_view(replace(ROW, **changes), frozenset())) == shown


@pytest.mark.parametrize(
    ("unsupported", "shown"),
    [
        ({Operation.REMIX}, ["extend", "edit", "thumbnail", "spritesheet", "delete"]),
        ({Operation.EXTEND, Operation.EDIT}, ["remix", "thumbnail", "spritesheet", "delete"]),
        ({Operation.DOWNLOAD}, ["remix", "extend", "edit", "delete"]),
        ({Operation.DELETE}, ["remix", "extend", "edit", "thumbnail", "spritesheet"]),
        # Create and list say nothing about a finished video's buttons.
        ({Operation.CREATE, Operation.LIST}, ALL),
        (SERVED_BY_A_CARD, None),
    ],
)
def test_result_view_leaves_off_what_the_provider_does_not_serve(
    unsupported: set[Operation], shown: list[str] | None
) -> None:
    assert actions_of(result_view(ROW, frozenset(unsupported))) == shown


def test_retry_needs_create_and_delete_needs_delete() -> None:
    unconfirmed = replace(ROW, status="failed", error_code=NOT_CONFIRMED)
    assert result_view(unconfirmed, frozenset({Operation.CREATE})) is None
    assert actions_of(result_view(unconfirmed, frozenset({Operation.DELETE}))) == ["retry"]
    failed = replace(ROW, status="failed", error_code="timeout")
    assert result_view(failed, frozenset({Operation.DELETE})) is None


def test_every_button_of_a_long_id_fits_and_reads_back() -> None:
    unconfirmed = replace(ROW, status="failed", error_code=NOT_CONFIRMED)
    views = [result_view(ROW, frozenset()), result_view(unconfirmed, frozenset())]
    views.append(confirm_delete_view(ROW))
    ids = [item.custom_id for view in views if view is not None for item in view.children]  # type: ignore[attr-defined]
    assert len(ids) == len(ALL) + 2
    for value in ids:
        assert len(value) < DISCORD_CUSTOM_ID_MAX
        assert compiled().fullmatch(value) is not None
        assert ROW.id not in value


def test_confirm_delete_view() -> None:
    assert actions_of(confirm_delete_view(ROW)) == ["confirm-delete"]


async def test_a_click_is_handed_to_the_video_action_event() -> None:
    dispatched: list[tuple[object, ...]] = []

    class Client:
        def dispatch(self, event: str, *args: object) -> None:
            dispatched.append((event, *args))

    class Interaction:
        client = Client()

    interaction: Any = Interaction()
    await VideoAction.of("thumbnail", ROW).callback(interaction)
    assert dispatched == [(ACTION_EVENT, interaction, "thumbnail", "#4711")]


# -- prompt forms ------------------------------------------------------------------------------


@pytest.mark.parametrize("action", FORM_ACTIONS)
def test_a_prompt_forms_id_carries_its_action_and_the_key(action: str) -> None:
    form = prompt_form(action, ROW, ("4", "8"))
    assert form.custom_id == f"videobot:v2:form:{action}:4711"
    assert len(form.custom_id) < DISCORD_CUSTOM_ID_MAX
    assert FORM_TEMPLATE.fullmatch(form.custom_id) is not None
    assert form.title == f"{action.capitalize()} this video"
    inputs = [item for item in form.children if isinstance(item, discord.ui.TextInput)]
    prompt = inputs[0]
    assert (prompt.custom_id, prompt.style, prompt.max_length) == (
        "prompt",
        discord.TextStyle.paragraph,
        PROMPT_MAX,
    )
    assert [item.custom_id for item in inputs[1:]] == (["seconds"] if action == "extend" else [])


def test_the_extend_form_offers_the_providers_lengths() -> None:
    sent = prompt_form("extend", ROW, ("4", "8", "12")).to_dict()
    seconds = sent["components"][1]["components"][0]
    assert (seconds["custom_id"], seconds["label"], seconds["value"]) == (
        "seconds",
        "Seconds to add (4, 8, 12)",
        "4",
    )


def action_rows(**values: str) -> dict[str, Any]:
    """A modal submit as Discord sent it with action rows (type 1) around the inputs."""
    return {
        "custom_id": "ignored",
        "components": [
            {"type": 1, "components": [{"type": 4, "custom_id": name, "value": value}]}
            for name, value in values.items()
        ],
    }


def labels(**values: str) -> dict[str, Any]:
    """The same with label components (type 18), each holding one `component`."""
    return {
        "components": [
            {"type": 18, "component": {"type": 4, "custom_id": name, "value": value}}
            for name, value in values.items()
        ]
    }


@pytest.mark.parametrize("shape", [action_rows, labels], ids=["action-rows", "labels"])
def test_read_form_reads_both_payload_shapes(shape: Callable[..., dict[str, Any]]) -> None:
    answer = read_form("videobot:v2:form:extend:4711", shape(prompt="and then", seconds=" 8 "))
    assert answer == FormAnswer("extend", "#4711", "and then", "8")
    remix = read_form("videobot:v2:form:remix:4711", shape(prompt="in winter"))
    assert remix == FormAnswer("remix", "#4711", "in winter", None)


def test_read_form_takes_a_missing_value_as_empty() -> None:
    data = {"components": [{"type": 1, "components": [{"type": 4, "custom_id": "prompt"}]}]}
    assert read_form("videobot:v2:form:edit:1", data) == FormAnswer("edit", "#1", "", None)
    assert read_form("videobot:v2:form:edit:1", {}) == FormAnswer("edit", "#1", "", None)


@pytest.mark.parametrize(
    "value",
    [
        "videobot:v2:remix:4711",
        "videobot:v2:form:delete:4711",
        "videobot:v2:form:remix:video_1",
        "videobot:v1:form:remix:4711",
        "videobot:v2:form:remix:4711:extra",
        "someone-else:form",
    ],
)
def test_read_form_is_none_for_anything_but_a_prompt_form(value: str) -> None:
    assert read_form(value, action_rows(prompt="x")) is None
