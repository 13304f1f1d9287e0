from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.storage import Database, IntegrityError, SqliteDatabase

from .conftest import OpenDb


async def pragma(db: Database, name: str) -> object:
    row = await db.fetch_one(f"PRAGMA {name}")
    assert row is not None
    return row[0]


async def test_open_creates_the_directory_and_sets_pragmas(
    sqlite_db: SqliteDatabase, db_path: Path
) -> None:
    db = sqlite_db
    assert await asyncio.to_thread(db_path.is_file)
    assert await pragma(db, "journal_mode") == "wal"
    assert await pragma(db, "foreign_keys") == 1
    assert await pragma(db, "busy_timeout") == 5000
    assert await pragma(db, "synchronous") == 1  # NORMAL


async def test_foreign_keys_are_enforced(db: Database) -> None:
    with pytest.raises(IntegrityError, match=r"(?i)foreign key"):
        await db.execute(
            "INSERT INTO videos (id, owner_id, channel_id, kind, parent_id, prompt, model, size,"
            " seconds, status, created_at, updated_at)"
            " VALUES ('v', 1, 1, 'remix', 'no_such_parent', 'p', 'm', 's', '4', 'queued', 0, 0)"
        )


async def test_transaction_commits(db: Database, open_db: OpenDb) -> None:
    async with db.transaction():
        await db.execute("INSERT INTO guild_settings (guild_id) VALUES (?)", (1,))
        await db.execute("INSERT INTO guild_settings (guild_id) VALUES (?)", (2,))
    await db.close()
    async with await open_db() as reopened:
        assert len(await reopened.fetch_all("SELECT guild_id FROM guild_settings")) == 2


async def test_transaction_rolls_back_when_the_block_raises(db: Database) -> None:
    async def insert_then_fail() -> None:
        async with db.transaction():
            await db.execute("INSERT INTO guild_settings (guild_id) VALUES (?)", (1,))
            raise LookupError

    with pytest.raises(LookupError):
        await insert_then_fail()
    assert await db.fetch_all("SELECT guild_id FROM guild_settings") == []
    # The connection is usable again afterwards.
    async with db.transaction():
        await db.execute("INSERT INTO guild_settings (guild_id) VALUES (?)", (1,))


async def test_transactions_do_not_nest(db: Database) -> None:
    async with db.transaction():
        with pytest.raises(RuntimeError, match="nest"):
            async with db.transaction():
                pass


async def test_concurrent_transactions_do_not_interleave(db: Database) -> None:
    await db.execute("INSERT INTO guild_settings (guild_id, daily_seconds_per_user) VALUES (1, 0)")
    log: list[tuple[str, int]] = []

    async def increment(task: int) -> None:
        async with db.transaction():
            log.append(("begin", task))
            row = await db.fetch_one("SELECT daily_seconds_per_user FROM guild_settings")
            assert row is not None
            await asyncio.sleep(0)  # give every other task the chance to cut in
            await db.execute("UPDATE guild_settings SET daily_seconds_per_user = ?", (row[0] + 1,))
            log.append(("end", task))

    await asyncio.gather(*(increment(task) for task in range(10)))

    row = await db.fetch_one("SELECT daily_seconds_per_user FROM guild_settings")
    assert row is not None
    assert row[0] == 10  # no lost update
    for begin, end in zip(log[::2], log[1::2], strict=True):
        assert (begin[0], end[0], begin[1]) == ("begin", "end", end[1])


async def test_a_statement_from_another_task_waits_outside_the_transaction(
    sqlite_db: SqliteDatabase,
) -> None:
    # PostgreSQL runs it at once on another connection of the pool; SQLite has only the one.
    db = sqlite_db
    inside = asyncio.Event()
    release = asyncio.Event()

    async def failing_transaction() -> None:
        async with db.transaction():
            await db.execute("INSERT INTO guild_settings (guild_id) VALUES (1)")
            inside.set()
            await release.wait()
            raise LookupError

    transaction = asyncio.create_task(failing_transaction())
    await inside.wait()
    statement = asyncio.create_task(db.execute("INSERT INTO guild_settings (guild_id) VALUES (2)"))
    for _ in range(10):
        await asyncio.sleep(0)
    assert not statement.done()  # held back by the open transaction

    release.set()
    with pytest.raises(LookupError):
        await transaction
    await statement
    # Had it run inside the transaction, its row would have been rolled back too.
    assert [tuple(row) for row in await db.fetch_all("SELECT guild_id FROM guild_settings")] == [
        (2,)
    ]
