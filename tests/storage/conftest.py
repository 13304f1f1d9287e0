"""Every storage test that takes `db` runs twice: on a SQLite file and on a PostgreSQL database
of the real server (tests/postgres.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from bot.storage import Database, SqliteDatabase, VideoRepository
from bot.storage.postgres import PostgresDatabase

from .helpers import Clock

# Opens the test's database (again, after a close: a restart).
OpenDb = Callable[[], Awaitable[Database]]


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    # A directory that does not exist yet: opening creates it.
    return tmp_path / "data" / "videobot.sqlite3"


@pytest.fixture(params=["sqlite", "postgres"])
async def open_db(request: pytest.FixtureRequest, db_path: Path) -> OpenDb:
    if request.param == "sqlite":
        return lambda: SqliteDatabase.open(db_path)
    url = await request.getfixturevalue("postgres").new_database()
    return lambda: PostgresDatabase.open(url)


@pytest.fixture
async def db(open_db: OpenDb) -> AsyncIterator[Database]:
    async with await open_db() as database:
        yield database


@pytest.fixture
async def sqlite_db(db_path: Path) -> AsyncIterator[SqliteDatabase]:
    """For what only SQLite has: pragmas, query plans, the file itself."""
    async with await SqliteDatabase.open(db_path) as database:
        yield database


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def videos(db: Database, clock: Clock) -> VideoRepository:
    return VideoRepository(db, clock=clock)
