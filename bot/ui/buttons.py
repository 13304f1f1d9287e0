"""Buttons on result cards that work on cards posted before a restart.

Each is a DynamicItem whose custom id names an action and the bot's own key of a video,
`videobot:v2:<action>:<key>`: a provider's id may be far longer than the 100 characters a custom
id holds. Cards posted before keys existed carry `videobot:v1:<action>:<provider's id>` and keep
working. The video's state is read from the database at click time, never trusted from the id.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, cast

import discord

from bot.errors import UserError
from bot.jobs import OPERATIONS, DerivedKind, InteractionPoster, may_delete
from bot.storage import VideoRow
from bot.storage.videos import REF_PREFIX
from bot.tree import report_error
from bot.videoapi.models import ContentVariant, Operation

if TYPE_CHECKING:
    from bot.app import VideoBot

    Interaction = discord.Interaction[VideoBot]

PREFIX: Final = "videobot:v2"
ACTIONS: Final = ("remix", "extend", "edit", "thumbnail", "spritesheet", "delete", "confirm-delete")
TEMPLATE: Final = (
    rf"videobot:(?:v2:(?P<action>{'|'.join(ACTIONS)}):(?P<key>\d{{1,18}})"
    rf"|v1:(?P<old_action>{'|'.join(ACTIONS)}):(?P<video_id>[A-Za-z0-9_-]{{1,80}}))"
)
LOOKS: Final[dict[str, tuple[str, str, discord.ButtonStyle]]] = {
    "remix": ("Remix", "🎛️", discord.ButtonStyle.primary),
    "extend": ("Extend", "⏩", discord.ButtonStyle.primary),
    "edit": ("Edit", "✏️", discord.ButtonStyle.secondary),
    "thumbnail": ("Thumbnail", "🖼️", discord.ButtonStyle.secondary),
    "spritesheet": ("Spritesheet", "🎞️", discord.ButtonStyle.secondary),
    "delete": ("Delete", "🗑️", discord.ButtonStyle.danger),
    "confirm-delete": ("Yes, delete it", "🗑️", discord.ButtonStyle.danger),
}
PROMPT_MAX: Final = 4000


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
        # Items are not commands: their errors would otherwise only reach the log.
        try:
            await _HANDLERS[self.action](cast("Interaction", interaction), self.ref)
        except Exception as exc:
            await report_error(interaction, exc)


# What each button needs of the provider: a button for a missing operation is left off.
NEEDS: Final[dict[str, Operation]] = {
    "remix": Operation.REMIX,
    "extend": Operation.EXTEND,
    "edit": Operation.EDIT,
    "thumbnail": Operation.DOWNLOAD,
    "spritesheet": Operation.DOWNLOAD,
    "delete": Operation.DELETE,
}


def result_view(row: VideoRow, unsupported: frozenset[Operation]) -> discord.ui.View | None:
    """The buttons a card shows for its job's state and what the provider serves.

    None while it runs, once deleted, or when the provider serves none of them.
    """
    if row.deleted_at is not None or not row.finished:
        return None
    actions: tuple[str, ...] = ("remix", "extend", "edit", "thumbnail", "spritesheet", "delete")
    if row.status == "failed":
        actions = ("delete",)
    shown = [action for action in actions if NEEDS[action] not in unsupported]
    if not shown:
        return None
    view = discord.ui.View(timeout=None)
    for action in shown:
        view.add_item(VideoAction.of(action, row))
    return view


class PromptModal(discord.ui.Modal):
    def __init__(self, kind: DerivedKind, parent: VideoRow, seconds: tuple[str, ...]) -> None:
        super().__init__(title=f"{kind.capitalize()} this video", timeout=15 * 60)
        self.kind = kind
        self.parent_ref = parent.ref
        self.prompt: discord.ui.TextInput[PromptModal] = discord.ui.TextInput(
            label="Prompt", style=discord.TextStyle.paragraph, max_length=PROMPT_MAX
        )
        self.add_item(self.prompt)
        self.seconds: discord.ui.TextInput[PromptModal] | None = None
        if kind == "extend":
            self.seconds = discord.ui.TextInput(
                label=f"Seconds to add ({', '.join(seconds)})", default=seconds[0], max_length=4
            )
            self.add_item(self.seconds)

    async def on_submit(self, interaction: Interaction) -> None:  # type: ignore[override]
        bot = interaction.client
        # Read the parent again: it may have been deleted while the modal was open.
        parent = await bot.jobs.parent(
            self.parent_ref, interaction.user.id, interaction.guild_id, OPERATIONS[self.kind]
        )
        request = bot.jobs.derived(
            self.kind,
            parent,
            self.prompt.value,
            owner_id=interaction.user.id,
            guild_id=interaction.guild_id,
            channel_id=interaction.channel_id or parent.channel_id,
            seconds=self.seconds.value.strip() if self.seconds is not None else None,
        )
        await bot.jobs.start(request, InteractionPoster(interaction))

    async def on_error(self, interaction: Interaction, error: Exception) -> None:  # type: ignore[override]
        await report_error(interaction, error)


async def _open_modal(interaction: Interaction, ref: str, kind: DerivedKind) -> None:
    bot = interaction.client
    parent = await bot.jobs.parent(ref, interaction.user.id, interaction.guild_id, OPERATIONS[kind])
    await interaction.response.send_modal(PromptModal(kind, parent, bot.api.profile.extend_seconds))


async def _remix(interaction: Interaction, ref: str) -> None:
    await _open_modal(interaction, ref, "remix")


async def _extend(interaction: Interaction, ref: str) -> None:
    await _open_modal(interaction, ref, "extend")


async def _edit(interaction: Interaction, ref: str) -> None:
    await _open_modal(interaction, ref, "edit")


async def send_asset(interaction: Interaction, ref: str, variant: ContentVariant) -> None:
    """An ephemeral reply carrying one of a video's files (also /videos download)."""
    bot = interaction.client
    row = await bot.jobs.visible(ref, interaction.user.id, interaction.guild_id)
    await interaction.response.defer(ephemeral=True, thinking=True)
    with tempfile.TemporaryDirectory(prefix="videobot-") as folder:
        file = await bot.jobs.download(row, variant, Path(folder))
        await interaction.followup.send(file=file, ephemeral=True)


