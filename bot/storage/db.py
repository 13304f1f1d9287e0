"""The seam between the repositories and a database: one protocol, two backends.

Repositories write their SQL once, as named constants with `?` parameters, in the dialect both
SQLite and PostgreSQL run (COALESCE, ON CONFLICT, RETURNING, CAST for a parameter tested only
for NULL). What does differ lives in the backend's own module, once: `bot.storage.sqlite`
(aiosqlite, one connection, `BEGIN IMMEDIATE`, `PRAGMA user_version`) and `bot.storage.postgres`
(asyncpg, a pool, `$1..$n`, one writer lock per transaction, a `schema_version` table).
`bot.storage.backends` picks one of them; this module imports neither, so neither imports it back.
"""

# SQL here is composed from constants only; every value goes in as a `?` parameter.
# ruff: noqa: S608

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import fields
from types import TracebackType
from typing import Any, Protocol, Self

Params = Sequence[Any]


class Row(Protocol):
    """A result row: `sqlite3.Row` or `asyncpg.Record`, read by position."""

    def __getitem__(self, index: int, /) -> Any: ...

    def __iter__(self) -> Iterator[Any]: ...

    def __len__(self) -> int: ...


class IntegrityError(Exception):
    """A constraint refused a write (CHECK, UNIQUE, FOREIGN KEY), whichever the backend."""


class ClosedOnExit(ABC):
    """`async with` closes it: what every database (and a wrapper of one) does on leaving."""

    @abstractmethod
    async def close(self) -> None: ...

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()


class Database(Protocol):
    """What every repository needs of a database."""

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement; returns the number of rows it changed."""
        ...

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]: ...

    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        """The first row of a query meant to return at most one."""
        ...

    def transaction(self) -> AbstractAsyncContextManager[None]:
        """A block whose statements commit together, or not at all when it raises.

        One transaction at a time writes, across every process on the database, so a block
        that reads and then writes sees no other writer in between. Does not nest.
        """
        ...

    def next_key(self, table: str) -> str:
        """An SQL expression for the next free `key` of `table`."""
        ...

    @property
    def shared(self) -> bool:
        """Whether other bot processes may use this database at the same time."""
        ...

    async def close(self) -> None: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...


def column_list(row_type: type[Any]) -> str:
    """The SQL column list of a row dataclass, whose fields are named and ordered as columns.

    Selecting named columns rather than `*` keeps rows readable after a migration adds a column.
    """
    return ", ".join(field.name for field in fields(row_type))


def keyed_insert_sql(db: Database, table: str, row_type: type[Any]) -> str:
    """An INSERT of a row whose first field, `key`, takes the next free number; returns it.

    Run with every value but the key (`astuple(row)[1:]`).
    """
    names = [field.name for field in fields(row_type)]
    if names[0] != "key":
        raise TypeError(f"{row_type.__name__} must have `key` as its first field")
    placeholders = ", ".join("?" for _ in names[1:])
    return (
        f"INSERT INTO {table} ({', '.join(names)}) VALUES ({db.next_key(table)}, {placeholders})"
        " RETURNING key"
    )
