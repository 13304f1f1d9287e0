"""The embedded backend: one aiosqlite connection, pragmas, serialized statements, migrations."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import aiosqlite

from bot.storage.db import ClosedOnExit, IntegrityError, Params, Row
from bot.storage.migrate import Migration, MigrationError, load_migrations, to_apply

BUSY_TIMEOUT_MS = 5_000

# WAL lets readers (backups, the sqlite3 shell) work while the bot writes; in WAL mode NORMAL
# sync loses at most the last commits on power loss, never consistency.
_PRAGMAS = (
    "PRAGMA journal_mode = WAL",
    "PRAGMA foreign_keys = ON",
    f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}",
    "PRAGMA synchronous = NORMAL",
)


@contextmanager
def _integrity() -> Iterator[None]:
    try:
        yield
    except sqlite3.IntegrityError as error:
        raise IntegrityError(str(error)) from error


class SqliteDatabase(ClosedOnExit):
    """One aiosqlite connection shared by every task; the only process on its file.

    Statements and transactions are serialized by one lock: on a single connection a statement
    from another task would otherwise run inside (and be rolled back with) someone's transaction.
    Inside `transaction()` only the task that opened it may use the database; a task it spawns
    and awaits there would wait for the lock forever.
    """

    shared = False

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._connection = connection
        self._lock = asyncio.Lock()
        self._transaction_task: asyncio.Task[Any] | None = None

    @classmethod
    async def open(
        cls, path: str | os.PathLike[str], *, migrations: Traversable | None = None
    ) -> SqliteDatabase:
        """Open (creating if needed) the database at `path` and bring its schema up to date.

        `migrations` replaces the package's own migration files, for tests.
        """
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: no implicit BEGINs; transactions are only those we open.
        connection = await aiosqlite.connect(path, isolation_level=None)
        try:
            connection.row_factory = sqlite3.Row
            for pragma in _PRAGMAS:
                await connection.execute(pragma)
            await _migrate(connection, load_migrations("sqlite", migrations))
        except BaseException:
            await connection.close()
            raise
        return cls(connection)

    def next_key(self, table: str) -> str:
        # The one connection serializes statements, so two inserts never take the same number.
        return f"(SELECT COALESCE(MAX(key), 0) + 1 FROM {table})"  # noqa: S608 - our own table

    async def close(self) -> None:
        # Taking the lock lets a transaction in flight finish instead of being rolled back.
        async with self._lock:
            await self._connection.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK when the block raises. Does not nest."""
        if self._in_own_transaction():
            raise RuntimeError("transactions do not nest")
        async with self._lock:
            self._transaction_task = asyncio.current_task()
            try:
                # IMMEDIATE takes the write lock now, so a read-then-write block cannot fail
                # halfway with SQLITE_BUSY against another process.
                await self._connection.execute("BEGIN IMMEDIATE")
                yield
                await self._connection.commit()
            except BaseException:
                # Also after a cancelled BEGIN or COMMIT: the worker thread runs them in order,
                # and rollback() does nothing when no transaction is open.
                await self._connection.rollback()
                raise
            finally:
                self._transaction_task = None

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement; returns the number of rows it changed."""
        with _integrity():
            async with self._exclusive(), self._connection.execute(sql, params) as cursor:
                return cursor.rowcount

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        with _integrity():
            async with self._exclusive():
                return list(await self._connection.execute_fetchall(sql, params))

    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        """The first row of a query meant to return at most one."""
        rows = await self.fetch_all(sql, params)
        return rows[0] if rows else None

    def _in_own_transaction(self) -> bool:
        return self._transaction_task is not None and (
            self._transaction_task is asyncio.current_task()
        )

    @asynccontextmanager
    async def _exclusive(self) -> AsyncIterator[None]:
        if self._in_own_transaction():
            yield
            return
        async with self._lock:
            yield


async def _user_version(connection: aiosqlite.Connection) -> int:
    async with connection.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    assert row is not None  # PRAGMA user_version always answers
    return int(row[0])


async def _migrate(connection: aiosqlite.Connection, migrations: list[Migration]) -> None:
    for migration in to_apply(migrations, await _user_version(connection)):
        # executescript() commits any open transaction before it runs, so the transaction has
        # to be part of the script. PRAGMA takes no parameters; the version is our own integer.
        script = (
            f"BEGIN IMMEDIATE;\n{migration.sql}\n;\n"
            f"PRAGMA user_version = {migration.version:d};\nCOMMIT;"
        )
        try:
            await connection.executescript(script)
        except sqlite3.Error as error:
            await connection.rollback()
            raise MigrationError(f"migration {migration.name} failed: {error}") from error
