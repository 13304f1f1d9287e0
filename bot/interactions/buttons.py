"""Buttons and forms on result cards, from one table, that work on cards posted before a restart.

`ACTIONS` holds each button once: its look, what it needs of the provider, who may press it,
the fields of the form it opens (if any) and its handler. Cards draw their buttons from it, and
a click is routed through the button's own callback (a DynamicItem, as discord.py's
`dynamic_counter` example) to the handler the table names; the video's state is read from the
database at click time (RoboDanny's gatekeeper), never from the id.

A button's custom id names its action and the bot's own key of a video,
`videobot:v2:<action>:<key>`: a provider's id may be far longer than the 100 characters a custom
id holds. Cards posted before keys existed carry `videobot:v1:<action>:<provider's id>` and keep
working. Forms carry `videobot:v2:form:<action>:<key>` and are routed the same way by
`PromptForm`, from the submit's payload alone, so a form opened before a restart is still
answered after it.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Protocol, cast

import discord

from bot.delivery.posters import CardPoster, InteractionPoster
from bot.errors import UserError
from bot.interactions.tree import reply, report_error
from bot.interactions.who import asker_of, manages_messages
from bot.jobs.requests import OPERATIONS, DerivedKind, may_delete
from bot.storage import VideoRow
from bot.storage.videos import NOT_CONFIRMED, REF_PREFIX
from bot.videoapi.models import ContentVariant, Operation

if TYPE_CHECKING:
    from bot.interactions.cooldown import MemberCooldown
    from bot.jobs.service import Jobs

PREFIX: Final = "videobot:v2"
OURS: Final = "videobot:"
PROMPT_MAX: Final = 4000
SECONDS_MAX_CHARS: Final = 4
STALE: Final = "This button no longer works; run the command again."


class Delivery(Protocol):
    """What the handlers ask of bot.delivery.Delivery, whose module imports this one."""

    async def send_asset(
        self, row: VideoRow, variant: ContentVariant, interaction: discord.Interaction[Any]
    ) -> None: ...

    async def cancelled(self, row: VideoRow, interaction: discord.Interaction[Any]) -> None: ...


class Host(Protocol):
    """The parts of the bot the handlers use, read from `interaction.client` on each click."""

    @property
    def jobs(self) -> Jobs[CardPoster]: ...
    @property
    def delivery(self) -> Delivery: ...
    @property
    def asset_cooldown(self) -> MemberCooldown: ...


class Who(enum.Enum):
    """Who may press a button; checked on the row read at click time, before its handler runs."""

    # Anyone who may see the video here (the rule of VideoRepository.visible).
    VIEWER = "viewer"
    # Its owner, or a member who may manage messages where it was made.
    OWNER_OR_MODERATOR = "owner or moderator"
    # Its owner only; jobs says so in words of its own (cancel, retry).
    OWNER = "owner"


@dataclass(frozen=True, slots=True)
class Field:
    """One text input of a form; `seconds` ones offer the provider's extension lengths."""

    id: str
    label: str
    max_length: int
    paragraph: bool = False
    seconds: bool = False


PROMPT: Final = Field("prompt", "Prompt", PROMPT_MAX, paragraph=True)
SECONDS: Final = Field("seconds", "Seconds to add", SECONDS_MAX_CHARS, seconds=True)


@dataclass(frozen=True, slots=True)
class Press:
    """One press of a button (or submit of its form), with the row it acts on, read just now."""

    host: Host
    interaction: discord.Interaction[Any]
    row: VideoRow
    # A form's answers by field id; empty for a plain button.
    values: Mapping[str, str] = field(default_factory=dict)


