"""Fixtures for end-to-end tests: a fake Discord, a default world in it, and a bot started on it.

async def test_something(start_harness, world):
    h = await start_harness(MyBot(...))
    rec = h.slash("video", {"prompt": "a cat"}, user=world.alice)
    message = await h.original(rec)
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import discord
import pytest

from .botenv import start_bot
from .fake_discord import FakeDiscord
from .harness import Harness, World, build_world, pointed_at

StartHarness = Callable[[discord.Client], Awaitable[Harness]]


@pytest.fixture
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    """A started fake with ``discord.http.Route.BASE`` pointed at it; fails the test at teardown if
    the bot called an unknown route or the fake itself broke."""
    async with FakeDiscord() as fake:
        with pointed_at(fake):
            yield fake
    fake.assert_clean()


@pytest.fixture
def world(fake_discord: FakeDiscord) -> World:
    return build_world(fake_discord)


@pytest.fixture
async def start_harness(fake_discord: FakeDiscord, world: World) -> AsyncIterator[StartHarness]:
    """``await start_harness(client)`` logs the client in, feeds READY and GUILD_CREATE, and
    returns the :class:`Harness`; the client is closed (and logged errors fail the test) after."""
    started: list[Harness] = []

    async def start(client: discord.Client) -> Harness:
        harness = Harness(fake_discord, client, world)
        started.append(harness)
        return await harness.start()

    yield start
    for harness in started:
        await harness.close()


__all__ = ["StartHarness", "fake_discord", "start_bot", "start_harness", "world"]
