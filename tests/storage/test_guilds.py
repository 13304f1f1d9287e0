from __future__ import annotations

from pathlib import Path

import pytest

from bot.spending.limits import Access
from bot.storage import (
    NO_LIMIT,
    Database,
    GuildRepository,
    GuildSettings,
    IntegrityError,
    SqliteDatabase,
)

from .helpers import GUILD, OTHER_GUILD
from .test_migrations import copy_migrations


@pytest.fixture
def guilds(db: Database) -> GuildRepository:
    return GuildRepository(db)


async def test_a_guild_never_configured_has_defaults(guilds: GuildRepository) -> None:
    assert await guilds.get(GUILD) == GuildSettings(GUILD, None, None, None, None, None)
    assert await guilds.access(GUILD) == Access()


async def test_set_then_get_and_overwrite(guilds: GuildRepository) -> None:
    settings = GuildSettings(
        GUILD,
        jobs_per_user=2,
        jobs_per_guild=NO_LIMIT,
        daily_seconds_per_user=120,
        daily_seconds_per_guild=0,
        monthly_budget_micros=50_000_000,
    )
    await guilds.set(settings)
    assert await guilds.get(GUILD) == settings

    relaxed = GuildSettings(GUILD, jobs_per_user=4)
    await guilds.set(relaxed)
    assert await guilds.get(GUILD) == relaxed
    assert await guilds.get(OTHER_GUILD) == GuildSettings(OTHER_GUILD)


@pytest.mark.parametrize(
    "settings",
    [
        GuildSettings(GUILD, monthly_budget_micros=-2),
        GuildSettings(GUILD, daily_seconds_per_user=-5),
        # No slot at all would make every job wait forever.
        GuildSettings(GUILD, jobs_per_user=0),
        GuildSettings(GUILD, jobs_per_guild=0),
    ],
)
async def test_impossible_limits_are_refused(
    guilds: GuildRepository, settings: GuildSettings
) -> None:
    with pytest.raises(IntegrityError, match=r"(?i)check"):
        await guilds.set(settings)


async def test_access_lists_are_per_guild_and_kind(guilds: GuildRepository) -> None:
    assert await guilds.add_access(GUILD, "channel", 10)
    assert not await guilds.add_access(GUILD, "channel", 10)  # listed already
    assert await guilds.add_access(GUILD, "role", 20)
    assert await guilds.add_access(GUILD, "blocked", 30)
    assert await guilds.add_access(OTHER_GUILD, "channel", 11)
    assert await guilds.access(GUILD) == Access(frozenset({10}), frozenset({20}), frozenset({30}))
    assert await guilds.remove_access(GUILD, "blocked", 30)
    assert not await guilds.remove_access(GUILD, "blocked", 30)
    assert (await guilds.access(GUILD)).blocked == frozenset()
    assert (await guilds.access(OTHER_GUILD)).channels == frozenset({11})


async def test_overrides_written_before_the_ledger_migration_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    async with await SqliteDatabase.open(path, migrations=copy_migrations(tmp_path, 6)) as db:
        await db.execute(
            "INSERT INTO guild_settings (guild_id, max_concurrent_jobs, daily_seconds_per_user,"
            " monthly_budget) VALUES (?, 3, 60, 12.5)",
            (GUILD,),
        )
    async with await SqliteDatabase.open(path) as db:
        assert await GuildRepository(db).get(GUILD) == GuildSettings(
            GUILD, jobs_per_user=3, daily_seconds_per_user=60, monthly_budget_micros=12_500_000
        )
