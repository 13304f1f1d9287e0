"""PostgreSQL's migrations: the same files as SQLite's, a schema_version row, one migrator."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import pytest

from bot.storage import DatabaseTooNewError, MigrationError
from bot.storage.migrate import load_migrations
from bot.storage.postgres import PostgresDatabase, translate
from tests.postgres import PostgresServer


async def schema_version(url: str) -> int:
    connection = await asyncpg.connect(url)
    try:
        return int(await connection.fetchval("SELECT version FROM schema_version"))
    finally:
        await connection.close()


def test_both_backends_have_the_same_migrations() -> None:
    names = [migration.name for migration in load_migrations("sqlite")]
    assert names == [migration.name for migration in load_migrations("postgres")]


def test_placeholders_become_numbered_outside_quotes() -> None:
    sql = "SELECT ? , '?' , \"a?\" FROM t WHERE x = ? AND y LIKE ? ESCAPE '\\'"
    assert translate(sql) == (
        "SELECT $1 , '?' , \"a?\" FROM t WHERE x = $2 AND y LIKE $3 ESCAPE '\\'"
    )


async def test_processes_starting_together_migrate_once(postgres: PostgresServer) -> None:
    url = await postgres.new_database()
    opened = await asyncio.gather(*(PostgresDatabase.open(url) for _ in range(3)))
    for db in opened:
        await db.close()
    assert await schema_version(url) == len(load_migrations("postgres"))


async def test_a_failed_migration_rolls_back_entirely(
    postgres: PostgresServer, tmp_path: Path
) -> None:
    url = await postgres.new_database()
    (tmp_path / "0001_fine.sql").write_text("CREATE TABLE fine (x INTEGER);", encoding="utf-8")
    (tmp_path / "0002_broken.sql").write_text(
        "CREATE TABLE half_done (x INTEGER);\nINSERT INTO no_such_table VALUES (1);\n",
        encoding="utf-8",
    )
    with pytest.raises(MigrationError, match=r"0002_broken\.sql.*no_such_table"):
        await PostgresDatabase.open(url, migrations=tmp_path)
    assert await schema_version(url) == 1
    connection = await asyncpg.connect(url)
    try:
        assert await connection.fetchval("SELECT to_regclass('half_done')") is None
        assert await connection.fetchval("SELECT to_regclass('fine')") == "fine"
    finally:
        await connection.close()


async def test_a_database_newer_than_the_code_is_refused(
    postgres: PostgresServer, tmp_path: Path
) -> None:
    url = await postgres.new_database()
    (tmp_path / "0001_fine.sql").write_text("CREATE TABLE fine (x INTEGER);", encoding="utf-8")
    await (await PostgresDatabase.open(url, migrations=tmp_path)).close()
    connection = await asyncpg.connect(url)
    await connection.execute("UPDATE schema_version SET version = 7")
    await connection.close()
    with pytest.raises(DatabaseTooNewError, match=r"version 7 .* only up to 1"):
        await PostgresDatabase.open(url, migrations=tmp_path)
