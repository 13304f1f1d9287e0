"""Buttons and forms on result cards that work on cards posted before a restart.

Each button is a DynamicItem whose custom id names an action and the bot's own key of a video,
`videobot:v2:<action>:<key>`: a provider's id may be far longer than the 100 characters a
custom id holds. Cards posted before keys existed carry `videobot:v1:<action>:<provider's id>`
and keep working. A click is handed to whoever listens for `on_video_action` (the results
cog): this module only draws, and the video's state is read at click time, never from the id.
Forms (modals) carry `videobot:v2:form:<action>:<key>`, so a form opened before a restart is
still answered after it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final

import discord

from bot.storage import VideoRow
from bot.storage.videos import NOT_CONFIRMED, REF_PREFIX
from bot.videoapi.models import Operation

PREFIX: Final = "videobot:v2"
ACTIONS: Final = (
    "remix",
    "extend",
    "edit",
    "thumbnail",
    "spritesheet",
    "delete",
    "confirm-delete",
    "retry",
    "cancel",
)
FORM_ACTIONS: Final = ("remix", "extend", "edit")
_ONE_OF: Final = "|".join(ACTIONS)
TEMPLATE: Final = (
    rf"videobot:(?:v2:(?P<action>{_ONE_OF}):(?P<key>[0-9]{{1,18}})"
    rf"|v1:(?P<old_action>{_ONE_OF}):(?P<video_id>[A-Za-z0-9_-]{{1,80}}))"
)
FORM_TEMPLATE: Final = re.compile(
    rf"{PREFIX}:form:(?P<action>{'|'.join(FORM_ACTIONS)}):(?P<key>[0-9]{{1,18}})"
)
ACTION_EVENT: Final = "video_action"
LOOKS: Final[dict[str, tuple[str, str, discord.ButtonStyle]]] = {
    "remix": ("Remix", "🎛️", discord.ButtonStyle.primary),
    "extend": ("Extend", "⏩", discord.ButtonStyle.primary),
    "edit": ("Edit", "✏️", discord.ButtonStyle.secondary),
    "thumbnail": ("Thumbnail", "🖼️", discord.ButtonStyle.secondary),
    "spritesheet": ("Spritesheet", "🎞️", discord.ButtonStyle.secondary),
    "delete": ("Delete", "🗑️", discord.ButtonStyle.danger),
    "confirm-delete": ("Yes, delete it", "🗑️", discord.ButtonStyle.danger),
    "retry": ("Retry (a new, billed job)", "🔁", discord.ButtonStyle.primary),
    "cancel": ("Cancel", "✖️", discord.ButtonStyle.secondary),
}
# What each button needs of the provider: a button for a missing operation is left off.
NEEDS: Final[dict[str, Operation]] = {
    "remix": Operation.REMIX,
    "extend": Operation.EXTEND,
    "edit": Operation.EDIT,
    "thumbnail": Operation.DOWNLOAD,
    "spritesheet": Operation.DOWNLOAD,
    "delete": Operation.DELETE,
    "retry": Operation.CREATE,
}
PROMPT_MAX: Final = 4000
SECONDS_MAX_CHARS: Final = 4
STALE: Final = "This button no longer works; run the command again."


def custom_id(action: str, row: VideoRow) -> str:
    return f"{PREFIX}:{action}:{row.key}"


class VideoAction(discord.ui.DynamicItem[discord.ui.Button[Any]], template=TEMPLATE):
    def __init__(self, action: str, ref: str, custom_id: str) -> None:
        label, emoji, style = LOOKS[action]
        button: discord.ui.Button[Any] = discord.ui.Button(
            label=label, emoji=emoji, style=style, custom_id=custom_id
        )
        super().__init__(button)
        self.action = action
        # `#key`, or a provider's id from a card of before keys: both find the row.
        self.ref = ref

    @classmethod
    def of(cls, action: str, row: VideoRow) -> VideoAction:
        return cls(action, row.ref, custom_id(action, row))

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> VideoAction:
        if match["key"] is not None:
            return cls(match["action"], f"{REF_PREFIX}{match['key']}", match.string)
        return cls(match["old_action"], match["video_id"], match.string)

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        interaction.client.dispatch(ACTION_EVENT, interaction, self.action, self.ref)


def result_view(row: VideoRow, unsupported: frozenset[Operation]) -> discord.ui.View | None:
    """The buttons a card shows for its job's state and what the provider serves.

    None while it runs, once deleted, or when the provider serves none of them.
    """
    if row.deleted_at is not None or not row.finished:
        return None
    actions: tuple[str, ...] = ("remix", "extend", "edit", "thumbnail", "spritesheet", "delete")
    if row.error_code == NOT_CONFIRMED:
        actions = ("retry",)
    elif row.status == "failed":
        actions = ("delete",)
    return _view(row, [a for a in actions if NEEDS[a] not in unsupported])


def waiting_view(row: VideoRow) -> discord.ui.View:
    """A waiting job's card: its owner may take it out of line."""
    view = _view(row, ["cancel"])
    assert view is not None  # one button, always shown
    return view


def confirm_delete_view(row: VideoRow) -> discord.ui.View | None:
    return _view(row, ["confirm-delete"])


def _view(row: VideoRow, actions: list[str]) -> discord.ui.View | None:
    if not actions:
        return None
    view = discord.ui.View(timeout=None)
    for action in actions:
        view.add_item(VideoAction.of(action, row))
    return view


def prompt_form(action: str, row: VideoRow, seconds: tuple[str, ...]) -> discord.ui.Modal:
    """The prompt form of a Remix, Extend or Edit button; answered by its custom id alone."""
    # Not kept in memory for long: a submit is read from its payload, also after a restart.
    form = discord.ui.Modal(
        title=f"{action.capitalize()} this video",
        custom_id=f"{PREFIX}:form:{action}:{row.key}",
        timeout=1.0,
    )
    form.add_item(
        discord.ui.TextInput(
            label="Prompt",
            custom_id="prompt",
            style=discord.TextStyle.paragraph,
            max_length=PROMPT_MAX,
        )
    )
    if action == "extend":
        form.add_item(
            discord.ui.TextInput(
                label=f"Seconds to add ({', '.join(seconds)})",
                custom_id="seconds",
                default=seconds[0],
                max_length=SECONDS_MAX_CHARS,
            )
        )
    return form


@dataclass(frozen=True, slots=True)
class FormAnswer:
    action: str
    ref: str
    prompt: str
    seconds: str | None


def read_form(custom_id: str, data: dict[str, Any]) -> FormAnswer | None:
    """A submitted prompt form, from the interaction's payload; None if it is not one."""
    match = FORM_TEMPLATE.fullmatch(custom_id)
    if match is None:
        return None
    values: dict[str, str] = {}
    for row in data.get("components") or []:
        for item in row.get("components") or [row.get("component") or {}]:
            if "custom_id" in item:
                values[str(item["custom_id"])] = str(item.get("value") or "")
    return FormAnswer(
        match["action"],
        f"{REF_PREFIX}{match['key']}",
        values.get("prompt", ""),
        values["seconds"].strip() if "seconds" in values else None,
    )
