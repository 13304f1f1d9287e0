"""The shared backend: PostgreSQL through an asyncpg pool, for several bot processes at once.

Everything PostgreSQL needs differently from the repositories' SQL is here: `?` becomes `$n`,
a transaction takes one database-wide writer lock (what `BEGIN IMMEDIATE` gives SQLite), keys
come from identity sequences, and the schema version is a row in `schema_version`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from importlib.resources.abc import Traversable
from typing import Any

import asyncpg

from bot.storage.db import ClosedOnExit, IntegrityError, Params, Row
from bot.storage.migrate import MigrationError, load_migrations, to_apply

# Transactions hold this advisory lock until they end: one writing block at a time across every
# process, so a read-then-write block (a count under a limit, a vote under a budget) sees no
# other block's write in between, as under SQLite's single writer. Single statements do not
# take it: each is atomic on its own. The number is ours, any 64-bit constant would do.
_WRITER_LOCK = 0x766964656F626F74  # "videobot"
_MIGRATION_LOCK = _WRITER_LOCK + 1

_SCHEMA_VERSION = (
    "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);"
    "INSERT INTO schema_version (version) SELECT 0"
    " WHERE NOT EXISTS (SELECT 1 FROM schema_version)"
)

_SET_VERSION = "UPDATE schema_version SET version = $1"

# A `?` outside quotes: the repositories write no `?` in a string literal or a name, but a
# quoted one is left alone all the same.
_PLACEHOLDER = re.compile(r"""('(?:[^']|'')*'|"(?:[^"]|"")*")|\?""")


@functools.lru_cache(maxsize=1024)
def translate(sql: str) -> str:
    """The repositories' `?` parameters as PostgreSQL's `$1..$n`."""
    count = 0

    def number(match: re.Match[str]) -> str:
        nonlocal count
        if match.group(1) is not None:
            return match.group(1)
        count += 1
        return f"${count}"

    return _PLACEHOLDER.sub(number, sql)


def _changed(status: str) -> int:
    """Rows a command changed, from its tag: `UPDATE 3`, `INSERT 0 1`, `DELETE 0`."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0


# A process stopped inside a transaction (SIGSTOP, a frozen VM) would keep its row locks until
# its connection died, and the processes taking its jobs over would wait on them: the server
# ends a transaction idle this long (the bot's own never wait between their statements).
_SESSION = {"idle_in_transaction_session_timeout": "5000"}


@contextmanager
def _integrity() -> Iterator[None]:
    try:
        yield
    except asyncpg.IntegrityConstraintViolationError as error:
        raise IntegrityError(str(error)) from error


class PostgresDatabase(ClosedOnExit):
    """A pool of connections; a transaction keeps one connection for the task that opened it.

    As with SQLite, inside `transaction()` only the task that opened it may use the database:
    a task it spawns inherits the transaction's connection, which runs one query at a time.
    """

    shared = True

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self._in_transaction: ContextVar[asyncpg.Connection | None] = ContextVar(
            f"videobot-transaction-{id(self)}", default=None
        )

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        migrations: Traversable | None = None,
        min_size: int = 1,
        max_size: int = 10,
    ) -> PostgresDatabase:
        """Connect a pool to `url` and bring the schema up to date (once, whoever races)."""
        pool = await asyncpg.create_pool(
            url, min_size=min_size, max_size=max_size, server_settings=_SESSION
        )
        try:
            await _migrate(pool, migrations)
        except BaseException:
            await pool.close()
            raise
        return cls(pool)

    def next_key(self, table: str) -> str:
        return f"nextval(pg_get_serial_sequence('{table}', 'key'))"

    async def close(self) -> None:
        await self._pool.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        """BEGIN, the writer lock, ... COMMIT; ROLLBACK when the block raises. Does not nest."""
        if self._in_transaction.get() is not None:
            raise RuntimeError("transactions do not nest")
        async with self._pool.acquire() as connection, connection.transaction():
            await connection.execute("SELECT pg_advisory_xact_lock($1)", _WRITER_LOCK)
            token = self._in_transaction.set(connection)
            try:
                with _integrity():
                    yield
            finally:
                self._in_transaction.reset(token)

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement; returns the number of rows it changed."""
        async with self._connection() as connection:
            return _changed(await connection.execute(translate(sql), *params))

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        async with self._connection() as connection:
            rows: list[Row] = await connection.fetch(translate(sql), *params)
            return rows

    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        """The first row of a query meant to return at most one."""
        async with self._connection() as connection:
            row: Row | None = await connection.fetchrow(translate(sql), *params)
            return row

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[Any]:
        with _integrity():
            current = self._in_transaction.get()
            if current is not None:
                yield current
                return
            async with self._pool.acquire() as connection:
                yield connection


async def _migrate(pool: asyncpg.Pool, source: Traversable | None) -> None:
    migrations = load_migrations("postgres", source)
    async with pool.acquire() as connection:
        # Processes starting together: the first migrates, the others wait on the lock and
        # then find each migration done.
        async with connection.transaction():
            await connection.execute("SELECT pg_advisory_xact_lock($1)", _MIGRATION_LOCK)
            await connection.execute(_SCHEMA_VERSION)
            current = await _version(connection)
        for migration in to_apply(migrations, current):
            try:
                async with connection.transaction():
                    await connection.execute("SELECT pg_advisory_xact_lock($1)", _MIGRATION_LOCK)
                    if await _version(connection) >= migration.version:
                        continue
                    await connection.execute(migration.sql)
                    await connection.execute(_SET_VERSION, migration.version)
            except asyncpg.PostgresError as error:
                raise MigrationError(f"migration {migration.name} failed: {error}") from error


async def _version(connection: Any) -> int:
    return int(await connection.fetchval("SELECT version FROM schema_version"))
