from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.storage import Database, VideoRepository

from .helpers import Clock


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    # A directory that does not exist yet: opening creates it.
    return tmp_path / "data" / "videobot.sqlite3"


@pytest.fixture
async def db(db_path: Path) -> AsyncIterator[Database]:
    async with await Database.open(db_path) as database:
        yield database


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def videos(db: Database, clock: Clock) -> VideoRepository:
    return VideoRepository(db, clock=clock)
