from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot.storage import Database, DatabaseTooNewError, MigrationError, VideoRepository
from bot.storage.migrate import load_migrations, package_migrations

from .helpers import OWNER, add_video


@pytest.fixture
def migrations(tmp_path: Path) -> Path:
    """A migrations directory holding a copy of the package's first migration."""
    directory = tmp_path / "migrations"
    directory.mkdir()
    initial = package_migrations().joinpath("0001_initial.sql").read_text(encoding="utf-8")
    (directory / "0001_initial.sql").write_text(initial, encoding="utf-8")
    return directory


def user_version(path: Path) -> int:
    with sqlite3.connect(path) as connection:
        version: int = connection.execute("PRAGMA user_version").fetchone()[0]
    connection.close()
    return version


def tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as connection:
        rows = connection.execute("SELECT name FROM sqlite_schema WHERE type = 'table'").fetchall()
    connection.close()
    return {name for (name,) in rows}


async def test_a_new_database_gets_every_migration(db: Database, db_path: Path) -> None:
    await db.close()
    assert user_version(db_path) == len(load_migrations()) >= 1
    assert {"videos", "characters", "guild_settings"} <= tables(db_path)


async def test_an_older_database_is_migrated_without_losing_rows(
    db_path: Path, migrations: Path
) -> None:
    async with await Database.open(db_path, migrations=migrations) as db:
        videos = VideoRepository(db)
        parent = await add_video(videos, "video_1")
        child = await add_video(videos, "video_2", kind="remix", parent_id="video_1")
    assert user_version(db_path) == 1

    (migrations / "0002_video_notes.sql").write_text(
        "ALTER TABLE videos ADD COLUMN note TEXT;\nCREATE INDEX videos_model ON videos (model);\n",
        encoding="utf-8",
    )
    async with await Database.open(db_path, migrations=migrations) as db:
        videos = VideoRepository(db)
        assert await videos.get("video_1") == parent
        assert await videos.get("video_2") == child
        assert await db.fetch_all("SELECT note FROM videos WHERE note IS NOT NULL") == []
    assert user_version(db_path) == 2

    # Opening again applies nothing twice.
    async with await Database.open(db_path, migrations=migrations) as db:
        assert await VideoRepository(db).count_unfinished_for_owner(OWNER) == 2


async def test_a_failed_migration_rolls_back_entirely(db_path: Path, migrations: Path) -> None:
    async with await Database.open(db_path, migrations=migrations):
        pass
    (migrations / "0002_broken.sql").write_text(
        "CREATE TABLE half_done (x INTEGER);\nINSERT INTO no_such_table VALUES (1);\n",
        encoding="utf-8",
    )
    with pytest.raises(MigrationError, match=r"0002_broken\.sql.*no_such_table"):
        await Database.open(db_path, migrations=migrations)
    assert user_version(db_path) == 1
    assert "half_done" not in tables(db_path)


async def test_a_database_newer_than_the_code_is_refused(db_path: Path, migrations: Path) -> None:
    async with await Database.open(db_path, migrations=migrations):
        pass
    with sqlite3.connect(db_path) as connection:
        connection.execute("PRAGMA user_version = 7")
    connection.close()
    with pytest.raises(DatabaseTooNewError, match=r"version 7 .* only up to 1"):
        await Database.open(db_path, migrations=migrations)
    assert user_version(db_path) == 7


@pytest.mark.parametrize(
    ("names", "message"),
    [
        (["0001_a.sql", "0003_c.sql"], "without gaps"),
        (["0002_b.sql"], "without gaps"),
        (["0001_a.sql", "0001_b.sql"], "also 0001_"),
        (["0001_a.sql", "2_b.sql"], "NNNN_lowercase_name"),
        (["0001_a.sql", "0002-b.sql"], "NNNN_lowercase_name"),
    ],
)
def test_malformed_migration_files_are_refused(
    tmp_path: Path, names: list[str], message: str
) -> None:
    for name in names:
        (tmp_path / name).write_text("SELECT 1;", encoding="utf-8")
    with pytest.raises(MigrationError, match=message):
        load_migrations(tmp_path)


def test_other_files_next_to_migrations_are_ignored(tmp_path: Path) -> None:
    (tmp_path / "0001_a.sql").write_text("SELECT 1;", encoding="utf-8")
    (tmp_path / "README.md").write_text("notes", encoding="utf-8")
    assert [migration.name for migration in load_migrations(tmp_path)] == ["0001_a.sql"]
