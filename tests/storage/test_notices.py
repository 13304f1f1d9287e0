"""Notices of changed jobs on the real PostgreSQL server: each holder hears of its own jobs only,
and a listening connection that drops (closed by the server, or silent) is replaced, with a call
to read again."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from bot.storage import LeaseRepository, VideoRepository
from bot.storage.notices import APPLICATION_NAME, CHANNEL, ChangeFeed
from bot.storage.postgres import PostgresDatabase
from bot.timing.backoff import Backoff
from bot.timing.tasks import cancel_and_wait
from tests.postgres import PostgresServer

from .helpers import add_video

# Every wait is bounded: a notice that never comes fails the test instead of hanging it.
WITHIN = 15.0
FAR = 4_000_000_000.0  # a lease that does not run out during the test


class Heard:
    """Counts a feed's calls to `on_change`; a test waits for the n-th."""

    def __init__(self) -> None:
        self.count = 0
        self._called = asyncio.Event()

    def __call__(self) -> None:
        self.count += 1
        self._called.set()

    async def until(self, count: int) -> None:
        async with asyncio.timeout(WITHIN):
            while self.count < count:
                self._called.clear()
                await self._called.wait()


class Recorder:
    """A plain listener on the channel: every notice, whoever it names, in the order it came."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self._came = asyncio.Event()

    def __call__(self, _connection: object, _pid: int, _channel: str, payload: str) -> None:
        self.names.append(payload)
        self._came.set()

    async def until(self, count: int) -> list[str]:
        async with asyncio.timeout(WITHIN):
            while len(self.names) < count:
                self._came.clear()
                await self._came.wait()
        return self.names


class Feeds:
    def __init__(self, stack: AsyncExitStack, url: str, db: PostgresDatabase) -> None:
        self.stack, self.url, self.db = stack, url, db

    def start(self, holder: str, spacing: float = 0.0) -> tuple[ChangeFeed, Heard]:
        # Reconnects at once: the tests are about coming back, not about how long it waits.
        feed = ChangeFeed(
            self.url, self.db, holder, spacing=spacing, backoff=Backoff(base_delay=0.01)
        )
        heard = Heard()
        feed.start(heard)
        self.stack.push_async_callback(feed.stop)
        return feed, heard

    async def record(self) -> Recorder:
        recorder = Recorder()
        connection = await asyncpg.connect(self.url)
        self.stack.push_async_callback(connection.close)
        await connection.add_listener(CHANNEL, recorder)
        return recorder


@pytest.fixture
async def url(postgres: PostgresServer) -> str:
    return await postgres.new_database()


@pytest.fixture
async def feeds(url: str) -> AsyncIterator[Feeds]:
    async with AsyncExitStack() as stack:
        db = await stack.enter_async_context(await PostgresDatabase.open(url))
        yield Feeds(stack, url, db)


async def leased(db: PostgresDatabase, video_id: str, holder: str) -> int:
    row = await add_video(VideoRepository(db), video_id)
    assert await LeaseRepository(db).claim(row.key, holder, FAR, 0.0)
    return row.key


async def test_each_holder_hears_of_its_own_jobs(feeds: Feeds) -> None:
    first_key = await leased(feeds.db, "video_first", "first")
    second_key = await leased(feeds.db, "video_second", "second")
    _, first = feeds.start("first")
    _, second = feeds.start("second")
    writer, _ = feeds.start("writer")
    # Connected: each is told to read once, for what changed before it listened.
    await first.until(1)
    await second.until(1)

    writer.announce({second_key})
    await second.until(2)
    writer.announce({first_key})
    await first.until(2)


async def test_a_notice_names_each_other_holder_once(feeds: Feeds) -> None:
    mine = await leased(feeds.db, "video_mine", "writer")
    theirs = [await leased(feeds.db, f"video_{n}", "second") for n in range(3)]
    other = await leased(feeds.db, "video_other", "third")
    recorder = await feeds.record()
    writer, _ = feeds.start("writer")

    writer.announce({mine, *theirs, other})

    # Not the writer itself: it published its own jobs as it wrote them.
    assert sorted(await recorder.until(2)) == ["second", "third"]
    writer.announce({theirs[0]})
    assert (await recorder.until(3))[2:] == ["second"]


async def test_notices_of_a_busy_writer_go_out_together(feeds: Feeds) -> None:
    first_key = await leased(feeds.db, "video_first", "first")
    second_keys = [await leased(feeds.db, f"video_{n}", "second") for n in range(2)]
    recorder = await feeds.record()
    writer, _ = feeds.start("writer", spacing=0.5)

    writer.announce({first_key})  # at once
    await recorder.until(1)
    # Within the spacing: held, then sent in one go, one notice for the holder of both.
    writer.announce({second_keys[0]})
    writer.announce({second_keys[1]})
    writer.announce({first_key})
    names = await recorder.until(3)
    writer.announce({first_key})
    names = await recorder.until(4)
    assert names[0] == "first"
    assert sorted(names[1:3]) == ["first", "second"]
    assert names[3] == "first"


async def test_a_dropped_listener_reconnects_and_says_to_read_again(feeds: Feeds, url: str) -> None:
    key = await leased(feeds.db, "video_1", "follower")
    feed, heard = feeds.start("follower")
    writer, _ = feeds.start("writer")
    await heard.until(1)
    statements = feed.statements

    admin = await asyncpg.connect(url)
    try:
        dropped = await admin.fetchval(
            "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE application_name = $1 AND datname = current_database()",
            APPLICATION_NAME,
        )
    finally:
        await admin.close()
    assert dropped == 2  # the follower's and the writer's

    # Back: told to read what changed while it was away, and listening again.
    await heard.until(2)
    assert feed.statements > statements  # a new LISTEN
    writer.announce({key})
    await heard.until(3)


class Proxy:
    """A TCP relay to the server that can go silent: the connections it relays stay open but
    nothing passes any more, as when a network drops a connection without a word."""

    def __init__(self, port: int) -> None:
        self._port = port
        self._relays: list[asyncio.Task[None]] = []
        self._silenced: list[list[bool]] = []

    async def serve(self, stack: AsyncExitStack) -> int:
        server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        stack.push_async_callback(self._close, server)
        return int(server.sockets[0].getsockname()[1])

    def silence(self) -> None:
        for silent in self._silenced:
            silent[0] = True

    async def _relay(
        self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter
    ) -> None:
        server_in, server_out = await asyncio.open_connection("127.0.0.1", self._port)
        silent = [False]
        self._silenced.append(silent)
        pumps = [
            asyncio.create_task(_pump(client_in, server_out, silent)),
            asyncio.create_task(_pump(server_in, client_out, silent)),
        ]
        self._relays += pumps
        await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
        for writer in (client_out, server_out):
            writer.close()

    async def _close(self, server: asyncio.Server) -> None:
        server.close()
        await cancel_and_wait(*self._relays)


async def _pump(
    source: asyncio.StreamReader, sink: asyncio.StreamWriter, silent: list[bool]
) -> None:
    while data := await source.read(65536):
        if not silent[0]:
            sink.write(data)
            await sink.drain()


async def test_a_listener_cut_off_without_a_word_is_noticed_and_replaced(
    feeds: Feeds, url: str
) -> None:
    key = await leased(feeds.db, "video_1", "follower")
    parts = urlsplit(url)
    assert parts.port is not None
    proxy = Proxy(parts.port)
    port = await proxy.serve(feeds.stack)
    through = urlunsplit(parts._replace(netloc=f"{parts.username}@127.0.0.1:{port}"))
    feed = ChangeFeed(through, feeds.db, "follower", check_every=0.5, backoff=Backoff(0.01))
    heard = Heard()
    feed.start(heard)
    feeds.stack.push_async_callback(feed.stop)
    writer, _ = feeds.start("writer")
    await heard.until(1)

    proxy.silence()

    # Its check went unanswered: a new connection, told to read, and listening again.
    await heard.until(2)
    writer.announce({key})
    await heard.until(3)
