"""Characters made from uploaded clips. Each belongs to its creator and is shown only to them."""

# SQL here is composed from constants only; every value goes in as a `?` parameter.
# ruff: noqa: S608

from __future__ import annotations

import sqlite3
from dataclasses import astuple, dataclass

from bot.storage.db import Database, column_list, insert_sql


@dataclass(frozen=True, slots=True)
class CharacterRow:
    id: str
    owner_id: int
    guild_id: int | None  # where it was made; None in a DM
    name: str
    created_at: int


_INSERT = insert_sql("characters", CharacterRow)
_SELECT = f"SELECT {column_list(CharacterRow)} FROM characters"
_GET_VISIBLE = f"{_SELECT} WHERE id = ? AND owner_id = ?"
_LIST_BY_OWNER = f"{_SELECT} WHERE owner_id = ? ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?"


def _row(row: sqlite3.Row) -> CharacterRow:
    return CharacterRow(*row)


class CharacterRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def insert(
        self, character_id: str, *, owner_id: int, guild_id: int | None, name: str, created_at: int
    ) -> CharacterRow:
        # Plain values rather than the API's Character: its id and name are optional there.
        row = CharacterRow(character_id, owner_id, guild_id, name, created_at)
        await self._db.execute(_INSERT, astuple(row))
        return row

    async def visible(self, character_id: str, user_id: int) -> CharacterRow | None:
        """The character if `user_id` made it; unknown and foreign ids alike give None."""
        row = await self._db.fetch_one(_GET_VISIBLE, (character_id, user_id))
        return _row(row) if row else None

    async def list_by_owner(
        self, owner_id: int, *, limit: int = 25, offset: int = 0
    ) -> list[CharacterRow]:
        """Newest first."""
        rows = await self._db.fetch_all(_LIST_BY_OWNER, (owner_id, limit, offset))
        return [_row(row) for row in rows]
