"""Per-guild settings: a server's own limits, the operator's ceilings over them, and who may
generate there."""

# SQL here is composed from constants only; every value goes in as a `?` parameter.
# ruff: noqa: S608

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal, get_args

from bot.spending.limits import LIMIT_FIELDS, Access, LimitField
from bot.storage.db import Database, column_list

# A stored "no limit" (NULL, None here, means the environment's value). Under the operator's
# ceilings a server's own "no limit" counts as the ceiling; a ceiling of NO_LIMIT is none.
NO_LIMIT: Final = -1

AccessKind = Literal["channel", "role", "blocked"]
# Whose values a row holds: the server's admins' (guild_settings) or the operator's ceilings.
SettingsTable = Literal["guild_settings", "guild_ceilings"]


@dataclass(frozen=True, slots=True)
class GuildSettings:
    """Each limit: None for the environment's value, NO_LIMIT for none, else the guild's own.

    The same shape holds a server's own limits and the operator's ceilings over them.
    """

    guild_id: int
    jobs_per_user: int | None = None
    jobs_per_guild: int | None = None
    daily_seconds_per_user: int | None = None
    daily_seconds_per_guild: int | None = None
    monthly_budget_micros: int | None = None


_COLUMNS = column_list(GuildSettings)


def _get(table: SettingsTable) -> str:
    # Names go into the SQL: only the known ones.
    if table not in get_args(SettingsTable):
        raise ValueError(f"not a settings table: {table!r}")
    return f"SELECT {_COLUMNS} FROM {table} WHERE guild_id = ?"


def _set_one(table: SettingsTable, field: LimitField) -> str:
    if table not in get_args(SettingsTable) or field not in LIMIT_FIELDS:
        raise ValueError(f"not a limit: {table}.{field}")
    # One column, in one statement: two admins changing two limits at once both keep theirs.
    return (
        f"INSERT INTO {table} (guild_id, {field}) VALUES (?, ?)"
        f" ON CONFLICT (guild_id) DO UPDATE SET {field} = excluded.{field}"
    )


_ACCESS = "SELECT kind, target_id FROM guild_access WHERE guild_id = ?"
_ADD_ACCESS = (
    "INSERT INTO guild_access (guild_id, kind, target_id) VALUES (?, ?, ?)"
    " ON CONFLICT (guild_id, kind, target_id) DO NOTHING"
)
_REMOVE_ACCESS = "DELETE FROM guild_access WHERE guild_id = ? AND kind = ? AND target_id = ?"
_MODELS = "SELECT model FROM guild_models WHERE guild_id = ?"
_ADD_MODEL = (
    "INSERT INTO guild_models (guild_id, model) VALUES (?, ?)"
    " ON CONFLICT (guild_id, model) DO NOTHING"
)
_CLEAR_MODELS = "DELETE FROM guild_models WHERE guild_id = ?"


class GuildRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, guild_id: int, table: SettingsTable = "guild_settings") -> GuildSettings:
        """The guild's limits (or ceilings); all the environment's for a guild never changed."""
        row = await self._db.fetch_one(_get(table), (guild_id,))
        return GuildSettings(*row) if row else GuildSettings(guild_id)

    async def set(
        self,
        guild_id: int,
        field: LimitField,
        value: int | None,
        table: SettingsTable = "guild_settings",
    ) -> None:
        """Change one limit (or ceiling) of the guild, leaving the others as they are."""
        await self._db.execute(_set_one(table, field), (guild_id, value))

    async def access(self, guild_id: int) -> Access:
        found: dict[str, set[int]] = {"channel": set(), "role": set(), "blocked": set()}
        for kind, target in await self._db.fetch_all(_ACCESS, (guild_id,)):
            found[str(kind)].add(int(target))
        models = frozenset(
            str(model) for (model,) in await self._db.fetch_all(_MODELS, (guild_id,))
        )
        return Access(
            frozenset(found["channel"]),
            frozenset(found["role"]),
            frozenset(found["blocked"]),
            models,
        )

    async def add_access(self, guild_id: int, kind: AccessKind, target_id: int) -> bool:
        """True if it was not listed already."""
        return await self._db.execute(_ADD_ACCESS, (guild_id, kind, target_id)) == 1

    async def remove_access(self, guild_id: int, kind: AccessKind, target_id: int) -> bool:
        """True if it was listed."""
        return await self._db.execute(_REMOVE_ACCESS, (guild_id, kind, target_id)) == 1

    async def set_models(self, guild_id: int, models: frozenset[str]) -> None:
        """The models the server may use from now on (none: every model offered)."""
        async with self._db.transaction():
            await self._db.execute(_CLEAR_MODELS, (guild_id,))
            for model in sorted(models):
                await self._db.execute(_ADD_MODEL, (guild_id, model))
