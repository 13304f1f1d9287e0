"""/videos: browse, re-post, delete and download the videos a member may see.

A page of the library is a gallery (Components V2): the thumbnails of its finished videos, a
line for each video with its `#key` and an excerpt of its prompt, a select menu that opens one,
and the page buttons. The thumbnails are attached to the page's own message.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal, cast, get_args

import discord
from discord import app_commands
from discord.ext import commands

from bot.delivery import discord_file
from bot.errors import UserError
from bot.interactions.buttons import ACTIONS, pressed, send_asset
from bot.interactions.requires import requires
from bot.interactions.tree import report_error
from bot.storage import VideoRow
from bot.storage.videos import REF_PREFIX
from bot.ui.card import STATUS_TEXT
from bot.ui.choices import video_choices
from bot.ui.layout import OPTION_SHOWN, heading, layout, media_gallery, subtext
from bot.ui.text import excerpt, timestamp
from bot.videoapi.models import Operation, Upload, VideoStatus

if TYPE_CHECKING:
    from bot.app import VideoBot

    Interaction = discord.Interaction[VideoBot]

PAGE_SIZE: Final = 10
STATUSES: Final = frozenset(get_args(VideoStatus))
PAGE_TEMPLATE: Final = (
    r"videobot:v1:page:(?P<viewer>\d+):(?P<owner>\d+):(?P<status>[a-z_]*):(?P<page>\d+)"
)
OPEN_TEMPLATE: Final = r"videobot:v1:open:(?P<viewer>\d+)"
NOT_YOURS: Final = "This list belongs to someone else; run /videos list yourself."


def _line(index: int, row: VideoRow) -> str:
    prompt = excerpt(row.prompt, 60)
    status = STATUS_TEXT[row.status].split(" ", 1)[0]
    when = timestamp(row.created_at)
    return f"**{index}.** {status} {prompt} · {row.seconds}s · {when} · {row.ref}"


async def render_page(
    bot: VideoBot,
    viewer: int,
    guild_id: int | None,
    owner: int | None,
    status: VideoStatus | None,
    page: int,
    folder: Path,
) -> tuple[discord.ui.LayoutView, list[Upload]]:
    """A page of the library, and the thumbnails (written to `folder`) it shows."""
    total = await bot.videos.count_visible(viewer, guild_id, owner_id=owner, status=status)
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    rows = await bot.videos.list_visible(
        viewer, guild_id, owner_id=owner, status=status, limit=PAGE_SIZE, offset=page * PAGE_SIZE
    )
    whose = f"<@{owner}>'s videos" if owner is not None else "Videos you can see here"
    stills = await bot.result_files.thumbnails(rows, folder)
    items: list[discord.ui.Item[Any]] = [heading("Video library"), discord.ui.TextDisplay(whose)]
    if stills:
        items.append(
            media_gallery([(stills[r.key].filename, _caption(r)) for r in rows if r.key in stills])
        )
    lines = [_line(page * PAGE_SIZE + i + 1, row) for i, row in enumerate(rows)]
    items.append(discord.ui.TextDisplay("\n".join(lines) or "Nothing yet. Try /video."))
    if rows:
        items.append(discord.ui.ActionRow(OpenSelect(viewer, rows)))
    turns = [
        PageButton(viewer, owner, status, target, label=label, disabled=disabled)
        for label, target, disabled in (
            ("◀ Newer", page - 1, page == 0),
            ("Older ▶", page + 1, page >= pages - 1),
        )
    ]
    items.append(discord.ui.ActionRow(*turns))
    items.append(subtext(f"Page {page + 1} of {pages} · {total} videos"))
    return layout(*items, colour=discord.Colour.blurple()), list(stills.values())


def _caption(row: VideoRow) -> str:
    """A video's `#key` and an excerpt of its prompt: its name in a gallery or a menu."""
    return excerpt(f"{row.ref} {row.prompt}", OPTION_SHOWN)


async def _show_page(
    interaction: discord.Interaction[Any],
    viewer: int,
    owner: int | None,
    status: VideoStatus | None,
    page: int,
) -> None:
    """Draw a page into the interaction's answer (deferred: thumbnails may take a while)."""
    bot = cast("VideoBot", interaction.client)
    with tempfile.TemporaryDirectory(prefix="videobot-") as folder:
        view, stills = await render_page(
            bot, viewer, interaction.guild_id, owner, status, page, Path(folder)
        )
        # Content and embeds cleared: a page drawn before Components V2 had an embed.
        await interaction.edit_original_response(
            content=None,
            embed=None,
            view=view,
            attachments=[discord_file(still) for still in stills],
        )


