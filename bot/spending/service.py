"""Each scope's limits and access rules: the operator's ceilings over the server's own.

The environment is the operator's: its values are ceilings that a server's admins may lower
and never raise; the operator alone may give one server other ceilings (`videobot limits`).
Read on every request, changed rarely: kept in memory per scope, so the private checks before
a command answers cost no database round trip. A change here forgets the scope and bumps its
version, and a read that began before the change is not kept; a change made elsewhere (the
operator's command line, another process) is read within `fresh_for` seconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Final

from bot.spending.cache import VersionedCache
from bot.spending.limits import DM_SCOPE, LIMIT_FIELDS, Access, LimitField, Limits
from bot.storage import NO_LIMIT, GuildRepository, GuildSettings

FRESH_FOR: Final = 60.0


def ceilings(defaults: Limits, granted: GuildSettings) -> Limits:
    """The environment's values, where the operator gave this server no other ceiling."""
    chosen: dict[str, int | None] = {}
    for field in LIMIT_FIELDS:
        own: int | None = getattr(granted, field)
        chosen[field] = getattr(defaults, field) if own is None else _limit(own)
    return replace(defaults, **chosen)


def effective(ceiling: Limits, own: GuildSettings) -> Limits:
    """The server's own limits where they lie under the ceiling, the ceiling elsewhere.

    A stored "no limit" or a value above the ceiling (written before ceilings existed, or
    under a ceiling since lowered) counts as the ceiling.
    """
    chosen: dict[str, int | None] = {}
    for field in LIMIT_FIELDS:
        cap: int | None = getattr(ceiling, field)
        value = _limit(getattr(own, field))
        chosen[field] = cap if value is None else value if cap is None else min(value, cap)
    return replace(ceiling, **chosen)


def _limit(stored: int | None) -> int | None:
    return None if stored is None or stored == NO_LIMIT else stored


@dataclass(frozen=True, slots=True)
class Rules:
    ceilings: Limits
    limits: Limits
    access: Access


class Spending:
    def __init__(
        self,
        guilds: GuildRepository,
        defaults: Limits,
        *,
        fresh_for: float = FRESH_FOR,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.guilds = guilds
        self.defaults = defaults
        # A burst of commands in a new guild reads its rules once.
        self._rules: VersionedCache[int, Rules] = VersionedCache(fresh_for=fresh_for, clock=clock)

    async def limits(self, scope: int) -> Limits:
        return (await self._load(scope)).limits

    async def ceilings(self, scope: int) -> Limits:
        return (await self._load(scope)).ceilings

    async def access(self, scope: int) -> Access:
        return (await self._load(scope)).access

    async def set(self, scope: int, field: LimitField, value: int | None) -> None:
        """A server's admin changed one limit (None: back to the ceiling)."""
        await self.guilds.set(scope, field, value)
        self.forget(scope)

    def forget(self, scope: int) -> None:
        """The scope's rules changed: read them again next time, and drop any read under way."""
        self._rules.forget(scope)

    async def _load(self, scope: int) -> Rules:
        if scope == DM_SCOPE:
            return Rules(self.defaults, self.defaults, Access())
        return await self._rules.get(scope, lambda: self._read(scope))

    async def _read(self, scope: int) -> Rules:
        cap = ceilings(self.defaults, await self.guilds.get(scope, "guild_ceilings"))
        own = await self.guilds.get(scope)
        return Rules(cap, effective(cap, own), await self.guilds.access(scope))
