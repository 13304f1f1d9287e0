"""/character: characters made from an uploaded clip, kept by and shown to their creator."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Final

import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import LimitReached, NotAllowed, UserError
from bot.interactions import attachments
from bot.interactions.requires import requires
from bot.interactions.who import asker_of
from bot.spending import periods
from bot.spending.limits import DM_SCOPE, denied
from bot.storage import CharacterRepository, CharacterRow
from bot.ui.text import size_text, timestamp
from bot.videoapi.errors import NotFoundError
from bot.videoapi.models import Operation, Upload
from bot.videoapi.profile import check_character_name

if TYPE_CHECKING:
    from bot.app import VideoBot

    Interaction = discord.Interaction[VideoBot]

CLIP_TYPES: Final = frozenset({"video/mp4", "video/quicktime", "video/webm"})
CLIP_MAX_BYTES: Final = 50 * 1024 * 1024


def check_clip(attachment: discord.Attachment) -> str:
    kind = (attachment.content_type or "").split(";")[0].strip().lower()
    if kind not in CLIP_TYPES:
        raise UserError("The clip must be an MP4, MOV or WebM video.")
    if attachment.size > CLIP_MAX_BYTES:
        raise UserError(f"The clip must be at most {size_text(CLIP_MAX_BYTES)}.")
    return kind


def character_embed(row: CharacterRow) -> discord.Embed:
    embed = discord.Embed(title=row.name, colour=discord.Colour.teal())
    embed.add_field(name="Character", value=row.ref)
    embed.add_field(name="Provider's id", value=f"`{row.id}`", inline=False)
    embed.add_field(name="Created", value=timestamp(row.created_at))
    return embed


class Characters(commands.GroupCog, group_name="character", group_description="Your characters"):
    def __init__(self, bot: VideoBot) -> None:
        self.bot = bot
        self.characters = CharacterRepository(bot.db)
        # Members making a character now: one at a time, or two could both pass the quota.
        self._creating: set[int] = set()

    async def _may_create(self, interaction: Interaction) -> None:
        """A character is a provider call and an upload: the server's access rules apply, as
        to a video, and a member makes at most CHARACTERS_PER_MEMBER_PER_DAY a day."""
        scope = interaction.guild_id or DM_SCOPE
        access = await self.bot.spending.access(scope)
        asker = asker_of(interaction)
        reason = denied(access, interaction.user.id, asker.channel_ids, asker.role_ids)
        if reason is not None:
            raise NotAllowed(reason, access)
        quota = self.bot.settings.characters_per_member_per_day
        if quota is None:
            return
        today = periods.day(time.time())
        recent = await self.characters.list_by_owner(interaction.user.id, limit=max(quota, 1))
        if sum(1 for row in recent if row.created_at >= today.start) >= quota:
            raise LimitReached(
                f"You have made your {quota} of {quota} characters for today. "
                f"More {timestamp(today.end)}."
            )

    @app_commands.command(
        name="create",
        description="Make a character from a short clip",
        extras=requires(Operation.CREATE_CHARACTER),
    )
    @app_commands.describe(name="1 to 80 characters", video="An MP4, MOV or WebM clip")
    async def create(self, interaction: Interaction, name: str, video: discord.Attachment) -> None:
        chosen = check_character_name(name)
        kind = check_clip(video)
        # Characters are made at the first provider, and asked about where they were made.
        providers = self.bot.providers
        self.bot.jobs.require(Operation.CREATE_CHARACTER, providers.default)
        if interaction.user.id in self._creating:
            raise UserError("You are making a character already; wait for it first.")
        self._creating.add(interaction.user.id)
        try:
            await self._may_create(interaction)
            await interaction.response.defer(ephemeral=True, thinking=True)
            session = self.bot.http_session
            assert session is not None  # opened in setup_hook, before any command
            with tempfile.TemporaryDirectory(prefix="videobot-") as folder:
                # Streamed to disk and from disk: a clip is never held whole in memory.
                path = Path(folder) / "clip"
                await attachments.save(session, video, path, limit=CLIP_MAX_BYTES)
                made = await providers.primary.create_character(
                    chosen, Upload(video.filename, kind, path)
                )
            if made.id is None:
                raise UserError("The provider did not return an id for the character.")
            # Counted by the bot's clock: the provider's may differ.
            row = await self.characters.insert(
                made.id,
                owner_id=interaction.user.id,
                guild_id=interaction.guild_id,
                name=made.name or chosen,
                created_at=int(time.time()),
                provider=providers.default,
            )
        finally:
            self._creating.discard(interaction.user.id)
        await interaction.followup.send(embed=character_embed(row), ephemeral=True)

    @app_commands.command(
        name="show",
        description="Show one of your characters",
        extras=requires(Operation.GET_CHARACTER),
    )
    async def show(self, interaction: Interaction, character: str) -> None:
        row = await self.characters.visible(character.strip(), interaction.user.id)
        if row is None:
            raise UserError("I can't find that character among yours.")
        try:
            fresh = await self.bot.providers.get(row.provider).get_character(row.id)
        except NotFoundError:
            raise UserError("The provider no longer has this character.") from None
        embed = character_embed(row)
        if fresh.name and fresh.name != row.name:
            embed.add_field(name="Name at the provider", value=fresh.name)
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @app_commands.command(name="list", description="List your characters")
    async def list_characters(self, interaction: Interaction) -> None:
        rows = await self.characters.list_by_owner(interaction.user.id)
        lines = [f"**{row.name}** · {row.ref} · {timestamp(row.created_at)}" for row in rows]
        embed = discord.Embed(
            title="Your characters",
            description="\n".join(lines) or "None yet. Make one with /character create.",
            colour=discord.Colour.teal(),
        )
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @show.autocomplete("character")
    async def _characters(
        self, interaction: Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        rows = await self.characters.list_by_owner(interaction.user.id)
        wanted = current.lower().strip()
        return [
            app_commands.Choice(name=row.name[:100], value=row.ref)
            for row in rows
            if wanted in row.name.lower()
        ][:25]


async def setup(bot: VideoBot) -> None:
    await bot.add_cog(Characters(bot))
