from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.simulator import ManualClock
from bot.storage import ContestRepository, SqliteDatabase


@pytest.fixture
async def contests(tmp_path: Path) -> AsyncIterator[ContestRepository]:
    async with await SqliteDatabase.open(tmp_path / "videobot.sqlite3") as db:
        yield ContestRepository(db)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()
