from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.spending.limits import Access, LimitField
from bot.storage import (
    NO_LIMIT,
    Database,
    GuildRepository,
    GuildSettings,
    IntegrityError,
    SqliteDatabase,
)

from .conftest import OpenDb
from .helpers import GUILD, OTHER_GUILD
from .test_migrations import copy_migrations


@pytest.fixture
def guilds(db: Database) -> GuildRepository:
    return GuildRepository(db)


async def test_a_guild_never_configured_has_defaults(guilds: GuildRepository) -> None:
    assert await guilds.get(GUILD) == GuildSettings(GUILD, None, None, None, None, None)
    assert await guilds.access(GUILD) == Access()


async def test_set_one_limit_then_get_and_overwrite(guilds: GuildRepository) -> None:
    await guilds.set(GUILD, "jobs_per_user", 2)
    await guilds.set(GUILD, "jobs_per_guild", NO_LIMIT)
    await guilds.set(GUILD, "monthly_budget_micros", 50_000_000)
    assert await guilds.get(GUILD) == GuildSettings(
        GUILD, jobs_per_user=2, jobs_per_guild=NO_LIMIT, monthly_budget_micros=50_000_000
    )
    await guilds.set(GUILD, "jobs_per_user", None)
    assert await guilds.get(GUILD) == GuildSettings(
        GUILD, jobs_per_guild=NO_LIMIT, monthly_budget_micros=50_000_000
    )
    assert await guilds.get(OTHER_GUILD) == GuildSettings(OTHER_GUILD)


async def test_concurrent_sets_of_different_limits_all_survive(
    open_db: OpenDb, guilds: GuildRepository
) -> None:
    values: dict[LimitField, int] = {
        "jobs_per_user": 3,
        "jobs_per_guild": 9,
        "daily_seconds_per_user": 60,
        "daily_seconds_per_guild": 600,
        "monthly_budget_micros": 400_000,
    }
    # Five admins, each through their own connection, as from several processes.
    others = [await open_db() for _ in values]
    try:
        await asyncio.gather(
            *(
                GuildRepository(d).set(GUILD, field, value)
                for d, (field, value) in zip(others, values.items(), strict=True)
            )
        )
    finally:
        for database in others:
            await database.close()
    assert await guilds.get(GUILD) == GuildSettings(GUILD, **values)


async def test_ceilings_are_the_operators_and_apart_from_the_servers_own(
    guilds: GuildRepository,
) -> None:
    await guilds.set(GUILD, "monthly_budget_micros", 200_000_000, "guild_ceilings")
    await guilds.set(GUILD, "monthly_budget_micros", 1_000_000)
    assert await guilds.get(GUILD, "guild_ceilings") == GuildSettings(
        GUILD, monthly_budget_micros=200_000_000
    )
    assert await guilds.get(GUILD) == GuildSettings(GUILD, monthly_budget_micros=1_000_000)
    with pytest.raises(IntegrityError, match=r"(?i)check"):
        await guilds.set(GUILD, "jobs_per_user", 0, "guild_ceilings")


async def test_only_a_limit_can_be_set(guilds: GuildRepository) -> None:
    with pytest.raises(ValueError, match="not a limit"):
        await guilds.set(GUILD, "guild_id; DROP TABLE ledger", 1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not a limit"):
        await guilds.set(GUILD, "jobs_per_user", 1, "ledger")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not a settings table"):
        await guilds.get(GUILD, "ledger")  # type: ignore[arg-type]


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
