from __future__ import annotations

import pytest

from bot.storage import CharacterRepository, CharacterRow, Database

from .helpers import CREATED_AT, GUILD, MEMBER, OWNER


@pytest.fixture
def characters(db: Database) -> CharacterRepository:
    return CharacterRepository(db)


async def test_insert_and_visible_to_the_owner_only(characters: CharacterRepository) -> None:
    row = await characters.insert(
        "char_1", owner_id=OWNER, guild_id=GUILD, name="Captain Whiskers", created_at=CREATED_AT
    )
    assert row == CharacterRow(1, "char_1", OWNER, GUILD, "Captain Whiskers", CREATED_AT)
    assert await characters.visible("char_1", OWNER) == row
    assert await characters.visible("#1", OWNER) == row
    assert await characters.visible("#1", MEMBER) is None
    assert await characters.visible("char_1", MEMBER) is None
    assert await characters.visible("char_unknown", OWNER) is None


async def test_list_by_owner_is_newest_first_and_pages(characters: CharacterRepository) -> None:
    for number in range(3):
        await characters.insert(
            f"char_{number}",
            owner_id=OWNER,
            guild_id=None,
            name=f"character {number}",
            created_at=CREATED_AT + number,
        )
    await characters.insert(
        "char_member", owner_id=MEMBER, guild_id=GUILD, name="theirs", created_at=CREATED_AT
    )

    first_page = await characters.list_by_owner(OWNER, limit=2)
    second_page = await characters.list_by_owner(OWNER, limit=2, offset=2)
    assert [row.id for row in first_page + second_page] == ["char_2", "char_1", "char_0"]
    assert [row.id for row in await characters.list_by_owner(MEMBER)] == ["char_member"]
    assert await characters.list_by_owner(OWNER + 99) == []
