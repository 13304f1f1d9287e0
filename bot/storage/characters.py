"""Characters made from uploaded clips. Each belongs to its creator and is shown only to them."""

# SQL here is composed from constants only; every value goes in as a `?` parameter.
# ruff: noqa: S608

from __future__ import annotations

from dataclasses import astuple, dataclass, replace

from bot.storage.db import Database, Row, column_list, keyed_insert_sql
from bot.storage.videos import REF_PREFIX, parse_ref
from bot.videoapi.providers import DEFAULT_PROVIDER


@dataclass(frozen=True, slots=True)
class CharacterRow:
    key: int  # the bot's own short handle, for autocomplete
    id: str  # the provider's id, opaque
    owner_id: int
    guild_id: int | None  # where it was made; None in a DM
    name: str
    created_at: int
    # The provider that made it: only it knows the id.
    provider: str = DEFAULT_PROVIDER

    @property
    def ref(self) -> str:
        return f"{REF_PREFIX}{self.key}"


_SELECT = f"SELECT {column_list(CharacterRow)} FROM characters"
_GET_VISIBLE = f"{_SELECT} WHERE id = ? AND owner_id = ?"
_GET_VISIBLE_BY_KEY = f"{_SELECT} WHERE key = ? AND owner_id = ?"
_LIST_BY_OWNER = f"{_SELECT} WHERE owner_id = ? ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?"


def _row(row: Row) -> CharacterRow:
    return CharacterRow(*row)


class CharacterRepository:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._insert_sql = keyed_insert_sql(db, "characters", CharacterRow)

    async def insert(
        self,
        character_id: str,
        *,
        owner_id: int,
        guild_id: int | None,
        name: str,
        created_at: int,
        provider: str = DEFAULT_PROVIDER,
    ) -> CharacterRow:
        # Plain values rather than the API's Character: its id and name are optional there.
        row = CharacterRow(0, character_id, owner_id, guild_id, name, created_at, provider)
        inserted = await self._db.fetch_one(self._insert_sql, astuple(row)[1:])
        assert inserted is not None  # RETURNING always answers for a row it inserted
        return replace(row, key=int(inserted[0]))

    async def visible(self, ref: str, user_id: int) -> CharacterRow | None:
        """The character (by `#key` or the provider's id) if `user_id` made it.

        Unknown and foreign references alike give None.
        """
        key = parse_ref(ref)
        if key is not None:
            row = await self._db.fetch_one(_GET_VISIBLE_BY_KEY, (key, user_id))
        else:
            row = await self._db.fetch_one(_GET_VISIBLE, (ref.strip(), user_id))
        return _row(row) if row else None

    async def list_by_owner(
        self, owner_id: int, *, limit: int = 25, offset: int = 0
    ) -> list[CharacterRow]:
        """Newest first."""
        rows = await self._db.fetch_all(_LIST_BY_OWNER, (owner_id, limit, offset))
        return [_row(row) for row in rows]
