"""Result-card buttons and forms: the one table they come from, v2 ids carry the bot's key, v1
ids of older cards still work, the buttons a card shows, and prompt forms read back from their
payload. How a click or a submit is routed to its handler: tests/ui/test_routing.py."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import discord
import pytest

from bot.interactions.buttons import (
    ACTIONS,
    FORM_TEMPLATE,
    PROMPT,
    PROMPT_MAX,
    SECONDS,
    TEMPLATE,
    PromptForm,
    VideoAction,
    Who,
    confirm_delete_view,
    prompt_form,
    result_buttons,
    waiting_buttons,
)
from bot.jobs.requests import OPERATIONS
from bot.storage.videos import NOT_CONFIRMED
from bot.videoapi.models import Operation
from tests.rows import video_row

FORM_ACTIONS = [name for name, action in ACTIONS.items() if action.form]

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
    item = ACTIONS[action].button(ROW)
    assert item.custom_id == f"videobot:v2:{action}:4711"
    assert len(item.custom_id) < DISCORD_CUSTOM_ID_MAX
    assert item.ref == "#4711"
    assert item.action is ACTIONS[action]


async def test_the_largest_key_still_fits() -> None:
    item = ACTIONS["confirm-delete"].button(replace(ROW, key=10**18 - 1))
    assert len(item.custom_id) < DISCORD_CUSTOM_ID_MAX
    assert compiled().fullmatch(item.custom_id) is not None


@pytest.mark.parametrize("action", ACTIONS)
async def test_a_v2_id_reads_back_as_the_rows_ref(action: str) -> None:
    item = await from_custom_id(f"videobot:v2:{action}:4711")
    assert (item.action.name, item.ref) == (action, "#4711")
    assert item.custom_id == f"videobot:v2:{action}:4711"


@pytest.mark.parametrize("action", ACTIONS)
async def test_a_v1_id_from_an_older_card_reads_back_as_the_providers_id(action: str) -> None:
    old = f"videobot:v1:{action}:video_68d7512d07848190b3e45da0ecbebcde"
    item = await from_custom_id(old)
    assert (item.action.name, item.ref) == (action, "video_68d7512d07848190b3e45da0ecbebcde")
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


def actions_of(items: Sequence[discord.ui.Item[Any]]) -> list[str]:
    assert all(isinstance(item, VideoAction) for item in items)
    return [item.action.name for item in items if isinstance(item, VideoAction)]


@pytest.mark.parametrize(
    ("changes", "shown"),
    [
        pytest.param({}, ALL, id="completed"),
        pytest.param({"status": "queued", "progress": 0}, [], id="queued"),
        pytest.param({"status": "in_progress", "progress": 50}, [], id="in-progress"),
        pytest.param({"deleted_at": 5.0}, [], id="deleted"),
        pytest.param(FAILED | {"error_code": "moderation_blocked"}, ["delete"], id="failed"),
        pytest.param(FAILED | {"error_code": "expired"}, ["delete"], id="expired"),
        pytest.param(FAILED | {"error_code": NOT_CONFIRMED}, ["retry"], id="unconfirmed"),
        pytest.param(FAILED | {"error_code": "retried"}, ["delete"], id="retried"),
    ],
)
def test_result_buttons_per_state(changes: dict[str, Any], shown: list[str]) -> None:
    assert actions_of(result_buttons(replace(ROW, **changes), frozenset())) == shown


@pytest.mark.parametrize(
    ("unsupported", "shown"),
    [
        ({Operation.REMIX}, ["extend", "edit", "thumbnail", "spritesheet", "delete"]),
        ({Operation.EXTEND, Operation.EDIT}, ["remix", "thumbnail", "spritesheet", "delete"]),
        ({Operation.DOWNLOAD}, ["remix", "extend", "edit", "delete"]),
        ({Operation.DELETE}, ["remix", "extend", "edit", "thumbnail", "spritesheet"]),
        # Create and list say nothing about a finished video's buttons.
        ({Operation.CREATE, Operation.LIST}, ALL),
        (SERVED_BY_A_CARD, []),
    ],
)
def test_result_buttons_leave_off_what_the_provider_does_not_serve(
    unsupported: set[Operation], shown: list[str]
) -> None:
    assert actions_of(result_buttons(ROW, frozenset(unsupported))) == shown


def test_retry_needs_create_and_delete_needs_delete() -> None:
    unconfirmed = replace(ROW, status="failed", error_code=NOT_CONFIRMED)
    assert result_buttons(unconfirmed, frozenset({Operation.CREATE})) == []
    assert actions_of(result_buttons(unconfirmed, frozenset({Operation.DELETE}))) == ["retry"]
    failed = replace(ROW, status="failed", error_code="timeout")
    assert result_buttons(failed, frozenset({Operation.DELETE})) == []


def test_every_button_of_a_long_id_fits_and_reads_back() -> None:
    unconfirmed = replace(ROW, status="failed", error_code=NOT_CONFIRMED)
    items = [*result_buttons(ROW, frozenset()), *result_buttons(unconfirmed, frozenset())]
    items += confirm_delete_view(ROW).children
    ids = [item.custom_id for item in items]  # type: ignore[attr-defined]
    assert len(ids) == len(ALL) + 2
    for value in ids:
        assert len(value) < DISCORD_CUSTOM_ID_MAX
        assert compiled().fullmatch(value) is not None
        assert ROW.id not in value


def test_confirm_delete_view() -> None:
    view = confirm_delete_view(ROW)
    assert view.timeout is None
    assert actions_of(view.children) == ["confirm-delete"]


def test_waiting_buttons() -> None:
    assert actions_of(waiting_buttons(replace(ROW, status="queued"))) == ["cancel"]


# -- prompt forms ------------------------------------------------------------------------------


@pytest.mark.parametrize("action", FORM_ACTIONS)
def test_a_prompt_forms_id_carries_its_action_and_the_key(action: str) -> None:
    form = prompt_form(ACTIONS[action], ROW, ("4", "8"))
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
    sent = prompt_form(ACTIONS["extend"], ROW, ("4", "8", "12")).to_dict()
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


def read_form(custom_id: str, data: dict[str, Any]) -> tuple[str, str, dict[str, str]] | None:
    form = PromptForm.from_custom_id(custom_id, data)
    return None if form is None else (form.action.name, form.ref, dict(form.values))


@pytest.mark.parametrize("shape", [action_rows, labels], ids=["action-rows", "labels"])
def test_read_form_reads_both_payload_shapes(shape: Callable[..., dict[str, Any]]) -> None:
    answer = read_form("videobot:v2:form:extend:4711", shape(prompt="and then", seconds=" 8 "))
    # The seconds are stripped by the handler (tests/ui/test_routing.py).
    assert answer == ("extend", "#4711", {"prompt": "and then", "seconds": " 8 "})
    remix = read_form("videobot:v2:form:remix:4711", shape(prompt="in winter"))
    assert remix == ("remix", "#4711", {"prompt": "in winter"})


def test_read_form_takes_a_missing_value_as_empty() -> None:
    data = {"components": [{"type": 1, "components": [{"type": 4, "custom_id": "prompt"}]}]}
    assert read_form("videobot:v2:form:edit:1", data) == ("edit", "#1", {"prompt": ""})
    assert read_form("videobot:v2:form:edit:1", {}) == ("edit", "#1", {})


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


# -- the table --------------------------------------------------------------------------------


def test_the_table_is_the_one_list_of_actions() -> None:
    # Today's cards, ids and forms, exactly: changing one breaks buttons already posted.
    assert list(ACTIONS) == [
        "remix",
        "extend",
        "edit",
        "thumbnail",
        "spritesheet",
        "delete",
        "confirm-delete",
        "retry",
        "cancel",
    ]
    assert FORM_ACTIONS == ["remix", "extend", "edit"]
    for name, action in ACTIONS.items():
        assert action.name == name
        assert compiled().fullmatch(f"videobot:v2:{name}:1") is not None
        assert compiled().fullmatch(f"videobot:v1:{name}:video_1") is not None
        form_id = f"videobot:v2:form:{name}:1"
        assert (FORM_TEMPLATE.fullmatch(form_id) is not None) == bool(action.form)


@pytest.mark.parametrize("action", FORM_ACTIONS)
def test_a_form_builds_on_the_video_with_the_operation_jobs_requires(action: str) -> None:
    # The core's map of derived kinds is where the table reads what each form needs.
    assert ACTIONS[action].needs is OPERATIONS[action]
    assert ACTIONS[action].form[0] is PROMPT
    assert ACTIONS[action].who is Who.VIEWER
    assert (SECONDS in ACTIONS[action].form) == (action == "extend")


def test_who_may_press_each_button() -> None:
    who = {name: action.who for name, action in ACTIONS.items()}
    assert {name for name, w in who.items() if w is Who.OWNER_OR_MODERATOR} == {
        "delete",
        "confirm-delete",
    }
    assert {name for name, w in who.items() if w is Who.OWNER} == {"retry", "cancel"}


def test_a_button_draws_its_look_from_the_table() -> None:
    for action in ACTIONS.values():
        button = action.button(ROW).item
        assert (button.label, str(button.emoji), button.style) == (
            action.label,
            action.emoji,
            action.style,
        )
    assert (ACTIONS["delete"].label, ACTIONS["delete"].style) == (
        "Delete",
        discord.ButtonStyle.danger,
    )
