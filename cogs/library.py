"""/videos: browse, re-post, delete and download the videos a member may see."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Final, Literal, cast, get_args

import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import UserError
from bot.interactions.buttons import ACTIONS, pressed, send_asset
from bot.interactions.requires import requires
from bot.interactions.tree import report_error
from bot.storage import VideoRow
from bot.ui.card import STATUS_TEXT
from bot.ui.choices import video_choices
from bot.ui.text import excerpt, timestamp
from bot.videoapi.models import Operation, VideoStatus

if TYPE_CHECKING:
    from bot.app import VideoBot

    Interaction = discord.Interaction[VideoBot]

PAGE_SIZE: Final = 10
STATUSES: Final = frozenset(get_args(VideoStatus))
PAGE_TEMPLATE: Final = (
    r"videobot:v1:page:(?P<viewer>\d+):(?P<owner>\d+):(?P<status>[a-z_]*):(?P<page>\d+)"
)


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
) -> tuple[discord.Embed, discord.ui.View]:
    total = await bot.videos.count_visible(viewer, guild_id, owner_id=owner, status=status)
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    rows = await bot.videos.list_visible(
        viewer, guild_id, owner_id=owner, status=status, limit=PAGE_SIZE, offset=page * PAGE_SIZE
    )
    whose = f"<@{owner}>'s videos" if owner is not None else "Videos you can see here"
    lines = [_line(page * PAGE_SIZE + i + 1, row) for i, row in enumerate(rows)]
    embed = discord.Embed(
        title="Video library",
        description=f"{whose}\n\n" + ("\n".join(lines) or "Nothing yet. Try /video."),
        colour=discord.Colour.blurple(),
    )
    embed.set_footer(text=f"Page {page + 1} of {pages} · {total} videos")
    view = discord.ui.View(timeout=None)
    for label, target, disabled in (
        ("◀ Newer", page - 1, page == 0),
        ("Older ▶", page + 1, page >= pages - 1),
    ):
        view.add_item(PageButton(viewer, owner, status, target, label=label, disabled=disabled))
    return embed, view


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
                raise UserError("This list belongs to someone else; run /videos list yourself.")
            bot = cast("VideoBot", interaction.client)
            embed, view = await render_page(
                bot, self.viewer, interaction.guild_id, self.owner, self.status, self.page
            )
            await interaction.response.edit_message(embed=embed, view=view)
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
        embed, view = await render_page(
            self.bot, interaction.user.id, interaction.guild_id, owner, status, 0
        )
        await interaction.response.send_message(embed=embed, view=view, ephemeral=True)

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
    bot.add_dynamic_items(PageButton)
    await bot.add_cog(Library(bot))