Handler = Callable[[Press], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Action:
    name: str
    label: str
    emoji: str
    style: discord.ButtonStyle
    who: Who
    handler: Handler
    # An operation the provider lacks leaves the button off the card.
    needs: Operation | None = None
    # A button with fields opens a form; its handler answers the submitted form.
    form: tuple[Field, ...] = ()

    def button(self, row: VideoRow) -> VideoAction:
        return VideoAction(self, row.ref, f"{PREFIX}:{self.name}:{row.key}")


# -- handlers ---------------------------------------------------------------------------------


async def send_asset(
    host: Host, interaction: discord.Interaction[Any], row: VideoRow, variant: ContentVariant
) -> None:
    """An ephemeral reply carrying one of a video's files (the buttons and /videos download)."""
    host.jobs.downloadable(row)
    # Each of these may download and decode: one member's clicks must not hold everyone's media.
    host.asset_cooldown.hit(interaction.user.id)
    await host.delivery.send_asset(row, variant, interaction)


def _asset(variant: ContentVariant) -> Handler:
    async def handle(press: Press) -> None:
        await send_asset(press.host, press.interaction, press.row, variant)

    return handle


def _derive(kind: DerivedKind) -> Handler:
    """A remix, extension or edit of the pressed video, from its submitted form."""

    async def handle(press: Press) -> None:
        interaction, parent, values = press.interaction, press.row, press.values
        seconds = values[SECONDS.id].strip() if SECONDS.id in values else None
        jobs = press.host.jobs
        request = jobs.derived(
            kind,
            parent,
            values.get(PROMPT.id, ""),
            owner_id=interaction.user.id,
            guild_id=interaction.guild_id,
            channel_id=interaction.channel_id or parent.channel_id,
            seconds=seconds,
        )
        await jobs.start(request, InteractionPoster(interaction), asker_of(interaction))

    return handle


async def _ask_delete(press: Press) -> None:
    # The answer is a button too, so it survives a restart.
    await press.interaction.response.send_message(
        "Delete this video for everyone? This cannot be undone.",
        view=confirm_delete_view(press.row),
        ephemeral=True,
    )


async def _confirm_delete(press: Press) -> None:
    interaction = press.interaction
    await interaction.response.defer(ephemeral=True)
    await press.host.jobs.delete(press.row, interaction.user.id)
    await interaction.edit_original_response(content="Deleted.", view=None)


async def _retry(press: Press) -> None:
    interaction, row = press.interaction, press.row
    await press.host.jobs.retry(
        row,
        interaction.user.id,
        interaction.channel_id or row.channel_id,
        InteractionPoster(interaction),
        asker_of(interaction),
    )


async def _cancel(press: Press) -> None:
    interaction = press.interaction
    row = await press.host.jobs.cancel(press.row.ref, interaction.user.id, interaction.guild_id)
    await press.host.delivery.cancelled(row, interaction)


# -- the table --------------------------------------------------------------------------------

_PRIMARY, _SECONDARY, _DANGER = (
    discord.ButtonStyle.primary,
    discord.ButtonStyle.secondary,
    discord.ButtonStyle.danger,
)
ACTIONS: Final[Mapping[str, Action]] = {
    a.name: a
    for a in (
        Action(
            "remix",
            "Remix",
            "🎛️",
            _PRIMARY,
            Who.VIEWER,
            _derive("remix"),
            needs=OPERATIONS["remix"],
            form=(PROMPT,),
        ),
        Action(
            "extend",
            "Extend",
            "⏩",
            _PRIMARY,
            Who.VIEWER,
            _derive("extend"),
            needs=OPERATIONS["extend"],
            form=(PROMPT, SECONDS),
        ),
        Action(
            "edit",
            "Edit",
            "✏️",
            _SECONDARY,
            Who.VIEWER,
            _derive("edit"),
            needs=OPERATIONS["edit"],
            form=(PROMPT,),
        ),
        Action(
            "thumbnail",
            "Thumbnail",
            "🖼️",
            _SECONDARY,
            Who.VIEWER,
            _asset("thumbnail"),
            needs=Operation.DOWNLOAD,
        ),
        Action(
            "spritesheet",
            "Spritesheet",
            "🎞️",
            _SECONDARY,
            Who.VIEWER,
            _asset("spritesheet"),
            needs=Operation.DOWNLOAD,
        ),
        Action(
            "delete",
            "Delete",
            "🗑️",
            _DANGER,
            Who.OWNER_OR_MODERATOR,
            _ask_delete,
            needs=Operation.DELETE,
        ),
        Action(
            "confirm-delete",
            "Yes, delete it",
            "🗑️",
            _DANGER,
            Who.OWNER_OR_MODERATOR,
            _confirm_delete,
        ),
        Action(
            "retry",
            "Retry (a new, billed job)",
            "🔁",
            _PRIMARY,
            Who.OWNER,
            _retry,
            needs=Operation.CREATE,
        ),
        Action("cancel", "Cancel", "✖️", _SECONDARY, Who.OWNER, _cancel),
    )
}
_ONE_OF: Final = "|".join(re.escape(name) for name in ACTIONS)
_FORMS: Final = "|".join(re.escape(a.name) for a in ACTIONS.values() if a.form)
TEMPLATE: Final = (
    rf"videobot:(?:v2:(?P<action>{_ONE_OF}):(?P<key>[0-9]{{1,18}})"
    rf"|v1:(?P<old_action>{_ONE_OF}):(?P<video_id>[A-Za-z0-9_-]{{1,80}}))"
)
FORM_TEMPLATE: Final = re.compile(rf"{PREFIX}:form:(?P<action>{_FORMS}):(?P<key>[0-9]{{1,18}})")


# -- routing ----------------------------------------------------------------------------------


async def pressed(
    action: Action,
    interaction: discord.Interaction[Any],
    ref: str,
    values: Mapping[str, str] | None = None,
) -> None:
    """Check who may press `action` on the video `ref` here, then run its handler; a click on
    a button with a form opens the form (`values` None), its submit runs the handler."""
    host = cast("Host", interaction.client)
    user, guild_id = interaction.user, interaction.guild_id
    if action.form:
        assert action.needs is not None  # a form builds on the video (tests keep the table so)
        # Read on opening and again on submit: it may have been deleted while the form was open.
        row = await host.jobs.parent(ref, user.id, guild_id, action.needs)
        if values is None:
            seconds = host.jobs.provider_of(row).profile.extend_seconds
            await interaction.response.send_modal(prompt_form(action, row, seconds))
            return
    else:
        row = await host.jobs.visible(ref, user.id, guild_id)
    if action.who is Who.OWNER_OR_MODERATOR:
        moderator = manages_messages(interaction.guild, user, row.channel_id)
        if not may_delete(row, user.id, guild_id, moderator):
            raise UserError("Only the owner can delete this video (or a moderator of its server).")
    await action.handler(Press(host, interaction, row, values or {}))


class VideoAction(discord.ui.DynamicItem[discord.ui.Button[Any]], template=TEMPLATE):
    """A button of the table on a card, rebuilt from its custom id on each click."""

    def __init__(self, action: Action, ref: str, custom_id: str) -> None:
        button: discord.ui.Button[Any] = discord.ui.Button(
            label=action.label, emoji=action.emoji, style=action.style, custom_id=custom_id
        )
        super().__init__(button)
        self.action = action
        # `#key`, or a provider's id from a card of before keys: both find the row.
        self.ref = ref

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> VideoAction:
        if match["key"] is not None:
            return cls(ACTIONS[match["action"]], f"{REF_PREFIX}{match['key']}", match.string)
        return cls(ACTIONS[match["old_action"]], match["video_id"], match.string)

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        # Items are not commands: their errors would otherwise only reach the log.
        try:
            await pressed(self.action, interaction, self.ref)
        except Exception as exc:
            await report_error(interaction, exc)


class PromptForm:
    """The submit of a button's form, routed as a DynamicItem is: by its custom id's template,
    from the payload alone (discord.py keeps a modal only in the memory of the process that
    opened it)."""

    template: Final = FORM_TEMPLATE

    def __init__(self, action: Action, ref: str, values: Mapping[str, str]) -> None:
        self.action, self.ref, self.values = action, ref, values

    @classmethod
    def from_custom_id(cls, custom_id: str, data: Mapping[str, Any]) -> PromptForm | None:
        match = cls.template.fullmatch(custom_id)
        if match is None:
            return None
        values: dict[str, str] = {}
        for row in data.get("components") or []:
            # Inputs come in action rows, or (newer clients) each in a label.
            for item in row.get("components") or [row.get("component") or {}]:
                if "custom_id" in item:
                    values[str(item["custom_id"])] = str(item.get("value") or "")
        return cls(ACTIONS[match["action"]], f"{REF_PREFIX}{match['key']}", values)

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        if len(self.values.get(PROMPT.id, "")) > PROMPT_MAX:
            raise UserError(f"The prompt must be at most {PROMPT_MAX:,} characters.")
        await pressed(self.action, interaction, self.ref, self.values)


async def route_unanswered(
    interaction: discord.Interaction[Any], handles: Callable[[str], bool]
) -> None:
    """What no DynamicItem answers: a form's submit (by `PromptForm`), or an id of ours that
    nothing registered handles (`handles`), which is told so instead of left to time out."""
    data: dict[str, Any] = dict(interaction.data or {})
    custom_id = data.get("custom_id")
    if not isinstance(custom_id, str) or not custom_id.startswith(OURS):
        return
    try:
        if interaction.type is discord.InteractionType.modal_submit:
            form = PromptForm.from_custom_id(custom_id, data)
            if form is None:
                await reply(interaction, STALE)
            else:
                await form.callback(interaction)
        elif interaction.type is discord.InteractionType.component and not handles(custom_id):
            await reply(interaction, STALE)
    except Exception as exc:
        await report_error(interaction, exc)


# -- drawing ----------------------------------------------------------------------------------

RESULT: Final = ("remix", "extend", "edit", "thumbnail", "spritesheet", "delete")


def result_view(row: VideoRow, unsupported: frozenset[Operation]) -> discord.ui.View | None:
    """The buttons a card shows for its job's state and what the provider serves.

    None while it runs, once deleted, or when the provider serves none of them.
    """
    if row.deleted_at is not None or not row.finished:
        return None
    names: tuple[str, ...] = RESULT
    if row.error_code == NOT_CONFIRMED:
        names = ("retry",)
    elif row.status == "failed":
        names = ("delete",)
    return _view(row, [n for n in names if ACTIONS[n].needs not in unsupported])


def waiting_view(row: VideoRow) -> discord.ui.View:
    """A waiting job's card: its owner may take it out of line."""
    view = _view(row, ["cancel"])
    assert view is not None  # one button, always shown
    return view


def confirm_delete_view(row: VideoRow) -> discord.ui.View:
    view = _view(row, ["confirm-delete"])
    assert view is not None  # one button, always shown
    return view


def _view(row: VideoRow, names: list[str]) -> discord.ui.View | None:
    if not names:
        return None
    view = discord.ui.View(timeout=None)
    for name in names:
        view.add_item(ACTIONS[name].button(row))
    return view


def prompt_form(action: Action, row: VideoRow, seconds: tuple[str, ...]) -> discord.ui.Modal:
    """The form of a Remix, Extend or Edit button, from its fields; `PromptForm` answers it."""
    # Not kept in memory for long: a submit is read from its payload, also after a restart.
    form = discord.ui.Modal(
        title=f"{action.name.capitalize()} this video",
        custom_id=f"{PREFIX}:form:{action.name}:{row.key}",
        timeout=1.0,
    )
    for spec in action.form:
        form.add_item(
            discord.ui.TextInput(
                label=f"{spec.label} ({', '.join(seconds)})" if spec.seconds else spec.label,
                custom_id=spec.id,
                style=discord.TextStyle.paragraph if spec.paragraph else discord.TextStyle.short,
                default=seconds[0] if spec.seconds else None,
                max_length=spec.max_length,
            )
        )
    return form
