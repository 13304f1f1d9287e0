"""Buttons on result cards that work on cards posted before a restart.

Each is a DynamicItem whose custom id names an action and a video, `videobot:v1:<action>:<id>`;
the video's state is read from the database at click time, never trusted from the id.
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
from bot.tree import report_error
from bot.videoapi.models import ContentVariant

if TYPE_CHECKING:
    from bot.app import VideoBot

    Interaction = discord.Interaction[VideoBot]

PREFIX: Final = "videobot:v1"
ACTIONS: Final = ("remix", "extend", "edit", "thumbnail", "spritesheet", "delete", "confirm-delete")
TEMPLATE: Final = rf"{PREFIX}:(?P<action>{'|'.join(ACTIONS)}):(?P<video_id>[A-Za-z0-9_-]{{1,80}})"
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


def custom_id(action: str, video_id: str) -> str:
    return f"{PREFIX}:{action}:{video_id}"


class VideoAction(discord.ui.DynamicItem[discord.ui.Button[Any]], template=TEMPLATE):
    def __init__(self, action: str, video_id: str) -> None:
        label, emoji, style = LOOKS[action]
        button: discord.ui.Button[Any] = discord.ui.Button(
            label=label, emoji=emoji, style=style, custom_id=custom_id(action, video_id)
        )
        super().__init__(button)
        self.action = action
        self.video_id = video_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> VideoAction:
        return cls(match["action"], match["video_id"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        # Items are not commands: their errors would otherwise only reach the log.
        try:
            await _HANDLERS[self.action](cast("Interaction", interaction), self.video_id)
        except Exception as exc:
            await report_error(interaction, exc)


def result_view(row: VideoRow) -> discord.ui.View | None:
    """The buttons a card shows for its job's state: none while it runs or once deleted."""
    if row.deleted_at is not None or not row.finished:
        return None
    actions: tuple[str, ...] = ("remix", "extend", "edit", "thumbnail", "spritesheet", "delete")
    if row.status == "failed":
        actions = ("delete",)
    view = discord.ui.View(timeout=None)
    for action in actions:
        view.add_item(VideoAction(action, row.id))
    return view


class PromptModal(discord.ui.Modal):
    def __init__(self, kind: DerivedKind, parent: VideoRow, seconds: tuple[str, ...]) -> None:
        super().__init__(title=f"{kind.capitalize()} this video", timeout=15 * 60)
        self.kind = kind
        self.parent_id = parent.id
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
            self.parent_id, interaction.user.id, interaction.guild_id, OPERATIONS[self.kind]
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


async def _open_modal(interaction: Interaction, video_id: str, kind: DerivedKind) -> None:
    bot = interaction.client
    parent = await bot.jobs.parent(
        video_id, interaction.user.id, interaction.guild_id, OPERATIONS[kind]
    )
    await interaction.response.send_modal(PromptModal(kind, parent, bot.api.profile.extend_seconds))


async def _remix(interaction: Interaction, video_id: str) -> None:
    await _open_modal(interaction, video_id, "remix")


async def _extend(interaction: Interaction, video_id: str) -> None:
    await _open_modal(interaction, video_id, "extend")


async def _edit(interaction: Interaction, video_id: str) -> None:
    await _open_modal(interaction, video_id, "edit")


async def send_asset(interaction: Interaction, video_id: str, variant: ContentVariant) -> None:
    """An ephemeral reply carrying one of a video's files (also /videos download)."""
    bot = interaction.client
    row = await bot.jobs.visible(video_id, interaction.user.id, interaction.guild_id)
    await interaction.response.defer(ephemeral=True, thinking=True)
    with tempfile.TemporaryDirectory(prefix="videobot-") as folder:
        file = await bot.jobs.download(row, variant, Path(folder))
        await interaction.followup.send(file=file, ephemeral=True)


async def _thumbnail(interaction: Interaction, video_id: str) -> None:
    await send_asset(interaction, video_id, "thumbnail")


async def _spritesheet(interaction: Interaction, video_id: str) -> None:
    await send_asset(interaction, video_id, "spritesheet")


async def _deletable(interaction: Interaction, video_id: str) -> VideoRow:
    bot = interaction.client
    row = await bot.jobs.visible(video_id, interaction.user.id, interaction.guild_id)
    if not may_delete(row, interaction.user.id, interaction.guild_id, interaction.permissions):
        raise UserError("Only the owner can delete this video (or a moderator of its server).")
    return row


async def ask_delete(interaction: Interaction, video_id: str) -> None:
    """Ask before deleting (also /videos delete); the answer is a button that survives restarts."""
    row = await _deletable(interaction, video_id)
    view = discord.ui.View(timeout=None)
    view.add_item(VideoAction("confirm-delete", row.id))
    await interaction.response.send_message(
        "Delete this video for everyone? This cannot be undone.", view=view, ephemeral=True
    )


async def _confirm_delete(interaction: Interaction, video_id: str) -> None:
    row = await _deletable(interaction, video_id)
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
