"""Finding the schema migrations: numbered SQL files, `NNNN_name.sql`, applied in order.

Each backend has its own folder, `migrations/sqlite/` and `migrations/postgres/`, with the same
file names: adding a migration is adding a file to both. Its number becomes the database's
schema version (`PRAGMA user_version` in SQLite, the `schema_version` table in PostgreSQL).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import Literal

Backend = Literal["sqlite", "postgres"]

_FILENAME = re.compile(r"(\d{4})_[a-z0-9_]+\.sql")


class MigrationError(RuntimeError):
    """The migrations are malformed, or one of them failed and was rolled back."""


class DatabaseTooNewError(RuntimeError):
    """The database was written by a newer version of the bot than this one."""


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


def package_migrations(backend: Backend) -> Traversable:
    return files("bot.storage").joinpath("migrations", backend)


def load_migrations(backend: Backend, source: Traversable | None = None) -> list[Migration]:
    """Every migration in `source` (the package's own for `backend` by default), numbered 1 to N
    without gaps.

    A stray or misnumbered `.sql` file is an error rather than skipped: a migration silently
    left out would leave the schema behind the code.
    """
    found: dict[int, Migration] = {}
    for entry in (source or package_migrations(backend)).iterdir():
        if not entry.name.endswith(".sql"):
            continue
        match = _FILENAME.fullmatch(entry.name)
        if match is None:
            raise MigrationError(f"{entry.name}: migrations are named NNNN_lowercase_name.sql")
        version = int(match.group(1))
        if version in found:
            raise MigrationError(f"{entry.name}: version {version} is also {found[version].name}")
        found[version] = Migration(version, entry.name, entry.read_text(encoding="utf-8"))
    versions = sorted(found)
    if versions != list(range(1, len(versions) + 1)):
        raise MigrationError(f"migration versions must run 1, 2, 3... without gaps: {versions}")
    return [found[version] for version in versions]


def to_apply(migrations: list[Migration], current: int) -> list[Migration]:
    """The migrations a database at schema version `current` still needs."""
    known = len(migrations)
    if current > known:
        raise DatabaseTooNewError(
            f"the database is at schema version {current} but this version of the bot knows "
            f"only up to {known}; run a newer bot or restore a backup"
        )
    return migrations[current:]
