"""Opening the database a deployment asked for: PostgreSQL or SQLite, schema brought up to date."""

from __future__ import annotations

import os
from importlib.resources.abc import Traversable

from bot.storage.db import Database


async def open_database(
    url: str | None,
    path: str | os.PathLike[str],
    *,
    migrations: Traversable | None = None,
) -> Database:
    """PostgreSQL when `url` (DATABASE_URL) is set, else the SQLite file at `path`.

    Either way the schema is brought up to date first. `migrations` replaces the package's own
    migration files of that backend, for tests.
    """
    if url:
        from bot.storage.postgres import PostgresDatabase

        return await PostgresDatabase.open(url, migrations=migrations)
    from bot.storage.sqlite import SqliteDatabase

    return await SqliteDatabase.open(path, migrations=migrations)
