"""Per-guild settings: overrides of the bot-wide limits."""

# SQL here is composed from constants only; every value goes in as a `?` parameter.
# ruff: noqa: S608

from __future__ import annotations

from dataclasses import astuple, dataclass

from bot.storage.db import Database, column_list, insert_sql


@dataclass(frozen=True, slots=True)
class GuildSettings:
    """None in a limit means the bot-wide default from the settings applies."""

    guild_id: int
    max_concurrent_jobs: int | None = None  # per user
    daily_seconds_per_user: int | None = None
    monthly_budget: float | None = None


_GET = f"SELECT {column_list(GuildSettings)} FROM guild_settings WHERE guild_id = ?"
_UPSERT = (
    insert_sql("guild_settings", GuildSettings)
    + " ON CONFLICT (guild_id) DO UPDATE SET max_concurrent_jobs = excluded.max_concurrent_jobs,"
    " daily_seconds_per_user = excluded.daily_seconds_per_user,"
    " monthly_budget = excluded.monthly_budget"
)


class GuildRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, guild_id: int) -> GuildSettings:
        """The guild's settings; all defaults for a guild that never changed any."""
        row = await self._db.fetch_one(_GET, (guild_id,))
        return GuildSettings(*row) if row else GuildSettings(guild_id)

    async def set(self, settings: GuildSettings) -> None:
        await self._db.execute(_UPSERT, astuple(settings))
