from __future__ import annotations

import pytest

from bot.storage import Database, GuildRepository, GuildSettings, IntegrityError

from .helpers import GUILD, OTHER_GUILD


@pytest.fixture
def guilds(db: Database) -> GuildRepository:
    return GuildRepository(db)


async def test_a_guild_never_configured_has_defaults(guilds: GuildRepository) -> None:
    assert await guilds.get(GUILD) == GuildSettings(GUILD, None, None, None)


async def test_set_then_get_and_overwrite(guilds: GuildRepository) -> None:
    settings = GuildSettings(
        GUILD, max_concurrent_jobs=2, daily_seconds_per_user=120, monthly_budget=50.0
    )
    await guilds.set(settings)
    assert await guilds.get(GUILD) == settings

    relaxed = GuildSettings(GUILD, max_concurrent_jobs=4)
    await guilds.set(relaxed)
    assert await guilds.get(GUILD) == relaxed
    assert await guilds.get(OTHER_GUILD) == GuildSettings(OTHER_GUILD)


async def test_negative_limits_are_refused(guilds: GuildRepository) -> None:
    with pytest.raises(IntegrityError, match=r"(?i)check"):
        await guilds.set(GuildSettings(GUILD, monthly_budget=-1.0))
