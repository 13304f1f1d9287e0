"""A bot process that a test can stop dead and resume, as SIGSTOP and SIGCONT do.

The bot runs in a thread of its own with its own event loop, on loopback to the fake Discord,
the simulator and the database like any other bot of the suite. `stop_dead` blocks that loop
between two of its steps: no timer fires, no renewal goes out, no answer is read, while the
rest of the test (the fake, the simulator, other bots) goes on; `resume` lets it run on from
exactly there, its clocks having moved as a stopped process's do. Where it stops is made
certain by holding a request at the fake or the simulator before stopping it.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import AsyncExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import pytest

from bot.config import Settings
from bot.storage import open_database
from bot.wiring import build_bot, provider_client

from .botenv import CADENCE, DEFAULT, EDIT_INTERVAL, BotEnv, CountingTransport
from .fake_discord import JSON, FakeDiscord
from .harness import Harness, World

T = TypeVar("T")


class LoopThread:
    """An event loop running in its own thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self._stops: list[threading.Event] = []

    async def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run `coro` in this loop and wait for it from the caller's."""
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self.loop))

    async def stop_dead(self) -> None:
        """Block the loop between two of its steps until `resume`."""
        stopped, go_on = threading.Event(), threading.Event()

        def stall() -> None:
            stopped.set()
            go_on.wait()

        self._stops.append(go_on)
        self.loop.call_soon_threadsafe(stall)
        await asyncio.to_thread(stopped.wait)

    def resume(self) -> None:
        for go_on in self._stops:
            go_on.set()
        self._stops.clear()

    def close(self) -> None:
        self.resume()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        self.loop.close()


class ThreadHarness(Harness):
    """A harness whose gateway events reach the bot in its own loop."""

    def __init__(self, fake: FakeDiscord, client: Any, world: World, loop: LoopThread) -> None:
        super().__init__(fake, client, world)
        self._loop = loop

    def feed(self, event: str, payload: JSON) -> None:
        parser = self.client._connection.parsers[event]
        try:
            here = asyncio.get_running_loop() is self._loop.loop
        except RuntimeError:
            here = False
        if here:
            parser(payload)
        else:
            self._loop.loop.call_soon_threadsafe(parser, payload)


@dataclass
class StoppableBot:
    env: BotEnv
    thread: LoopThread
    # What closes the bot, its database and its API client, in its own loop.
    stack: AsyncExitStack = field(default_factory=AsyncExitStack)

    async def stop_dead(self) -> None:
        await self.thread.stop_dead()

    def resume(self) -> None:
        self.thread.resume()

    async def read(self, what: Callable[[], T]) -> T:
        """`what()` evaluated in the bot's own loop, where its state changes."""

        async def read() -> T:
            return what()

        return await self.thread.run(read())

    async def until(self, what: Callable[[], bool], within: float, name: str) -> None:
        """Wait, at most `within` seconds, until `what()` holds in the bot's own loop."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while not await asyncio.wait_for(self.read(what), within):
            if loop.time() > deadline:
                raise AssertionError(f"timed out after {within}s waiting for {name}")
            await asyncio.sleep(0.05)


StartStoppable = Callable[..., Awaitable[StoppableBot]]


@pytest.fixture
async def start_stoppable(
    fake_discord: FakeDiscord, world: World, tmp_path: Path
) -> AsyncIterator[StartStoppable]:
    """`await start_stoppable(api_url=..., database_url=..., settings=...)`: a bot in its own
    thread and loop; stopped, resumed and closed after the test."""
    started: list[StoppableBot] = []

    async def start(
        *,
        api_url: str,
        database_url: str,
        settings: dict[str, Any] | None = None,
        edit_interval: float = EDIT_INTERVAL,
    ) -> StoppableBot:
        thread = LoopThread()
        stack = AsyncExitStack()

        async def build() -> BotEnv:
            config = Settings(
                _env_file=None,  # type: ignore[call-arg]
                discord_token="fake",
                poll_interval=0.2,
                **(settings or {}),
            )
            counting = CountingTransport()
            api = await stack.enter_async_context(
                provider_client(config, api_url, None, transport=counting)
            )
            db_path = tmp_path / "unused.sqlite3"
            db = await stack.enter_async_context(await open_database(database_url, db_path))
            session = await stack.enter_async_context(aiohttp.ClientSession())
            tuning = replace(DEFAULT, edit_interval=edit_interval, cadence=CADENCE)
            bot = build_bot(config, db, api, session, tuning)
            harness = ThreadHarness(fake_discord, bot, world, thread)
            stack.push_async_callback(harness.close)
            await harness.start()
            return BotEnv(harness, bot, None, db_path, counting.sent)

        try:
            bot = StoppableBot(await thread.run(build()), thread, stack)
        except BaseException:
            await thread.run(stack.aclose())
            thread.close()
            raise
        started.append(bot)
        return bot

    yield start
    for bot in started:
        bot.resume()
        try:
            await bot.thread.run(bot.stack.aclose())
        finally:
            bot.thread.close()