class OpenSelect(discord.ui.DynamicItem[discord.ui.Select[Any]], template=OPEN_TEMPLATE):
    """Opens a video of the page: its card, posted again for the viewer alone with its file
    and fresh buttons. Works after a restart: the chosen `#key` comes with the click."""

    def __init__(self, viewer: int, rows: Sequence[VideoRow] = ()) -> None:
        options = [
            discord.SelectOption(
                label=_caption(row),
                value=str(row.key),
                description=STATUS_TEXT[row.status],
            )
            for row in rows
        ]
        super().__init__(
            discord.ui.Select(
                custom_id=f"videobot:v1:open:{viewer}",
                placeholder="Open a video",
                options=options,
            )
        )
        self.viewer = viewer

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> OpenSelect:
        return cls(int(match["viewer"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        try:
            if interaction.user.id != self.viewer:
                raise UserError(NOT_YOURS)
            # discord.py fills the chosen values in before the callback.
            [key] = self.item.values
            bot = cast("VideoBot", interaction.client)
            row = await bot.jobs.visible(
                f"{REF_PREFIX}{key}", interaction.user.id, interaction.guild_id
            )
            await bot.delivery.repost(row, interaction, ephemeral=True)
        except Exception as exc:
            await report_error(interaction, exc)


class PageButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=PAGE_TEMPLATE):
    """A page turn that keeps working after a restart: the whole query lives in the id."""

    def __init__(
        self,
        viewer: int,
        owner: int | None,
        status: VideoStatus | None,
        page: int,
        *,
        label: str = "Page",
        disabled: bool = False,
    ) -> None:
        custom_id = f"videobot:v1:page:{viewer}:{owner or 0}:{status or ''}:{max(page, 0)}"
        super().__init__(discord.ui.Button(label=label, custom_id=custom_id, disabled=disabled))
        self.viewer, self.owner, self.status, self.page = viewer, owner, status, page

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> PageButton:
        owner = int(match["owner"]) or None
        status = match["status"]
        chosen = cast("VideoStatus", status) if status in STATUSES else None
        return cls(int(match["viewer"]), owner, chosen, int(match["page"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        try:
            if interaction.user.id != self.viewer:
                raise UserError(NOT_YOURS)
            await interaction.response.defer()
            await _show_page(interaction, self.viewer, self.owner, self.status, self.page)
        except Exception as exc:
            await report_error(interaction, exc)


class Library(commands.GroupCog, group_name="videos", group_description="Your video library"):
    def __init__(self, bot: VideoBot) -> None:
        self.bot = bot

    @app_commands.command(name="list", description="Browse videos, newest first")
    @app_commands.describe(user="Whose videos (default: all you can see here)", status="Only these")
    async def list_videos(
        self,
        interaction: Interaction,
        user: discord.User | None = None,
        status: VideoStatus | None = None,
    ) -> None:
        owner = user.id if user is not None else None
        await interaction.response.defer(ephemeral=True, thinking=True)
        await _show_page(interaction, interaction.user.id, owner, status, 0)

    @app_commands.command(
        name="show",
        description="Post a video's card again, with fresh buttons",
        extras=requires(Operation.DOWNLOAD),
    )
    async def show(self, interaction: Interaction, video: str) -> None:
        row = await self.bot.jobs.visible(video, interaction.user.id, interaction.guild_id)
        await self.bot.delivery.repost(row, interaction)

    @app_commands.command(name="delete", description="Delete a video (owner or moderator)")
    async def delete(self, interaction: Interaction, video: str) -> None:
        # The same as the card's Delete button: asked, and answered by a button.
        await pressed(ACTIONS["delete"], interaction, video)

    @app_commands.command(
        name="download",
        description="Get a video's file, thumbnail or spritesheet",
        extras=requires(Operation.DOWNLOAD),
    )
    async def download(
        self,
        interaction: Interaction,
        video: str,
        variant: Literal["video", "thumbnail", "spritesheet"] = "video",
    ) -> None:
        row = await self.bot.jobs.visible(video, interaction.user.id, interaction.guild_id)
        await send_asset(self.bot, interaction, row, variant)

    @show.autocomplete("video")
    @delete.autocomplete("video")
    @download.autocomplete("video")
    async def _videos(
        self, interaction: Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await video_choices(
            self.bot.videos, interaction.user.id, interaction.guild_id, current, status=None
        )


async def setup(bot: VideoBot) -> None:
    bot.add_dynamic_items(PageButton, OpenSelect)
    await bot.add_cog(Library(bot))
