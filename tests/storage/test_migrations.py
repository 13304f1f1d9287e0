from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot.storage import (
    DatabaseTooNewError,
    MigrationError,
    SqliteDatabase,
    VideoRepository,
)
from bot.storage.migrate import load_migrations

from .helpers import OWNER, add_video


def copy_migrations(tmp_path: Path, upto: int) -> Path:
    """A migrations directory holding a copy of the package's first `upto` migrations."""
    directory = tmp_path / "migrations"
    directory.mkdir()
    for migration in load_migrations("sqlite")[:upto]:
        (directory / migration.name).write_text(migration.sql, encoding="utf-8")
    return directory


@pytest.fixture
def migrations(tmp_path: Path) -> Path:
    """A copy of the package's first migration, to which a test adds a second."""
    return copy_migrations(tmp_path, 1)


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


async def test_a_new_database_gets_every_migration(
    sqlite_db: SqliteDatabase, db_path: Path
) -> None:
    await sqlite_db.close()
    assert user_version(db_path) == len(load_migrations("sqlite")) >= 1
    assert {"videos", "characters", "guild_settings"} <= tables(db_path)


async def test_an_older_database_is_migrated_without_losing_rows(
    db_path: Path, tmp_path: Path
) -> None:
    migrations = copy_migrations(tmp_path, len(load_migrations("sqlite")))
    async with await SqliteDatabase.open(db_path, migrations=migrations) as db:
        videos = VideoRepository(db)
        parent = await add_video(videos, "video_1")
        child = await add_video(videos, "video_2", kind="remix", parent_id="video_1")
    known = len(load_migrations("sqlite"))
    assert user_version(db_path) == known

    (migrations / f"{known + 1:04d}_video_notes.sql").write_text(
        "ALTER TABLE videos ADD COLUMN note TEXT;\nCREATE INDEX videos_model ON videos (model);\n",
        encoding="utf-8",
    )
    async with await SqliteDatabase.open(db_path, migrations=migrations) as db:
        videos = VideoRepository(db)
        assert await videos.get("video_1") == parent
        assert await videos.get("video_2") == child
        assert await db.fetch_all("SELECT note FROM videos WHERE note IS NOT NULL") == []
    assert user_version(db_path) == known + 1

    # Opening again applies nothing twice.
    async with await SqliteDatabase.open(db_path, migrations=migrations) as db:
        assert len(await VideoRepository(db).pending()) == 2


async def test_a_failed_migration_rolls_back_entirely(db_path: Path, migrations: Path) -> None:
    async with await SqliteDatabase.open(db_path, migrations=migrations):
        pass
    (migrations / "0002_broken.sql").write_text(
        "CREATE TABLE half_done (x INTEGER);\nINSERT INTO no_such_table VALUES (1);\n",
        encoding="utf-8",
    )
    with pytest.raises(MigrationError, match=r"0002_broken\.sql.*no_such_table"):
        await SqliteDatabase.open(db_path, migrations=migrations)
    assert user_version(db_path) == 1
    assert "half_done" not in tables(db_path)


async def test_a_database_newer_than_the_code_is_refused(db_path: Path, migrations: Path) -> None:
    async with await SqliteDatabase.open(db_path, migrations=migrations):
        pass
    with sqlite3.connect(db_path) as connection:
        connection.execute("PRAGMA user_version = 7")
    connection.close()
    with pytest.raises(DatabaseTooNewError, match=r"version 7 .* only up to 1"):
        await SqliteDatabase.open(db_path, migrations=migrations)
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


async def test_rows_from_before_keys_get_keys_and_new_rows_follow_them(
    db_path: Path, tmp_path: Path
) -> None:
    migrations = copy_migrations(tmp_path, 3)
    async with await SqliteDatabase.open(db_path, migrations=migrations) as db:
        for number, video_id in enumerate(("video_a", "video_b")):
            await db.execute(
                "INSERT INTO videos (id, owner_id, channel_id, kind, prompt, model, size, seconds,"
                " status, created_at, updated_at) VALUES (?, ?, 1, 'create', 'a cat', 'sora-2',"
                " '720x1280', '4', 'completed', ?, 0)",
                (video_id, OWNER, 1_700_000_000 + number),
            )
    async with await SqliteDatabase.open(db_path) as db:
        videos = VideoRepository(db)
        old = [await videos.get(video_id) for video_id in ("video_a", "video_b")]
        assert [row.key for row in old if row is not None] == [1, 2]
        new = await add_video(videos, "video_c")
        assert new.key == 3
        assert await videos.visible("#2", OWNER, None) == old[1]
