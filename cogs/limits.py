"""/limits: a server's spending limits and who may generate there (Manage Server only)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import UserError
from bot.spending.overrides import KNOBS, parse, under_ceiling
from bot.storage.guilds import AccessKind
from bot.ui.choices import model_choices, models_text
from bot.ui.text import excerpt

if TYPE_CHECKING:
    from bot.app import VideoBot

    Interaction = discord.Interaction[VideoBot]

NO_MENTIONS = discord.AllowedMentions.none()
# Discord's limit on a message's content.
MESSAGE_CHARS: Final = 2000
KnobName = Literal[
    "seconds_per_member_per_day",
    "seconds_per_server_per_day",
    "monthly_budget",
    "jobs_per_member",
    "jobs_per_server",
]
ModelUse = Literal["allow", "disallow", "every model"]


def _guild_id(interaction: Interaction) -> int:
    # The group is guild_only: Discord never sends it from a DM.
    assert interaction.guild_id is not None
    return interaction.guild_id


def _listed(ids: frozenset[int], mention: str, empty: str, room: int = 300) -> str:
    """The mentions of `ids`, as many as fit in `room` characters, then how many more: three
    lists fit in one embed field (1,024 characters) and in one message."""
    if not ids:
        return empty
    shown: list[str] = []
    used = 0
    ordered = sorted(ids)
    for i in ordered:
        text = mention.format(i)
        if used + len(text) + 2 > room:
            return ", ".join(shown) + f" and {len(ordered) - len(shown)} more"
        shown.append(text)
        used += len(text) + 2
    return ", ".join(shown)


def _within(text: str) -> str:
    return excerpt(text, MESSAGE_CHARS, one_line=False)


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class Limits(commands.GroupCog, group_name="limits", group_description="Spending limits here"):
    def __init__(self, bot: VideoBot) -> None:
        self.bot = bot
        super().__init__()

    async def interaction_check(self, interaction: Interaction) -> bool:  # type: ignore[override]
        # default_permissions only hides the group; a server may grant it to anyone.
        if not interaction.permissions.manage_guild:
            raise app_commands.MissingPermissions(["manage_guild"])
        return True

    @app_commands.command(name="show", description="Every limit in this server")
    async def show(self, interaction: Interaction) -> None:
        await interaction.response.send_message(
            embed=await self._card(_guild_id(interaction)),
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )

    @app_commands.command(name="set", description="Change one limit in this server")
    @app_commands.describe(
        limit="Which limit",
        value="A number (USD for the budget) up to the operator's ceiling, or `default`",
    )
    async def set_(self, interaction: Interaction, limit: KnobName, value: str) -> None:
        guild_id = _guild_id(interaction)
        knob = KNOBS[limit]
        spending = self.bot.spending
        ceiling = getattr(await spending.ceilings(guild_id), knob.field)
        override = under_ceiling(limit, parse(limit, value), ceiling)
        await spending.set(guild_id, knob.field, override)
        if override is None:
            said = f"the operator's ceiling: {knob.shown(ceiling)}"
        else:
            said = knob.shown(override)
        # A higher limit may free slots for jobs waiting in line.
        self.bot.jobs.limits_changed()
        await self._say(interaction, f"{knob.label}: {said}.")

    @app_commands.command(name="reset", description="Give a member their seconds for today back")
    @app_commands.describe(member="Whose day to reset")
    async def reset(self, interaction: Interaction, member: discord.Member | discord.User) -> None:
        await self.bot.ledger.reset_day(_guild_id(interaction), member.id)
        await interaction.response.send_message(
            f"{member.mention}'s seconds for today start again from 0. "
            "What they spent stays in the server's monthly total.",
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )

    @app_commands.command(name="block", description="Stop a member from making videos here")
    async def block(self, interaction: Interaction, member: discord.Member | discord.User) -> None:
        if member.id == interaction.user.id:
            raise UserError("You can't block yourself.")
        added = await self._change(interaction, "blocked", member.id, add=True)
        text = "is blocked from making videos here" if added else "was blocked already"
        await self._say(interaction, f"{member.mention} {text}.")

    @app_commands.command(name="unblock", description="Let a blocked member make videos again")
    async def unblock(
        self, interaction: Interaction, member: discord.Member | discord.User
    ) -> None:
        removed = await self._change(interaction, "blocked", member.id, add=False)
        text = "may make videos here again" if removed else "was not blocked"
        await self._say(interaction, f"{member.mention} {text}.")

    @app_commands.command(
        name="allow", description="Allow making videos only in a channel, or for a role"
    )
    @app_commands.describe(channel="A channel to allow", role="A role to allow")
    async def allow(
        self,
        interaction: Interaction,
        channel: discord.TextChannel | None = None,
        role: discord.Role | None = None,
    ) -> None:
        await self._allow(interaction, channel, role, add=True)

    @app_commands.command(name="disallow", description="Take a channel or role off the list")
    @app_commands.describe(channel="A channel to take off", role="A role to take off")
    async def disallow(
        self,
        interaction: Interaction,
        channel: discord.TextChannel | None = None,
        role: discord.Role | None = None,
    ) -> None:
        await self._allow(interaction, channel, role, add=False)

    @app_commands.command(name="models", description="Which models may be used in this server")
    @app_commands.describe(
        model="A model the bot offers",
        use="Allow it (then only the allowed ones may be used), take it off, or allow every model",
    )
    async def models(
        self, interaction: Interaction, model: str | None = None, use: ModelUse | None = None
    ) -> None:
        guild_id = _guild_id(interaction)
        offers = self.bot.providers.offers()
        allowed = (await self.bot.spending.access(guild_id)).models
        if use is not None:
            allowed = _changed_models(allowed, model, use, [offer.model for offer in offers])
            await self.bot.spending.guilds.set_models(guild_id, allowed)
            self.bot.spending.forget(guild_id)
        heading = "Every model may be used here" if not allowed else "Models allowed here"
        listed = models_text(offers, allowed, named=self._named)
        await self._say(interaction, f"{heading}:\n{listed}")

    @models.autocomplete("model")
    async def _offered(
        self, interaction: Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return model_choices(self.bot.providers.offers(), current, named=self._named)

    async def _allow(
        self,
        interaction: Interaction,
        channel: discord.TextChannel | None,
        role: discord.Role | None,
        *,
        add: bool,
    ) -> None:
        if channel is None and role is None:
            raise UserError("Name a channel, a role, or both.")
        # Without resolved data discord.py hands over a bare id (a channel is refused before
        # here): allowing a role nobody can be shown could lock everyone out.
        if role is not None and not isinstance(role, discord.Role):
            raise UserError("Discord didn't tell me which role that is. Pick it from the list.")
        said = []
        for kind, target in (("channel", channel), ("role", role)):
            if target is not None:
                changed = await self._change(interaction, kind, target.id, add=add)  # type: ignore[arg-type]
                verb = (
                    ("is now allowed" if add else "is off the list")
                    if changed
                    else ("was allowed already" if add else "was not on the list")
                )
                said.append(f"{target.mention} {verb}.")
        access = await self.bot.spending.access(_guild_id(interaction))
        said.append(
            f"Channels: {_listed(access.channels, '<#{}>', 'every channel')}. "
            f"Roles: {_listed(access.roles, '<@&{}>', 'everyone')}."
        )
        await self._say(interaction, " ".join(said))

    async def _change(
        self, interaction: Interaction, kind: AccessKind, target: int, *, add: bool
    ) -> bool:
        guild_id = _guild_id(interaction)
        guilds = self.bot.spending.guilds
        if add:
            changed = await guilds.add_access(guild_id, kind, target)
        else:
            changed = await guilds.remove_access(guild_id, kind, target)
        self.bot.spending.forget(guild_id)
        return changed

    @property
    def _named(self) -> bool:
        """Whether models are shown with their provider: only when there are several."""
        return len(self.bot.providers) > 1

    async def _say(self, interaction: Interaction, text: str) -> None:
        await interaction.response.send_message(
            _within(text), ephemeral=True, allowed_mentions=NO_MENTIONS
        )

    async def _card(self, guild_id: int) -> discord.Embed:
        spending = self.bot.spending
        limits = await spending.limits(guild_id)
        ceilings = await spending.ceilings(guild_id)
        access = await spending.access(guild_id)
        lines = []
        for name, knob in KNOBS.items():
            value: int | None = getattr(limits, knob.field)
            ceiling: int | None = getattr(ceilings, knob.field)
            if value == ceiling:
                whose = "the ceiling"
            else:
                whose = "no ceiling" if ceiling is None else f"ceiling {knob.shown(ceiling)}"
            lines.append(f"**{knob.label}**: {knob.shown(value)} ({whose}) · `{name}`")
        embed = discord.Embed(
            title="Limits in this server",
            description="\n".join(lines),
            colour=discord.Colour.blurple(),
        )
        embed.add_field(
            name="Who may make videos",
            value=(
                f"Channels: {_listed(access.channels, '<#{}>', 'every channel')}\n"
                f"Roles: {_listed(access.roles, '<@&{}>', 'everyone')}\n"
                f"Blocked: {_listed(access.blocked, '<@{}>', 'nobody')}"
            ),
            inline=False,
        )
        embed.add_field(
            name="Models" if access.models else "Models (every one may be used)",
            value=models_text(self.bot.providers.offers(), access.models, named=self._named),
            inline=False,
        )
        embed.set_footer(
            text="Days are UTC days; the budget is per calendar month (UTC). "
            "A full slot puts a video in line; a daily or monthly limit refuses it. "
            "The ceilings are the bot operator's: limits here can be lower, never higher."
        )
        return embed


def _changed_models(
    allowed: frozenset[str], model: str | None, use: ModelUse, offered: list[str]
) -> frozenset[str]:
    """The models allowed after `use` of `model` (none: every model offered)."""
    if use == "every model":
        return frozenset()
    if model is None:
        raise UserError("Name a model.")
    if model not in offered:
        raise UserError(f"{model} is not offered; the models offered are {', '.join(offered)}.")
    if use == "allow":
        return allowed | {model}
    remaining = (allowed or frozenset(offered)) - {model}
    if not remaining:
        raise UserError(f"{model} is the only model allowed here: allow another one first.")
    return remaining


async def setup(bot: VideoBot) -> None:
    await bot.add_cog(Limits(bot))
