"""The limits each scope has: the operator's ceilings over the server's own, and a cache that
never keeps what was read before a change."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.spending.limits import DM_SCOPE, Limits
from bot.spending.service import Spending, ceilings, effective
from bot.storage import NO_LIMIT, Database, GuildRepository, GuildSettings, SqliteDatabase
from bot.storage.guilds import SettingsTable

GUILD = 9001
ENV = Limits(
    jobs_per_user=2,
    jobs_per_guild=None,
    daily_seconds_per_user=120,
    daily_seconds_per_guild=None,
    monthly_budget_micros=50_000_000,
    bot_monthly_budget_micros=500_000_000,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class PausingGuilds(GuildRepository):
    """Reads a server's own limits, then waits for the test before handing them back."""

    def __init__(self, db: Database) -> None:
        super().__init__(db)
        self.read = asyncio.Event()
        self.go_on = asyncio.Event()
        self.pause = False

    async def get(self, guild_id: int, table: SettingsTable = "guild_settings") -> GuildSettings:
        found = await super().get(guild_id, table)
        if self.pause and table == "guild_settings":
            self.pause = False
            self.read.set()
            await self.go_on.wait()
        return found


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with await SqliteDatabase.open(tmp_path / "videobot.sqlite3") as database:
        yield database


def test_the_environment_caps_what_a_server_stored() -> None:
    cap = ceilings(ENV, GuildSettings(GUILD))
    assert cap == ENV
    own = GuildSettings(
        GUILD,
        jobs_per_user=NO_LIMIT,  # "none", stored before ceilings existed: the ceiling
        jobs_per_guild=7,  # no ceiling: the server's own
        daily_seconds_per_user=1_000,  # over the ceiling: the ceiling
        monthly_budget_micros=400_000,  # under it: the server's own
    )
    assert effective(cap, own) == Limits(2, 7, 120, None, 400_000, 500_000_000)


def test_the_operator_may_give_one_server_other_ceilings() -> None:
    granted = GuildSettings(GUILD, monthly_budget_micros=200_000_000, jobs_per_user=NO_LIMIT)
    cap = ceilings(ENV, granted)
    assert cap.monthly_budget_micros == 200_000_000
    assert cap.jobs_per_user is None
    # The bot-wide budget is the environment's alone.
    assert cap.bot_monthly_budget_micros == 500_000_000
    assert effective(cap, GuildSettings(GUILD)).monthly_budget_micros == 200_000_000
    mine = GuildSettings(GUILD, monthly_budget_micros=300_000_000)
    assert effective(cap, mine).monthly_budget_micros == 200_000_000


async def test_direct_messages_have_the_environments_limits(db: Database) -> None:
    spending = Spending(GuildRepository(db), ENV)
    assert await spending.limits(DM_SCOPE) == ENV
    assert await spending.ceilings(DM_SCOPE) == ENV


async def test_a_change_during_a_first_read_is_not_lost_to_the_cache(db: Database) -> None:
    guilds = PausingGuilds(db)
    spending = Spending(guilds, ENV)
    guilds.pause = True
    # A first /video in the server reads its limits...
    reading = asyncio.create_task(spending.limits(GUILD))
    await guilds.read.wait()
    # ...while an admin lowers the budget.
    await spending.set(GUILD, "monthly_budget_micros", 400_000)
    guilds.go_on.set()
    # The reader began before the change: what it got predates it, and is not kept.
    assert (await reading).monthly_budget_micros == 50_000_000
    assert (await spending.limits(GUILD)).monthly_budget_micros == 400_000


async def test_a_set_during_a_concurrent_load_never_leaves_a_stale_cache(db: Database) -> None:
    spending = Spending(GuildRepository(db), ENV)
    # The admin's change lands at every point of a member's read, one step later each time.
    for steps in range(1, 41):
        spending.forget(GUILD)
        load = asyncio.create_task(spending.limits(GUILD))
        for _ in range(steps):
            await asyncio.sleep(0)
        await spending.set(GUILD, "monthly_budget_micros", 400_000 * steps)
        await load
        assert (await spending.limits(GUILD)).monthly_budget_micros == 400_000 * steps


async def test_a_change_made_elsewhere_is_read_within_fresh_for(db: Database) -> None:
    clock = Clock()
    guilds = GuildRepository(db)
    spending = Spending(guilds, ENV, fresh_for=60.0, clock=clock)
    assert (await spending.limits(GUILD)).monthly_budget_micros == 50_000_000
    # The operator's `videobot limits`, another process: nothing here hears of it.
    await guilds.set(GUILD, "monthly_budget_micros", 10_000_000, "guild_ceilings")
    clock.now += 59.0
    assert (await spending.limits(GUILD)).monthly_budget_micros == 50_000_000
    clock.now += 1.0
    assert (await spending.limits(GUILD)).monthly_budget_micros == 10_000_000
    assert (await spending.ceilings(GUILD)).monthly_budget_micros == 10_000_000
