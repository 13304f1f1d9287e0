"""Each scope's limits and access rules: the bot-wide defaults under the server's overrides.

Read on every request, changed rarely (by /limits): kept in memory per scope, forgotten when
changed, so the private checks before a command answers cost no database round trip.
"""

from __future__ import annotations

import asyncio
from dataclasses import fields

from bot.spending.limits import DM_SCOPE, Access, Limits
from bot.storage import NO_LIMIT, GuildRepository, GuildSettings


def effective(defaults: Limits, overrides: GuildSettings) -> Limits:
    """`defaults` where the guild kept them, its own values (or no limit) elsewhere."""
    chosen: dict[str, int | None] = {}
    for field in fields(Limits):
        own: int | None = getattr(overrides, field.name)
        default: int | None = getattr(defaults, field.name)
        chosen[field.name] = default if own is None else (None if own == NO_LIMIT else own)
    return Limits(**chosen)


class Spending:
    def __init__(self, guilds: GuildRepository, defaults: Limits) -> None:
        self.guilds = guilds
        self.defaults = defaults
        self._rules: dict[int, tuple[Limits, Access]] = {}
        self._loading: dict[int, asyncio.Lock] = {}

    async def limits(self, scope: int) -> Limits:
        return (await self._load(scope))[0]

    async def access(self, scope: int) -> Access:
        return (await self._load(scope))[1]

    async def overrides(self, scope: int) -> GuildSettings:
        return await self.guilds.get(scope)

    async def set(self, settings: GuildSettings) -> None:
        await self.guilds.set(settings)
        self._rules.pop(settings.guild_id, None)

    def forget(self, scope: int) -> None:
        """The scope's rules changed: read them again next time."""
        self._rules.pop(scope, None)

    async def _load(self, scope: int) -> tuple[Limits, Access]:
        if scope == DM_SCOPE:
            return self.defaults, Access()
        cached = self._rules.get(scope)
        if cached is not None:
            return cached
        # A burst of commands in a new guild reads its rules once.
        async with self._loading.setdefault(scope, asyncio.Lock()):
            cached = self._rules.get(scope)
            if cached is None:
                overrides = await self.guilds.get(scope)
                cached = (effective(self.defaults, overrides), await self.guilds.access(scope))
                self._rules[scope] = cached
            return cached