async def _thumbnail(interaction: Interaction, ref: str) -> None:
    await send_asset(interaction, ref, "thumbnail")


async def _spritesheet(interaction: Interaction, ref: str) -> None:
    await send_asset(interaction, ref, "spritesheet")


async def _deletable(interaction: Interaction, ref: str) -> VideoRow:
    bot = interaction.client
    row = await bot.jobs.visible(ref, interaction.user.id, interaction.guild_id)
    if not may_delete(row, interaction.user.id, interaction.guild_id, interaction.permissions):
        raise UserError("Only the owner can delete this video (or a moderator of its server).")
    return row


async def ask_delete(interaction: Interaction, ref: str) -> None:
    """Ask before deleting (also /videos delete); the answer is a button that survives restarts."""
    row = await _deletable(interaction, ref)
    view = discord.ui.View(timeout=None)
    view.add_item(VideoAction.of("confirm-delete", row))
    await interaction.response.send_message(
        "Delete this video for everyone? This cannot be undone.", view=view, ephemeral=True
    )


async def _confirm_delete(interaction: Interaction, ref: str) -> None:
    row = await _deletable(interaction, ref)
    await interaction.response.defer(ephemeral=True)
    await interaction.client.jobs.delete(row, interaction.user.id)
    await interaction.edit_original_response(content="Deleted.", view=None)


_HANDLERS = {
    "remix": _remix,
    "extend": _extend,
    "edit": _edit,
    "thumbnail": _thumbnail,
    "spritesheet": _spritesheet,
    "delete": ask_delete,
    "confirm-delete": _confirm_delete,
}
