"""Per-guild settings: overrides of the bot-wide limits, and who may generate there."""

# SQL here is composed from constants only; every value goes in as a `?` parameter.
# ruff: noqa: S608

from __future__ import annotations

from dataclasses import astuple, dataclass, fields
from typing import Final, Literal

from bot.spending.limits import Access
from bot.storage.db import Database, column_list, insert_sql

# An override that switches a limit off (NULL, None here, means "the bot-wide default").
NO_LIMIT: Final = -1

AccessKind = Literal["channel", "role", "blocked"]


@dataclass(frozen=True, slots=True)
class GuildSettings:
    """Each limit: None for the bot-wide default, NO_LIMIT for none, else the guild's own."""

    guild_id: int
    jobs_per_user: int | None = None
    jobs_per_guild: int | None = None
    daily_seconds_per_user: int | None = None
    daily_seconds_per_guild: int | None = None
    monthly_budget_micros: int | None = None


_LIMITS = [field.name for field in fields(GuildSettings)][1:]
_GET = f"SELECT {column_list(GuildSettings)} FROM guild_settings WHERE guild_id = ?"
_UPSERT = (
    insert_sql("guild_settings", GuildSettings)
    + " ON CONFLICT (guild_id) DO UPDATE SET "
    + ", ".join(f"{name} = excluded.{name}" for name in _LIMITS)
)
_ACCESS = "SELECT kind, target_id FROM guild_access WHERE guild_id = ?"
_ADD_ACCESS = (
    "INSERT INTO guild_access (guild_id, kind, target_id) VALUES (?, ?, ?)"
    " ON CONFLICT (guild_id, kind, target_id) DO NOTHING"
)
_REMOVE_ACCESS = "DELETE FROM guild_access WHERE guild_id = ? AND kind = ? AND target_id = ?"


class GuildRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, guild_id: int) -> GuildSettings:
        """The guild's settings; all defaults for a guild that never changed any."""
        row = await self._db.fetch_one(_GET, (guild_id,))
        return GuildSettings(*row) if row else GuildSettings(guild_id)

    async def set(self, settings: GuildSettings) -> None:
        await self._db.execute(_UPSERT, astuple(settings))

    async def access(self, guild_id: int) -> Access:
        found: dict[str, set[int]] = {"channel": set(), "role": set(), "blocked": set()}
        for kind, target in await self._db.fetch_all(_ACCESS, (guild_id,)):
            found[str(kind)].add(int(target))
        return Access(
            frozenset(found["channel"]), frozenset(found["role"]), frozenset(found["blocked"])
        )

    async def add_access(self, guild_id: int, kind: AccessKind, target_id: int) -> bool:
        """True if it was not listed already."""
        return await self._db.execute(_ADD_ACCESS, (guild_id, kind, target_id)) == 1

    async def remove_access(self, guild_id: int, kind: AccessKind, target_id: int) -> bool:
        """True if it was listed."""
        return await self._db.execute(_REMOVE_ACCESS, (guild_id, kind, target_id)) == 1
