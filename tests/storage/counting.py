"""A database that counts the statements sent to it: what lease upkeep costs, in a test
(tests/storage/test_leases.py) and in bench/shards.py."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager

from bot.storage.db import ClosedOnExit, Database, Params, Row


class CountingDatabase(ClosedOnExit):
    """The Database protocol around another one, counting every statement."""

    def __init__(self, inner: Database) -> None:
        self.inner = inner
        self.queries = 0
        self.shared = inner.shared

    async def execute(self, sql: str, params: Params = ()) -> int:
        self.queries += 1
        return await self.inner.execute(sql, params)

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        self.queries += 1
        return await self.inner.fetch_all(sql, params)

    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        self.queries += 1
        return await self.inner.fetch_one(sql, params)

    def transaction(self) -> AbstractAsyncContextManager[None]:
        return self.inner.transaction()

    def next_key(self, table: str) -> str:
        return self.inner.next_key(table)

    async def close(self) -> None:
        await self.inner.close()
