"""/usage: what the caller used today and spent this month; `server`: the server's month."""

from __future__ import annotations

import asyncio
import datetime
import io
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import UserError
from bot.spending import periods
from bot.spending.chart import spend_chart
from bot.spending.limits import DM_SCOPE, Limits
from bot.spending.money import usd
from bot.storage import Month
from bot.ui.rules import refusals_text
from bot.ui.spending import seconds_text
from bot.ui.text import timestamp

if TYPE_CHECKING:
    from bot.app import VideoBot

    Interaction = discord.Interaction[VideoBot]

NO_MENTIONS = discord.AllowedMentions.none()


def _of(used: str, limit: str | None) -> str:
    return f"{used} of {limit}" if limit is not None else f"{used} (no limit)"


def _capped(limit: int | None, ceiling: int | None, show: Callable[[int], str]) -> str:
    """The operator's ceiling beside a server's limit."""
    if limit == ceiling:
        return ", the operator's ceiling"
    return ", no ceiling" if ceiling is None else f", under a ceiling of {show(ceiling)}"


def member_card(
    limits: Limits,
    *,
    seconds_today: int,
    spent_month: int,
    running: int,
    waiting: int,
    now: float,
    where: str,
) -> discord.Embed:
    allowed = limits.daily_seconds_per_user
    embed = discord.Embed(title=f"Your usage {where}", colour=discord.Colour.blurple())
    embed.add_field(
        name="Seconds today",
        value=_of(seconds_text(seconds_today), None if allowed is None else seconds_text(allowed))
        + f" · resets {timestamp(periods.day(now).end)}",
        inline=False,
    )
    at_once = limits.jobs_per_user
    embed.add_field(
        name="Videos",
        value=f"{running} running, {waiting} waiting"
        + (f" · {at_once} at once" if at_once is not None else ""),
        inline=False,
    )
    embed.add_field(name="Spent this month", value=usd(spent_month), inline=False)
    return embed


def server_card(
    limits: Limits, ceilings: Limits, month: Month, now: float, name: str
) -> discord.Embed:
    budget = limits.monthly_budget_micros
    used = month.spent_micros + month.held_micros
    label = datetime.datetime.fromtimestamp(now, datetime.UTC).strftime("%B %Y")
    embed = discord.Embed(title=f"Usage in {name}, {label}", colour=discord.Colour.blurple())
    value = _of(usd(used), None if budget is None else usd(budget))
    value += _capped(budget, ceilings.monthly_budget_micros, usd)
    if month.held_micros:
        value += f" ({usd(month.held_micros)} held for videos running or waiting)"
    embed.add_field(
        name="This month",
        value=f"{value} · resets {timestamp(periods.month(now).end)}",
        inline=False,
    )
    daily = limits.daily_seconds_per_guild
    embed.add_field(
        name="Seconds today",
        value=_of(seconds_text(month.seconds_today), None if daily is None else seconds_text(daily))
        + _capped(daily, ceilings.daily_seconds_per_guild, seconds_text),
        inline=False,
    )
    top = "\n".join(
        f"{rank}. <@{spender.user_id}> {usd(spender.micros)} · {seconds_text(spender.seconds)}"
        for rank, spender in enumerate(month.top, start=1)
    )
    embed.add_field(name="Top members", value=top or "Nobody has made a video this month.")
    return embed


class Usage(commands.Cog):
    def __init__(self, bot: VideoBot) -> None:
        self.bot = bot

    @app_commands.command(name="usage", description="Your seconds today and spend this month")
    @app_commands.describe(show="`me` (the default), or `server`: the server's month (admins)")
    async def usage(self, interaction: Interaction, show: Literal["me", "server"] = "me") -> None:
        if show == "server":
            await self._server(interaction)
            return
        user, scope = interaction.user.id, interaction.guild_id or DM_SCOPE
        bot = self.bot
        seconds, spent = await bot.ledger.user_today_and_month(scope, user)
        running = (await bot.videos.running()).get((scope, user), 0)
        waiting = sum(
            1
            for row in await bot.videos.waiting_rows()
            if row.scope == scope and row.owner_id == user
        )
        embed = member_card(
            await bot.spending.limits(scope),
            seconds_today=seconds,
            spent_month=spent,
            running=running,
            waiting=waiting,
            now=time.time(),
            where="here" if scope != DM_SCOPE else "in direct messages",
        )
        await interaction.response.send_message(embed=embed, ephemeral=True)

    async def _server(self, interaction: Interaction) -> None:
        if interaction.guild_id is None:
            raise UserError("That only works in a server.")
        if not interaction.permissions.manage_guild:
            raise app_commands.MissingPermissions(["manage_guild"])
        await interaction.response.defer(ephemeral=True, thinking=True)
        scope = interaction.guild_id
        now = time.time()
        month = await self.bot.ledger.month(scope)
        name = interaction.guild.name if interaction.guild is not None else "this server"
        spending = self.bot.spending
        embed = server_card(
            await spending.limits(scope), await spending.ceilings(scope), month, now, name
        )
        # What the server's prompt rules, the moderation check and the provider refused.
        refusals = await self.bot.prompts.store.month(scope, now)
        embed.add_field(name="Refused prompts", value=refusals_text(refusals), inline=False)
        today = periods.day(now).start_date.isoformat()
        title = f"Spend per day, {periods.month(now).start_date:%B %Y}"
        png = await asyncio.to_thread(spend_chart, title, month.by_day, today)
        filename = f"usage-{periods.month(now).start_date:%Y-%m}.png"
        embed.set_image(url=f"attachment://{filename}")
        await interaction.followup.send(
            embed=embed,
            file=discord.File(io.BytesIO(png), filename=filename),
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )


async def setup(bot: VideoBot) -> None:
    await bot.add_cog(Usage(bot))
